// processes -- what is left running: processes running a given executable
// or in a given process group, whether a pid is alive or single-stepped (a
// pid's live descendants are harness/_internals/descendants.ts's
// liveDescendants).

import * as fs from 'fs';

/** Live (not zombie) processes whose executable is `exe`. */
export function processesRunning(exe: string): number[] {
  const found: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (fs.readlinkSync(`/proc/${entry}/exe`) !== exe) continue;
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z') found.push(Number(entry));
    } catch {
      // gone, or not ours to read
    }
  }
  return found;
}

/** Live (not zombie) processes whose process group is `pgid`. */
export function liveInGroup(pgid: number): number[] {
  const found: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // fields[0] = state, fields[1] = ppid, fields[2] = pgrp
      if (fields[0] !== 'Z' && Number(fields[2]) === pgid) found.push(Number(entry));
    } catch {
      // gone while we looked
    }
  }
  return found;
}

export function isAlive(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

export async function waitFor(condition: () => boolean, timeoutMs = 10_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (condition()) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return condition();
}

/** Stops a tracee must have made before it counts as single-stepped. */
const STEPPED_STOPS = 1000;

/** isSingleStepped -- `pid` is being single-stepped: each ptrace stop puts it
 *  to sleep once, counted in voluntary_ctxt_switches, which stepping drives
 *  up by thousands a second while a program running freely up to its first
 *  region (exec stop, one breakpoint) stays at a handful. */
export function isSingleStepped(pid: number): boolean {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const switches = /^voluntary_ctxt_switches:\s*(\d+)$/m.exec(status);
    return switches !== null && Number(switches[1]) > STEPPED_STOPS;
  } catch {
    return false;
  }
}
