// source-line -- file, line and function of link-time addresses, from the
// debug information of an executable, through binutils' addr2line, for the
// reports. One addr2line process answers all addresses (they go to its
// stdin, so there is no command-line length limit). Without debug
// information, or without addr2line, the answers are simply absent.

import { spawn } from 'child_process';

export interface SourceLine {
  file: string;
  line: number;
  /** Demangled function name; for inlined code, the inlined function. */
  func: string;
}

const ADDRESS = /^0x[0-9a-f]+$/i;

/** Parses `addr2line -a -f` output: per address its own line, the function,
 *  then "file:line" (with "??" for unknowns). */
function parse(output: string): Map<number, SourceLine> {
  const found = new Map<number, SourceLine>();
  const lines = output.split('\n');
  for (let i = 0; i < lines.length; i++) {
    if (!ADDRESS.test(lines[i])) continue;
    const address = parseInt(lines[i], 16);
    const func = lines[i + 1] ?? '??';
    const where = /^(.*):(\d+)(?: \(discriminator \d+\))?$/.exec(lines[i + 2] ?? '');
    i += 2;
    if (!where || where[1] === '??' || where[2] === '0') continue;
    found.set(address, { file: where[1], line: Number(where[2]), func: func === '??' ? '' : func });
  }
  return found;
}

/** sourceLines -- what addr2line knows about each of `offsets` (link-time
 *  addresses in `exePath`); offsets it cannot place have no entry. */
export function sourceLines(exePath: string, offsets: number[]): Promise<Map<number, SourceLine>> {
  const unique = [...new Set(offsets)];
  if (unique.length === 0) return Promise.resolve(new Map());
  return new Promise((resolve) => {
    const child = spawn('addr2line', ['-e', exePath, '-a', '-f', '-C'], { stdio: ['pipe', 'pipe', 'ignore'] });
    const chunks: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
    // no addr2line, or it died: the report goes without source lines
    child.on('error', () => resolve(new Map()));
    child.stdin.on('error', () => undefined);
    child.on('close', (code) => {
      if (code !== 0) {
        resolve(new Map());
        return;
      }
      const parsed = parse(Buffer.concat(chunks).toString('utf8'));
      // Only what was asked for: addr2line echoes addresses zero-padded.
      const answer = new Map<number, SourceLine>();
      for (const offset of unique) {
        const line = parsed.get(offset);
        if (line) answer.set(offset, line);
      }
      resolve(answer);
    });
    child.stdin.end(unique.map((offset) => `0x${offset.toString(16)}`).join('\n') + '\n');
  });
}
