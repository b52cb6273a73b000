// deadline -- a time limit counted in the time pmfit itself runs.
//
// Ctrl-Z / fg (SIGSTOP / SIGCONT) stops pmfit, but not the recovery commands
// it started in process groups of their own: they go on and finish. Wall-clock
// time would then charge the stop to whatever was running, and on SIGCONT
// Node runs expired timers before it reads the exits that arrived meanwhile,
// so recoveries that succeeded would be reported as timed out. A traced
// program stands still with pmfit (it waits for the tracer), so charging it
// the stop is just as wrong.
//
// The clock therefore leaves out the time pmfit did not run: while any
// deadline is pending, a heartbeat ticks every HEARTBEAT_MS; a gap between two
// ticks (or between a tick and a reading) longer than HEARTBEAT_MS +
// STOP_THRESHOLD_MS means the process did not run (stopped, or its event loop
// blocked in synchronous work: either way nobody could watch the limit), and
// everything beyond one heartbeat is left out. Stops shorter than the
// threshold are counted.
//
// Timers are armed in chunks of at most MAX_TIMER_MS: Node's setTimeout
// holds a signed 32-bit millisecond count and turns anything larger into
// 1 ms.

import { performance } from 'perf_hooks';

const HEARTBEAT_MS = 250;
const STOP_THRESHOLD_MS = 1000;
/** The longest delay setTimeout keeps (2^31 - 1 ms, about 24.8 days). */
export const MAX_TIMER_MS = 2 ** 31 - 1;

let lost = 0;
let lastSeen = performance.now();
let heartbeat: NodeJS.Timeout | undefined;
let pending = 0;

/** Account for a gap since the last time the process was seen running. */
function notice(): number {
  const now = performance.now();
  const gap = now - lastSeen;
  if (gap > HEARTBEAT_MS + STOP_THRESHOLD_MS) lost += gap - HEARTBEAT_MS;
  lastSeen = now;
  return now - lost;
}

/** runningNow -- milliseconds of the process's running time (an arbitrary
 *  origin; only differences mean anything). */
export function runningNow(): number {
  return pending > 0 ? notice() : performance.now() - lost;
}

function hold(): void {
  pending += 1;
  if (pending === 1) {
    lastSeen = performance.now();
    heartbeat = setInterval(notice, HEARTBEAT_MS);
    heartbeat.unref();
  }
}

function release(): void {
  pending -= 1;
  if (pending === 0 && heartbeat) {
    clearInterval(heartbeat);
    heartbeat = undefined;
  }
}

/** Deadline -- `ms` of running time from now; `onExpire` (if given) runs
 *  once when they are used up, unless cancel() came first. */
export class Deadline {
  private readonly end: number;
  private timer: NodeJS.Timeout | undefined;
  private active = true;

  constructor(
    readonly ms: number,
    private readonly onExpire?: () => void,
  ) {
    hold();
    this.end = runningNow() + ms;
    if (onExpire) this.arm();
  }

  remainingMs(): number {
    return Math.max(0, this.end - runningNow());
  }

  expired(): boolean {
    return this.remainingMs() === 0;
  }

  /** cancel -- stop the timer and the heartbeat it keeps; idempotent. */
  cancel(): void {
    if (!this.active) return;
    this.active = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    release();
  }

  private arm(): void {
    this.timer = setTimeout(() => this.fire(), Math.max(1, Math.min(Math.ceil(this.remainingMs()), MAX_TIMER_MS)));
  }

  private fire(): void {
    if (!this.active) return;
    if (!this.expired()) {
      this.arm();
      return;
    }
    this.cancel();
    this.onExpire!();
  }
}
