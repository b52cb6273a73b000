// page-cache -- whether a PM file's page cache tells which pages were
// written (native/page_cache.h): only on filesystems that write pages back
// and so keep a dirty state per page. tmpfs never writes back (cachestat
// reports no dirty page there, measured on Linux 6.18), and DAX mappings
// bypass the page cache: files there are compared whole at every check.

import * as fs from 'fs';
import { loadNative } from '../../tracer/native';

/** statfs f_type of filesystems with per-page write-back (linux/magic.h). */
const WRITE_BACK_FILESYSTEMS = new Set([
  0xef53, // ext2, ext3, ext4
  0x58465342, // xfs
  0x9123683e, // btrfs
  0xf2f52010, // f2fs
]);

/** pageCacheTracks -- whether dirty pages of the open file fd mean written
 *  pages: a filesystem with write-back, not mounted for DAX, and a kernel
 *  with cachestat (Linux 6.5). */
export function pageCacheTracks(file: string, fd: number, size: number): boolean {
  if (!WRITE_BACK_FILESYSTEMS.has(fs.statfsSync(file).type)) return false;
  if (daxMount(fs.fstatSync(fd).dev)) return false;
  try {
    loadNative().dirtyPages(fd, Math.min(size, 4096));
    return true;
  } catch {
    return false;
  }
}

/** daxMount -- whether the filesystem of device dev is mounted with dax. */
function daxMount(dev: number): boolean {
  const major = Math.floor(dev / 256) & 0xfff;
  const minor = (dev & 0xff) | (Math.floor(dev / 4096) & 0xfff00);
  let info: string;
  try {
    info = fs.readFileSync('/proc/self/mountinfo', 'utf8');
  } catch {
    return true; // unknown: compare whole files
  }
  return info.split('\n').some((line) => {
    const fields = line.split(' ');
    return (
      fields[2] === `${major}:${minor}` &&
      /(^|,)dax(=|,|$)/.test(`${fields[5]},${fields.slice(fields.indexOf('-') + 3).join(' ')}`)
    );
  });
}
