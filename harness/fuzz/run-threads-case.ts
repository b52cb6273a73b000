// run-threads-case -- check one case of a multithreaded fuzz target: its spec
// (threads-case.ts) with the ordinary crash-state pipeline (run-case.ts,
// checkCase): a fresh pool, the program run once under the tracer with the
// case's schedule seed, every crash state of one model recovered and
// checked against the states of the trace's own interleaving. A
// multithreaded case has no continuation (the whole program is traced).

import type { CaseOptions, CheckReport } from './run-case';
import { checkCase } from './run-case';
import { checkThreadsCase, ThreadsCase, threadsSpec } from './threads-case';
import type { AnyThreadsFuzzTarget } from './threads-target';

export async function runThreadsCase(
  target: AnyThreadsFuzzTarget,
  threadsCase: ThreadsCase,
  options: CaseOptions,
): Promise<CheckReport> {
  checkThreadsCase(target, threadsCase);
  const spec = threadsSpec(target, threadsCase, { PMEM_MODE: options.pmemMode });
  return checkCase(spec, options, {
    name: target.name,
    record: {
      kind: 'fuzz-threads',
      threads: threadsCase.threads,
      scheduleSeed: threadsCase.scheduleSeed,
      pmemMode: options.pmemMode,
    },
  });
}
