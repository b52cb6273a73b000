// trace-digest -- a content hash of what a trace recorded: the PM files'
// initial images, every event (re-encoded, so that padding and the file's
// layout do not count) and the regions. Scratch paths, timings and the
// program's exit status are left out: two recordings of the same workload
// on the same setup digest alike on any machine, and `pmfit merge` refuses
// shards whose traces differ, since they checked different crash states.

import { createHash } from 'crypto';
import { runs } from '../_internals/chunked-bytes';
import { encodeEvent, type TraceReader } from '../trace/format';

/** Zeros hashed at a time for a hole of an initial image: its bytes are
 *  hashed as before, without reading the hole (chunked-bytes.ts). */
const ZEROS = Buffer.alloc(1 << 20);

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
    for (const { length, data } of runs(image)) {
      if (data) hash.update(data);
      else
        for (let at = 0; at < length; at += ZEROS.length)
          hash.update(ZEROS.subarray(0, Math.min(ZEROS.length, length - at)));
    }
  }
  for (const event of reader.events()) hash.update(encodeEvent(event));
  return hash.digest('hex');
}
