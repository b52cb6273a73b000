// ops-done-env -- the operation window of a crash, as the environment of the
// recovery commands that run on its image: PMFIT_OPS_DONE_MIN operations
// had certainly returned at the crash, PMFIT_OPS_DONE_MAX may have taken
// effect (allowed-states.ts has the windows). A checker of its own can use
// them to tell a lost completed operation from an interrupted one.
//
//   between operations, i done (window s<i>)  MIN = MAX = i
//   during operation i (0-based, op<i>)       MIN = i, MAX = i + 1

import type { OpWindow } from './allowed-states';

export const OPS_DONE_MIN = 'PMFIT_OPS_DONE_MIN';
export const OPS_DONE_MAX = 'PMFIT_OPS_DONE_MAX';

export function opsDoneEnv(window: Pick<OpWindow, 'kind' | 'index'>): Record<string, string> {
  const min = window.index;
  const max = window.kind === 'between' ? window.index : window.index + 1;
  return { [OPS_DONE_MIN]: String(min), [OPS_DONE_MAX]: String(max) };
}
