// tree-broken-user -- tree_broken run as a user's own program: copied into a
// work directory as ./tb, and the allcounts options that name it there.

import * as fs from 'fs';
import * as path from 'path';
import { fixture } from '../fixtures';

/** allcounts options for ./tb inserting two words into t.pm, set up and checked by ./tb. */
export const treeBrokenUserOptions = [
  '--cmd',
  './tb insert t.pm apple banana',
  '--pm',
  't.pm',
  '--setup',
  './tb init {file} 64K',
  '--recover',
  './tb check {file}',
];

/** copyTreeBroken -- tree_broken as WORK/tb, executable. */
export function copyTreeBroken(work: string): void {
  fs.copyFileSync(fixture('tree_broken'), path.join(work, 'tb'));
  fs.chmodSync(path.join(work, 'tb'), 0o755);
}
