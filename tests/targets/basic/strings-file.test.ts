// strings-file -- readStrings against the real `basic` program.

import * as fc from 'fast-check';
import * as fs from 'fs';
import * as path from 'path';
import { BASIC_SIZE, readStrings } from '../../../targets/basic/strings-file';
import { run, runOk, scratchDir } from '../programs';

const LONG = 'a string longer than one 64-byte cache line, so that it spans two lines or more';

describe('basic and readStrings', () => {
  let dir: string;
  let remove: () => void;
  beforeAll(() => ({ dir, remove } = scratchDir('basic')));
  afterAll(() => remove());

  test.each(['clflush', 'clflushopt', 'clwb', 'msync', 'fit'])('the default workload in %s mode', (mode) => {
    const file = path.join(dir, `strings-${mode}`);
    runOk('basic', ['-m', mode, file, 'short1', LONG, 'short2'], dir);
    const buf = fs.readFileSync(file);
    expect(buf.length).toBe(BASIC_SIZE);
    expect(readStrings(buf)).toEqual(['short1', LONG, 'short2']);
    expect(runOk('basic', [file], dir)).toBe(`short1\n${LONG}\nshort2\n`);
  });

  test('basic FILE creates an empty store (the setup step)', () => {
    const file = path.join(dir, 'fresh');
    expect(runOk('basic', [file], dir)).toBe('');
    expect(fs.readFileSync(file)).toEqual(Buffer.alloc(BASIC_SIZE));
    expect(run('basic', [path.join(dir, 'no/such/dir')], dir).status).toBe(1);
  });

  test('appends after the strings already stored', () => {
    const file = path.join(dir, 'append');
    runOk('basic', [file, 'one'], dir);
    runOk('basic', ['--mode=fit', file, 'two', 'three'], dir);
    expect(readStrings(fs.readFileSync(file))).toEqual(['one', 'two', 'three']);
  });

  test('a full file is an error that keeps what fits', () => {
    const file = path.join(dir, 'small');
    fs.writeFileSync(file, Buffer.alloc(16));
    const r = run('basic', [file, 'twelve bytes', 'more'], dir);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/no room/);
    expect(readStrings(fs.readFileSync(file))).toEqual(['twelve bytes']);
  });

  test('usage errors exit 2 with one line', () => {
    for (const args of [[], ['-x', 'f'], ['-m', 'nope', 'f'], ['f', '']]) {
      const r = run('basic', args, dir);
      expect(r.status).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
    expect(run('basic', ['f'], dir, { PMEM_MODE: 'bogus' }).status).toBe(2);
  });

  test('torn and odd images', () => {
    expect(readStrings(Buffer.alloc(0))).toEqual([]);
    expect(readStrings(Buffer.alloc(100))).toEqual([]);
    expect(readStrings(Buffer.from('abc'))).toEqual(['abc']); // cut off by the end
    expect(readStrings(Buffer.from('ab\0cd\0\0ef\0'))).toEqual(['ab', 'cd']); // empty string ends
    expect(readStrings(Buffer.from('sho\0\0\0'))).toEqual(['sho']); // a torn "short1"
  });

  test('agrees with basic on arbitrary images', () => {
    // printable ASCII and NULs, so that stdout compares as text
    const byte = fc.oneof(fc.constant(0), fc.integer({ min: 32, max: 126 }));
    fc.assert(
      fc.property(fc.array(byte, { minLength: 1, maxLength: 200 }), (bytes) => {
        const buf = Buffer.from(bytes);
        const file = path.join(dir, 'arbitrary');
        fs.writeFileSync(file, buf);
        const printed = runOk('basic', [file], dir);
        expect(printed).toBe(
          readStrings(buf)
            .map((s) => `${s}\n`)
            .join(''),
        );
      }),
      { numRuns: 40 },
    );
  });
});
