// decode-memo.test -- the memo answers as the decoder does, cold and from an
// earlier run's entry, parsed at its look-up or ahead of it (decodeSome); an
// entry of another decoder version, a corrupt one and decodings of the wrong
// shape are not used, nor a run the tracer refused (drop).

import * as fs from 'fs';
import * as path from 'path';
import { cacheEntryPath } from '../../../harness/_internals/user-cache';
import { DecodeMemo } from '../../../harness/record/_internals/decode-memo';
import { decodeInstruction, decodeRun } from '../../../harness/record/decode';
import { packInsns } from '../../../harness/tracer/native';
import { useTempCacheDir } from '../../helpers/temp-cache-dir';

const PROGRAM = '/some/program';
const AT = 0x401000;
/** mov [rax+8], rdx; jne +2; call rel32; ret */
const CODE = Buffer.from('48895008 7502 e800000000 c3'.replace(/\s+/g, ''), 'hex');
/** clwb [rdi] */
const CLWB = Buffer.from('660fae37', 'hex');

const tempCache = useTempCacheDir();

const entryFile = () => cacheEntryPath('decodings', PROGRAM, 'lines')!;

interface Entry {
  key: string;
  /** An instruction's parsed JSON, a run's base64 as stored. */
  decodings: Record<string, unknown>;
}

/** The memo's lines: the decoder's version, then `<key> <JSON>` for an
 *  instruction, `<key> <base64 of the packed infos>` for a run. */
function readEntry(): Entry {
  const [key, ...lines] = fs.readFileSync(entryFile(), 'utf8').split('\n');
  const decodings = Object.fromEntries(
    lines.map((line) => {
      const [name, value] = [line.slice(0, line.indexOf(' ')), line.slice(line.indexOf(' ') + 1)];
      return [name, name.startsWith('r') ? value : JSON.parse(value)];
    }),
  );
  return { key, decodings };
}

const entryText = (entry: Entry) =>
  [
    entry.key,
    ...Object.entries(entry.decodings).map(
      ([key, value]) => `${key} ${typeof value === 'string' ? value : JSON.stringify(value)}`,
    ),
  ].join('\n');

/** decodeRun's answer as the memo gives it. */
const packedRun = (bytes: Buffer, address: number) => packInsns(decodeRun(bytes, address));
/** A run's stored value that is not whole float64s. */
const NOT_PACKED = Buffer.from('not packed').toString('base64');
const writeEntry = (entry: Entry) => fs.writeFileSync(entryFile(), entryText(entry));

/** A memo filled by one run and saved. */
function recordOnce(): void {
  const memo = new DecodeMemo(PROGRAM);
  memo.run(CODE, AT);
  memo.instruction(CLWB, AT + 0x100);
  memo.save();
}

test('the decoder answers, cold and from the entry an earlier run saved', () => {
  const cold = new DecodeMemo(PROGRAM);
  expect(cold.run(CODE, AT)).toEqual(packedRun(CODE, AT));
  expect(cold.instruction(CLWB, AT + 0x100)).toEqual(decodeInstruction(CLWB, AT + 0x100));
  cold.save();
  expect(Object.keys(readEntry().decodings)).toHaveLength(2);

  const warm = new DecodeMemo(PROGRAM);
  expect(warm.run(CODE, AT)).toEqual(packedRun(CODE, AT));
  expect(warm.instruction(CLWB, AT + 0x100)).toEqual(decodeInstruction(CLWB, AT + 0x100));
  // the same bytes elsewhere, other bytes at the same address: decoded anew
  expect(warm.run(CODE, AT + 0x10)).toEqual(packedRun(CODE, AT + 0x10));
  expect(warm.run(CODE.subarray(4), AT)).toEqual(packedRun(CODE.subarray(4), AT));
  warm.save();
  expect(Object.keys(readEntry().decodings)).toHaveLength(4);
});

test("an entry's decodings are what a later run answers (so a stale one would be wrong: its key guards it)", () => {
  recordOnce();
  const entry = readEntry();
  const [key] = Object.keys(entry.decodings).filter((k) => k.startsWith('r'));
  const other = packInsns([{ length: 3, flags: 0, writes: [] }]);
  entry.decodings[key] = other.toString('base64');
  writeEntry(entry);
  expect(new DecodeMemo(PROGRAM).run(CODE, AT)).toEqual(other);

  entry.key = 'another decoder';
  writeEntry(entry);
  expect(new DecodeMemo(PROGRAM).run(CODE, AT)).toEqual(packedRun(CODE, AT));
});

test('a corrupt entry, or decodings of the wrong shape, are decoded anew', () => {
  recordOnce();
  const good = readEntry();
  const expected = decodeInstruction(CLWB, AT + 0x100);
  const [key] = Object.keys(good.decodings).filter((k) => k.startsWith('i'));
  const instruction = good.decodings[key] as object;
  for (const bad of [
    entryText(good).slice(0, 100),
    entryText({ ...good, decodings: { [key]: instruction } }).slice(0, -1),
    `${good.key}\n${key}${JSON.stringify(instruction)}`,
    `${good.key}\nx${key.slice(1)} ${JSON.stringify(instruction)}`,
    JSON.stringify(good),
    entryText({ ...good, decodings: { [key]: { info: { length: 0, flags: 0, writes: [] }, text: 'x' } } }),
    entryText({ ...good, decodings: { [key]: { ...instruction, info: { length: 4, flags: 0 } } } }),
  ]) {
    fs.writeFileSync(entryFile(), bad);
    expect(new DecodeMemo(PROGRAM).instruction(CLWB, AT + 0x100)).toEqual(expected);
  }
  // a run that is not whole float64s (the tracer checks the rest)
  const [run] = Object.keys(good.decodings).filter((k) => k.startsWith('r'));
  for (const bad of [NOT_PACKED, `${good.decodings[run] as string}AA==`]) {
    writeEntry({ ...good, decodings: { ...good.decodings, [run]: bad } });
    expect(new DecodeMemo(PROGRAM).run(CODE, AT)).toEqual(packedRun(CODE, AT));
  }
});

