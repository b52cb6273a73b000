// user-cache -- pmfit's cache across runs: results that cost a fresh process
// tens of milliseconds and depend only on files that rarely change (the
// flush sites of the machine's libraries, elf/flush-sites.ts). Each entry is
// one small file whose content names what it was computed from; the caller
// checks that against what it needs now and recomputes on any difference.
//
// Where: $PMFIT_CACHE_DIR (a relative path is taken from the directory pmfit
// starts in; `off` turns the cache off), else $XDG_CACHE_HOME/pmfit (an
// absolute path, as the XDG spec requires), else ~/.cache/pmfit. Never a
// directory of the user's project or beside their files.
//
// The cache only ever saves time: an entry that cannot be read, parsed or
// matched is recomputed, and a directory that cannot be made or written is
// skipped in silence. Entries are written to a temporary name in their
// directory and renamed, so that a reader sees a whole entry or none, also
// when several pmfit processes write the same one; a temporary one left by
// a pmfit killed between the two (SIGKILL) goes at the next write there.

import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { processAlive } from './process-alive';

/** cacheDir -- the cache's directory now, or undefined when it is off. */
export function cacheDir(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const own = env.PMFIT_CACHE_DIR;
  if (own === 'off') return undefined;
  if (own) return path.resolve(own);
  const xdg = env.XDG_CACHE_HOME;
  if (xdg && path.isAbsolute(xdg)) return path.join(xdg, 'pmfit');
  let home: string;
  try {
    home = os.homedir();
  } catch {
    return undefined; // no home directory (a user without a passwd entry)
  }
  return home ? path.join(home, '.cache', 'pmfit') : undefined;
}

/** How an entry is stored: JSON, or text lines of the caller's own form (the
 *  decode memo's, record/_internals/decode-memo.ts). */
export type CacheForm = 'json' | 'lines';

/** cacheEntryPath -- the file of entry `name` of `kind` (a folder of the
 *  cache; `name` any string, a path say, hashed into a file name), or
 *  undefined when the cache is off. */
export function cacheEntryPath(kind: string, name: string, form: CacheForm = 'json'): string | undefined {
  const dir = cacheDir();
  if (dir === undefined) return undefined;
  const hashed = crypto.createHash('sha256').update(name).digest('hex').slice(0, 32);
  return path.join(dir, kind, `${hashed}.${form}`);
}

/** readCacheEntry -- the parsed JSON of entry `name` of `kind`, or
 *  undefined: no cache, no entry, or one that is not JSON. The caller checks
 *  its shape and what it was computed from. */
export function readCacheEntry(kind: string, name: string): unknown {
  const bytes = readCacheBytes(kind, name, 'json');
  if (bytes === undefined) return undefined;
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch {
    return undefined;
  }
}

/** readCacheBytes -- the bytes of entry `name` of `kind` stored in `form`,
 *  or undefined: no cache, no entry. The caller checks the rest. */
export function readCacheBytes(kind: string, name: string, form: CacheForm): Buffer | undefined {
  const file = cacheEntryPath(kind, name, form);
  if (file === undefined) return undefined;
  try {
    return fs.readFileSync(file);
  } catch {
    return undefined;
  }
}

/** A temporary entry's name: `<entry>.<pid>.<random>.tmp`. */
const TEMP_ENTRY = /^[0-9a-f]+\.(?:json|lines)\.(\d+)\.[0-9a-f]+\.tmp$/;

/** removeOrphans -- temporary entries in `dir` whose writer is gone (a
 *  pmfit killed with SIGKILL between the write and the rename, the only
 *  way one is left): removed by the next write there. */
function removeOrphans(dir: string): void {
  for (const entry of fs.readdirSync(dir)) {
    const writer = TEMP_ENTRY.exec(entry);
    if (!writer || processAlive(Number(writer[1]))) continue;
    try {
      fs.unlinkSync(path.join(dir, entry));
    } catch {
      // removed by another pmfit meanwhile
    }
  }
}

/** writeCacheEntry -- store `value` (JSON) as entry `name` of `kind`,
 *  whole or not at all; never throws. */
export function writeCacheEntry(kind: string, name: string, value: unknown): void {
  writeCacheBytes(kind, name, 'json', JSON.stringify(value));
}

/** writeCacheBytes -- store `bytes` as entry `name` of `kind` in `form`,
 *  whole or not at all; never throws. */
export function writeCacheBytes(kind: string, name: string, form: CacheForm, bytes: string | Buffer): void {
  const file = cacheEntryPath(kind, name, form);
  if (file === undefined) return;
  const temp = `${file}.${process.pid}.${crypto.randomBytes(4).toString('hex')}.tmp`;
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    removeOrphans(path.dirname(file));
    fs.writeFileSync(temp, bytes, { mode: 0o600 });
    fs.renameSync(temp, file);
  } catch {
    try {
      fs.unlinkSync(temp);
    } catch {
      // never written
    }
  }
}
