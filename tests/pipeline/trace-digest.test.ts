// trace-digest -- a trace's digest, holes of its images hashed as the zeros
// they are without reading them: the same value as when they were read
// (pmfit merge compares digests of shards' traces).

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { traceDigest } from '../../harness/pipeline/trace-digest';
import { TraceReader } from '../../harness/trace/format';
import { writeSparseTrace } from '../helpers/sparse-trace';

test('a sparse trace digests as its bytes did when read whole', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pmfit-digest-'));
  try {
    const reader = TraceReader.open(writeSparseTrace(dir));
    try {
      // computed at 0c89962, which hashed the images whole
      expect(traceDigest(reader)).toBe('23be005e6d82bab8ac7b26193cb33fe80fef81065f3e828aaedd53f2f2ee1a35');
    } finally {
      reader.close();
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
