// format-threads-failure -- a failing case of a multithreaded fuzz target for
// the console, the same for `pmfit fuzz` and `pmfit replay`: each thread's
// operations, the schedule seed, then the failure as for a single-threaded
// case (format-failure.ts), its crash point placed in the interleaving the
// trace recorded (which thread's operation was running).

import type { ModelName } from '../persistency/model';
import { FuzzCaseError } from './case-plan';
import { formatFailure, plural } from './format-failure';
import type { CheckReport } from './run-case';
import { interleave, RegionOrigin, ThreadsCase } from './threads-case';
import type { AnyThreadsFuzzTarget } from './threads-target';

/** describeThreadsWindow -- where a crash window lies in the interleaving. */
export function describeThreadsWindow(
  target: AnyThreadsFuzzTarget,
  threadsCase: ThreadsCase,
  origins: readonly RegionOrigin[],
  window: string,
): string {
  const match = /^(s|op)(\d+)$/.exec(window);
  if (!match) return window;
  const index = Number(match[2]);
  const name = (origin: RegionOrigin) =>
    `#${origin.op + 1} ${target.showOp(threadsCase.threads[origin.thread - 1][origin.op])} of thread ${origin.thread}`;
  const ofRegions = (origin: RegionOrigin) =>
    origin.regions > 1 ? `, its region ${origin.region + 1} of ${origin.regions}` : '';
  if (match[1] === 'op') {
    const origin = origins[index];
    return origin ? `during operation ${name(origin)}${ofRegions(origin)}` : `during region ${index + 1}`;
  }
  if (index === 0) return 'before the first region of any thread';
  const origin = origins[index - 1];
  if (!origin) return `after region ${index}`;
  return origin.region + 1 === origin.regions
    ? `after operation ${name(origin)} (region ${index} of the interleaving)`
    : `between regions ${origin.region + 1} and ${origin.region + 2} of operation ${name(origin)}`;
}

/** formatThreadsFailure -- the failure of a threaded case, as console lines. */
export function formatThreadsFailure(
  target: AnyThreadsFuzzTarget,
  threadsCase: ThreadsCase,
  report: CheckReport,
  model: ModelName,
  /** The failing group's `pmfit reproduce` line, when results.json keeps it. */
  reproduce?: string,
): string[] {
  const { failure } = report;
  if (!failure) return ['no failure'];
  const { threads, scheduleSeed } = threadsCase;
  const ops = threads.reduce((sum, thread) => sum + thread.length, 0);
  const out = [
    `threads (${plural(threads.length, 'thread')}, ${plural(ops, 'operation')}, schedule seed ${scheduleSeed}):`,
  ];
  threads.forEach((thread, t) => {
    out.push(`  thread ${t + 1}: ${thread.map((op, i) => `#${i + 1} ${target.showOp(op)}`).join(', ')}`);
  });
  let where = '';
  if (failure.stage === 'crash') {
    let origins: RegionOrigin[] = [];
    try {
      origins = interleave(target, threadsCase, report.regions).origins;
    } catch (error) {
      if (!(error instanceof FuzzCaseError)) throw error;
    }
    where = describeThreadsWindow(target, threadsCase, origins, failure.window);
    out.push(
      `interleaving (schedule seed ${scheduleSeed}): ${origins.map((origin) => `t${origin.thread}#${origin.op + 1}`).join(' ')}`,
    );
  }
  out.push(...formatFailure(report, model, where, reproduce));
  return out;
}
