// current-cpu -- the CPU this process last ran on, where tracer and tracee
// are pinned together (docs/architecture.md: ~19 µs per step pinned, ~60 µs apart).
//
// Staying on the CPU we already run on spreads concurrent pmfit processes
// (jest workers, parallel CI jobs) over the cores the scheduler chose.

import * as fs from 'fs';

export function currentCpu(): number {
  try {
    const stat = fs.readFileSync('/proc/thread-self/stat', 'utf8');
    // Field 39 is "processor"; the command name (field 2) may contain spaces
    // but ends at the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const cpu = Number(fields[39 - 3]);
    return Number.isInteger(cpu) && cpu >= 0 ? cpu : -1;
  } catch {
    return -1;
  }
}