test('an entry of the wrong shape is dropped at the next save, looked up or not', () => {
  recordOnce();
  const entry = readEntry();
  const [run] = Object.keys(entry.decodings).filter((k) => k.startsWith('r'));
  entry.decodings[run] = NOT_PACKED;
  writeEntry(entry);
  const memo = new DecodeMemo(PROGRAM);
  memo.load();
  memo.instruction(CLWB, AT + 0x200);
  memo.save();
  expect(Object.keys(readEntry().decodings).sort()).toEqual(
    Object.keys(entry.decodings)
      .filter((k) => k !== run)
      .concat(`i${(AT + 0x200).toString(16)}:${CLWB.toString('base64')}`)
      .sort(),
  );
});

test('instructionAddresses: where the earlier instruction decodings are, loaded first or not', () => {
  recordOnce();
  const memo = new DecodeMemo(PROGRAM);
  expect(memo.instructionAddresses()).toEqual([]);
  memo.load();
  expect(memo.instructionAddresses()).toEqual([AT + 0x100]);
  expect(memo.instruction(CLWB, AT + 0x100)).toEqual(decodeInstruction(CLWB, AT + 0x100));
});

test('decodeSome parses entries ahead of their look-ups until its deadline, and they answer the same', () => {
  recordOnce();
  const memo = new DecodeMemo(PROGRAM);
  // a deadline already past: loaded, nothing parsed
  expect(memo.decodeSome(0)).toBe(true);
  expect(memo.decodeSome(Infinity)).toBe(false);
  expect(memo.run(CODE, AT)).toEqual(packedRun(CODE, AT));
  expect(memo.instruction(CLWB, AT + 0x100)).toEqual(decodeInstruction(CLWB, AT + 0x100));
  // an entry parsed ahead that is not a decoding is dropped as at a look-up
  const entry = readEntry();
  const [run] = Object.keys(entry.decodings).filter((k) => k.startsWith('r'));
  entry.decodings[run] = NOT_PACKED;
  writeEntry(entry);
  const bad = new DecodeMemo(PROGRAM);
  expect(bad.decodeSome(Infinity)).toBe(false);
  expect(bad.run(CODE, AT)).toEqual(packedRun(CODE, AT));
});

test('nothing new, nothing written; the cache off, nothing written', () => {
  recordOnce();
  // a write renames a new file over the entry: another inode
  const before = fs.statSync(entryFile()).ino;
  const memo = new DecodeMemo(PROGRAM);
  memo.run(CODE, AT);
  memo.save();
  expect(fs.statSync(entryFile()).ino).toBe(before);

  process.env.PMFIT_CACHE_DIR = 'off';
  const off = new DecodeMemo(PROGRAM);
  expect(off.run(CODE, AT)).toEqual(packedRun(CODE, AT));
  off.save();
  expect(fs.readdirSync(path.join(tempCache(), 'decodings'))).toHaveLength(1);
});

test("knownRuns: an earlier run's decodeRun answers with the address and bytes each is for", () => {
  expect(new DecodeMemo(PROGRAM).knownRuns()).toEqual([]);
  recordOnce();
  const run = { address: AT, bytes: CODE, infos: packedRun(CODE, AT) };
  // parsed here, or by decodeSome before
  expect(new DecodeMemo(PROGRAM).knownRuns()).toEqual([run]);
  const parsed = new DecodeMemo(PROGRAM);
  while (parsed.decodeSome(Infinity));
  expect(parsed.knownRuns()).toEqual([run]);
  // one of the wrong shape is left out, as a look-up leaves it
  const entry = readEntry();
  const [key] = Object.keys(entry.decodings).filter((k) => k.startsWith('r'));
  entry.decodings[key] = NOT_PACKED;
  writeEntry(entry);
  expect(new DecodeMemo(PROGRAM).knownRuns()).toEqual([]);
});

test('drop: a known run the tracer refused is decoded anew and left out of the next save', () => {
  recordOnce();
  const entry = readEntry();
  const [key] = Object.keys(entry.decodings).filter((k) => k.startsWith('r'));
  // whole float64s the tracer refuses (a length of 0)
  entry.decodings[key] = packInsns([{ length: 0, flags: 0, writes: [] }]).toString('base64');
  writeEntry(entry);
  const memo = new DecodeMemo(PROGRAM);
  const [run] = memo.knownRuns();
  memo.drop(run);
  expect(memo.run(CODE, AT)).toEqual(packedRun(CODE, AT));
  memo.save();
  expect(readEntry().decodings[key]).toBe(packedRun(CODE, AT).toString('base64'));
});
