// keep-trace -- the trace kept beside results.json: the same bytes, its zero
// runs left as holes, and not kept over the bound (a message says why).

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { keepTrace } from '../../harness/pipeline/keep-trace';

let dir: string;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pmfit-keep-trace-'));
});

afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('keepTrace', () => {
  it('copies the bytes, holes for zero runs (a 12 MiB file with 2 MiB of data)', () => {
    const source = path.join(dir, 'run.trace');
    const size = 12 * 2 ** 20;
    const fd = fs.openSync(source, 'w');
    fs.writeSync(fd, Buffer.alloc(2 ** 20, 7), 0, 2 ** 20, 0);
    fs.writeSync(fd, Buffer.alloc(2 ** 20, 9), 0, 2 ** 20, size - 2 ** 20 - 5);
    fs.ftruncateSync(fd, size);
    fs.closeSync(fd);
    const kept = keepTrace(source, path.join(dir, 'reports'), 'my target');
    expect(kept).toEqual({ kind: 'kept', file: path.join('traces', 'my_target.trace') });
    const copy = path.join(dir, 'reports', 'traces', 'my_target.trace');
    expect(fs.readFileSync(copy).equals(fs.readFileSync(source))).toBe(true);
    // Data plus at most a chunk's rounding at each end; far below the size.
    expect(fs.statSync(copy).blocks * 512).toBeLessThanOrEqual(5 * 2 ** 20);
  });

  it('is not kept over the bound, and says why', () => {
    const source = path.join(dir, 'big.trace');
    fs.writeFileSync(source, Buffer.alloc(3 * 2 ** 20, 1));
    const kept = keepTrace(source, path.join(dir, 'reports2'), 'big', 2 ** 20);
    expect(kept).toEqual({
      kind: 'not-kept',
      why: 'the trace holds 3 MiB of data, more than the 1 MiB kept beside results.json',
    });
    expect(fs.existsSync(path.join(dir, 'reports2', 'traces', 'big.trace'))).toBe(false);
  });
});
