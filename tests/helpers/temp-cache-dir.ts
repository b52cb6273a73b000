// temp-cache-dir -- pmfit's cache directory (PMFIT_CACHE_DIR) made fresh for
// each test of the calling file and removed after it, the variable put back.

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

/** useTempCacheDir -- registers the hooks; the returned function names the
 *  present test's directory. */
export function useTempCacheDir(): () => string {
  const saved = process.env.PMFIT_CACHE_DIR;
  let dir = '';
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pmfit-cache-test-'));
    process.env.PMFIT_CACHE_DIR = dir;
  });
  afterEach(() => {
    fs.rmSync(dir, { recursive: true, force: true });
    if (saved === undefined) delete process.env.PMFIT_CACHE_DIR;
    else process.env.PMFIT_CACHE_DIR = saved;
  });
  return () => dir;
}
