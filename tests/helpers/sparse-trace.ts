// sparse-trace -- a trace of one sparse PM file, written by TraceWriter as
// the recorder writes one: 3 MiB and 100 bytes, four bytes of data in three
// places (the last the file's last byte), one store.

import * as fs from 'fs';
import * as path from 'path';
import { EventKind } from '../../harness/trace/event';
import { encodeEvent, TraceWriter } from '../../harness/trace/format';

export const SPARSE_SIZE = 3 * 1024 * 1024 + 100;

/** SPARSE_DATA -- [offset, bytes] written into the PM file; zeros elsewhere. */
export const SPARSE_DATA: Array<[number, number[]]> = [
  [0x123, [5]],
  [2 * 1024 * 1024 + 7, [6, 7]],
  [SPARSE_SIZE - 1, [8]],
];

/** writeSparseTrace -- DIR/sparse.pm and its trace DIR/sparse.trace (returned). */
export function writeSparseTrace(dir: string): string {
  const pm = path.join(dir, 'sparse.pm');
  fs.writeFileSync(pm, '');
  fs.truncateSync(pm, SPARSE_SIZE);
  const fd = fs.openSync(pm, 'r+');
  for (const [offset, bytes] of SPARSE_DATA) fs.writeSync(fd, Buffer.from(bytes), 0, bytes.length, offset);
  fs.closeSync(fd);
  const trace = path.join(dir, 'sparse.trace');
  const writer = new TraceWriter(trace);
  writer.writeImage(pm, SPARSE_SIZE);
  const store = { kind: EventKind.Store, index: 1, address: 0x1000, fileId: 0, offset: 64, length: 8 };
  writer.appendRecords(encodeEvent({ ...store, data: Buffer.alloc(8, 9) }), 1);
  writer.finish({
    argv: ['sparse'],
    cwd: '/',
    files: [{ path: pm, size: SPARSE_SIZE }],
    regions: [{ begin: 0, end: 1 }],
    instructions: 1,
    addresses: {},
    exitCode: 0,
    warnings: [],
  });
  return trace;
}
