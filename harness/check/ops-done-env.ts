// ops-done-env -- the operation window of a crash, as the environment of the
// recovery commands that run on its image: PMFIT_OPS_DONE_MIN operations
// had certainly returned at the crash, PMFIT_OPS_DONE_MAX may have taken
// effect (allowed-states.ts has the windows). A checker of its own can use
// them to tell a lost completed operation from an interrupted one.
//
//   between operations, i done (window s<i>)  MIN = MAX = i
//   during operation i (0-based, op<i>)       MIN = i, MAX = i + 1
//   d done and f operations of other threads in flight at once
//                                             MIN = d, MAX = d + f

import type { OpWindow } from './allowed-states';

export const OPS_DONE_MIN = 'PMFIT_OPS_DONE_MIN';
export const OPS_DONE_MAX = 'PMFIT_OPS_DONE_MAX';

export function opsDoneEnv(window: Pick<OpWindow, 'done' | 'inFlight'>): Record<string, string> {
  return { [OPS_DONE_MIN]: String(window.done), [OPS_DONE_MAX]: String(window.done + window.inFlight.length) };
}
