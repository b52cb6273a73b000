// finding-advice -- what a reader of a finding acts on beside its sites:
// the change that removes its cause (by kind, naming its sites), and what
// the recovery said of its example image, taken from the violation group
// whose example is that same image (same content hash: the same recovery
// and check ran on it), so nothing is guessed.

import type { Finding, FindingSite, OutcomeGroup, RunResult } from '../results/schema';
import { siteLocation } from '../pipeline/site-locations';

/** findingFix -- one sentence: the change a finding asks for. */
export function findingFix(finding: Finding): string {
  const fix = kindFix(finding);
  // A site reached through libpmemobj: the program's stores are in a
  // transaction, where an unlogged field (no TX_ADD) is the usual mistake
  // and a persist of the program's own is not the remedy.
  return finding.sites.some(inTransaction)
    ? `${fix}; in a libpmemobj transaction, make sure every field it changes was added to it (TX_ADD, TX_ADD_FIELD) before the change`
    : fix;
}

function kindFix(finding: Finding): string {
  const at = (role: string) => {
    const site = finding.sites.find((candidate) => candidate.role === role);
    return site ? siteLocation(site) : undefined;
  };
  switch (finding.kind) {
    case 'not-durable':
      return `persist the store at ${at('never-durable') ?? 'this site'} (flush and fence) before its operation returns`;
    case 'ordering': {
      const first = at('durable-first') ?? 'the later store';
      const earlier = at('not-yet-durable');
      return `persist ${earlier ? `the store at ${earlier}` : 'the earlier stores'} (flush and fence) before the store at ${first} is made, so that ${first} is never durable without ${earlier ? 'it' : 'them'}`;
    }
    case 'atomicity': {
      const opens = at('opens');
      const closes = at('closes');
      const between =
        opens && closes ? `between ${opens} and ${closes}` : opens ? `after ${opens}` : 'in the operation';
      return `a crash ${between} leaves a state recovery rejects: persist what the store at ${opens ?? 'the first site'} makes reachable before it, or have recovery finish or undo the operation`;
    }
  }
}

/** inTransaction -- a site reached through libpmemobj (its stack has a
 *  libpmemobj frame, or it is libpmemobj's own instruction). */
function inTransaction(site: FindingSite | undefined): boolean {
  const libpmemobj = (module: string | undefined) => /libpmemobj\.so/.test(module ?? '');
  return !!site && (libpmemobj(site.module) || (site.stack ?? []).some((frame) => libpmemobj(frame.module)));
}

/** The recovery's account of a finding's example image. */
export interface ExampleRecovery {
  group: OutcomeGroup;
  /** The failed checks, else the first line of the recovery's output,
   *  else the verdict kind. */
  said: string;
}

/** exampleRecovery -- the violation group of `run` whose example image is
 *  the finding's; undefined when no group's example is that image. */
export function exampleRecovery(run: RunResult, finding: Finding): ExampleRecovery | undefined {
  const group = run.groups.find((candidate) => candidate.violation && candidate.example.hash === finding.example.hash);
  if (!group) return undefined;
  const first = group.recoveryOutput
    .split('\n')
    .map((line) => line.trim())
    .find((line) => line !== '');
  const said = group.failed.length > 0 ? group.failed.slice(0, 3).join('; ') : (first ?? group.kind);
  return { group, said };
}
