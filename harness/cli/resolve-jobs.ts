// resolve-jobs -- the number of recoveries run at once: --jobs, or one per
// CPU, lowered (with a note on stderr) to what the resource limits allow.

import { currentLimits, limitJobs } from '../check/job-limit';
import { defaultConcurrency } from '../check/worker-pool';

export function resolveJobs(requested: number | undefined): number {
  const wanted = requested ?? defaultConcurrency();
  const { jobs, lowered } = limitJobs(wanted, currentLimits());
  if (lowered)
    process.stderr.write(
      `pmfit: running ${jobs} ${jobs === 1 ? 'recovery' : 'recoveries'} at once, not ${wanted}: ${lowered}\n`,
    );
  return jobs;
}
