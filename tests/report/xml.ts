// xml -- a small strict XML 1.0 reader for the JUnit tests: it throws on
// anything not well-formed (unbalanced or crossed tags, duplicate or unquoted
// attributes, a raw "<" or "&" in text or attributes, unknown entities,
// characters XML 1.0 forbids, text outside the root) and returns the element
// tree with entities decoded. No DTDs, no namespaces: JUnit needs neither.

export interface XmlElement {
  name: string;
  attributes: Record<string, string>;
  children: XmlElement[];
  /** Decoded character data directly inside this element. */
  text: string;
}

const NAME = /^[A-Za-z_:][-A-Za-z0-9._:]*/;
const ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };
const FORBIDDEN_CHAR = /[^\t\n\r\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;

function allowedCodePoint(cp: number): boolean {
  return (
    cp === 0x9 ||
    cp === 0xa ||
    cp === 0xd ||
    (cp >= 0x20 && cp <= 0xd7ff) ||
    (cp >= 0xe000 && cp <= 0xfffd) ||
    (cp >= 0x10000 && cp <= 0x10ffff)
  );
}

export function parseXml(source: string): XmlElement {
  let pos = 0;
  const fail = (message: string): never => {
    const before = source.slice(0, pos);
    const line = before.split('\n').length;
    throw new Error(`XML not well-formed at line ${line}: ${message}`);
  };
  const bad = FORBIDDEN_CHAR.exec(source);
  if (bad) {
    pos = bad.index;
    fail(`forbidden character U+${bad[0].codePointAt(0)!.toString(16).padStart(4, '0')}`);
  }

  const decode = (raw: string, inAttribute: boolean): string => {
    if (raw.includes('<')) fail(`raw "<" in ${inAttribute ? 'attribute' : 'text'}`);
    return raw.replace(/&([^;]*);|&/g, (_match, body: string | undefined) => {
      if (body === undefined) return fail('bare "&"');
      if (body.startsWith('#x')) {
        if (!/^#x[0-9a-fA-F]+$/.test(body)) fail(`bad character reference &${body};`);
        const cp = parseInt(body.slice(2), 16);
        if (!allowedCodePoint(cp)) fail(`character reference to a forbidden character &${body};`);
        return String.fromCodePoint(cp);
      }
      if (body.startsWith('#')) {
        if (!/^#[0-9]+$/.test(body)) fail(`bad character reference &${body};`);
        const cp = Number(body.slice(1));
        if (!allowedCodePoint(cp)) fail(`character reference to a forbidden character &${body};`);
        return String.fromCodePoint(cp);
      }
      if (!(body in ENTITIES)) fail(`unknown entity &${body};`);
      return ENTITIES[body];
    });
  };

  const skipSpace = (): void => {
    while (pos < source.length && /\s/.test(source[pos])) pos++;
  };

  const skipMisc = (): void => {
    for (;;) {
      skipSpace();
      if (source.startsWith('<!--', pos)) {
        const end = source.indexOf('-->', pos + 4);
        if (end < 0) fail('unterminated comment');
        if (source.slice(pos + 4, end).includes('--')) fail('"--" inside a comment');
        pos = end + 3;
      } else if (source.startsWith('<?', pos) && !source.startsWith('<?xml', pos)) {
        const end = source.indexOf('?>', pos);
        if (end < 0) fail('unterminated processing instruction');
        pos = end + 2;
      } else {
        return;
      }
    }
  };

  if (source.startsWith('\ufeff')) pos = 1;
  if (source.startsWith('<?xml', pos)) {
    const end = source.indexOf('?>', pos);
    if (end < 0) fail('unterminated XML declaration');
    const decl = source.slice(pos, end + 2);
    if (
      !/^<\?xml\s+version\s*=\s*(["'])1\.[0-9]+\1(\s+encoding\s*=\s*(["'])[A-Za-z][-A-Za-z0-9._]*\3)?(\s+standalone\s*=\s*(["'])(yes|no)\5)?\s*\?>$/.test(
        decl,
      )
    )
      fail(`bad XML declaration ${decl}`);
    pos = end + 2;
  }
  skipMisc();
  if (source.startsWith('<!DOCTYPE', pos)) fail('DOCTYPE not supported');

  const parseElement = (): XmlElement => {
    if (source[pos] !== '<') fail('expected an element');
    pos++;
    const nameMatch = NAME.exec(source.slice(pos, pos + 200));
    if (!nameMatch) fail('bad element name');
    const name = nameMatch![0];
    pos += name.length;
    const attributes: Record<string, string> = {};
    for (;;) {
      const hadSpace = /\s/.test(source[pos] ?? '');
      skipSpace();
      if (source.startsWith('/>', pos)) {
        pos += 2;
        return { name, attributes, children: [], text: '' };
      }
      if (source[pos] === '>') {
        pos++;
        break;
      }
      if (!hadSpace) fail(`expected whitespace before an attribute of <${name}>`);
      const attrMatch = NAME.exec(source.slice(pos, pos + 200));
      if (!attrMatch) fail(`bad attribute name in <${name}>`);
      const attr = attrMatch![0];
      pos += attr.length;
      skipSpace();
      if (source[pos] !== '=') fail(`attribute ${attr} without "="`);
      pos++;
      skipSpace();
      const quote = source[pos];
      if (quote !== '"' && quote !== "'") fail(`unquoted attribute ${attr}`);
      const end = source.indexOf(quote, pos + 1);
      if (end < 0) fail(`unterminated attribute ${attr}`);
      if (attr in attributes) fail(`duplicate attribute ${attr} in <${name}>`);
      // Attribute-value normalisation: literal whitespace becomes a space.
      attributes[attr] = decode(source.slice(pos + 1, end).replace(/[\t\n\r]/g, ' '), true);
      pos = end + 1;
    }
    const children: XmlElement[] = [];
    let text = '';
    for (;;) {
      if (pos >= source.length) fail(`unclosed <${name}>`);
      if (source.startsWith('</', pos)) {
        pos += 2;
        const closeMatch = NAME.exec(source.slice(pos, pos + 200));
        if (!closeMatch || closeMatch[0] !== name) fail(`</${closeMatch?.[0] ?? '?'}> closes <${name}>`);
        pos += name.length;
        skipSpace();
        if (source[pos] !== '>') fail(`bad end tag of <${name}>`);
        pos++;
        return { name, attributes, children, text };
      }
      if (source.startsWith('<!--', pos)) {
        skipMisc();
        continue;
      }
      if (source.startsWith('<![CDATA[', pos)) {
        const end = source.indexOf(']]>', pos);
        if (end < 0) fail('unterminated CDATA');
        text += source.slice(pos + 9, end);
        pos = end + 3;
        continue;
      }
      if (source[pos] === '<') {
        children.push(parseElement());
        continue;
      }
      const next = source.indexOf('<', pos);
      const raw = source.slice(pos, next < 0 ? source.length : next);
      if (raw.includes(']]>')) fail('"]]>" in text');
      text += decode(raw.replace(/\r\n?/g, '\n'), false);
      pos = next < 0 ? source.length : next;
    }
  };

  const root = parseElement();
  skipMisc();
  if (pos !== source.length) fail('content after the root element');
  return root;
}

/** Elements named `name` anywhere below `root` (document order). */
export function findAll(root: XmlElement, name: string): XmlElement[] {
  const found: XmlElement[] = [];
  const walk = (element: XmlElement): void => {
    for (const child of element.children) {
      if (child.name === name) found.push(child);
      walk(child);
    }
  };
  walk(root);
  return found;
}
