// trace-digest -- a content hash of what a trace recorded: the PM files'
// initial images, every event (re-encoded, so that padding and the file's
// layout do not count) and the regions. Scratch paths, timings and the
// program's exit status are left out: two recordings of the same workload
// on the same setup digest alike on any machine, and `pmfit merge` refuses
// shards whose traces differ, since they checked different crash states.

import { createHash } from 'crypto';
import { encodeEvent, type TraceReader } from '../trace/format';

/** Bytes hashed at a time from an initial image. */
const PIECE = 64 << 20;

export function traceDigest(reader: TraceReader): string {
  const hash = createHash('sha256');
  const { header } = reader;
  hash.update(
    JSON.stringify({
      instructions: header.instructions,
      events: header.events,
      regions: header.regions,
      sizes: header.files.map((file) => file.size),
    }),
  );
  for (const image of reader.images()) {
    for (let at = 0; at < image.length; at += PIECE)
      hash.update(image.subarray(at, Math.min(image.length, at + PIECE)));
  }
  for (const event of reader.events()) hash.update(encodeEvent(event));
  return hash.digest('hex');
}
