// output-oracle -- `--oracle outputs`, output equivalence after Witcher: a
// crash image is consistent when the recovery command's output on it equals
// its output on an uncrashed image the crash may stand for.
//
// The reference states are the recovery's outputs on the uncrashed images at
// the operation boundaries (pipeline/boundary-outputs.ts): states[0] on the
// image before the first operation, states[i] on the image as operation i
// left it when it returned. Which of them a crash image may equal is the
// allowed-states rule that the built-in targets' specs use for their
// reference states (allowed-states.ts): before or after the interrupted
// operation, and only "after" once it has returned. The user writes no
// invariant: a recovery command that prints the state is enough.
//
// Outputs are compared after normalizeOutput (the image's temporary path
// becomes {dir}, trailing blanks go); stdout only, so diagnostics on stderr
// do not count.

import { normalizeOutput } from './outcome-groups';
import type { CheckInput, TargetSpec } from './spec';

/** outputOracleSpec -- SPEC checked by output equivalence against OUTPUTS
 *  (one per operation boundary, normalized). */
export function outputOracleSpec(spec: TargetSpec, outputs: string[]): TargetSpec {
  return {
    ...spec,
    oracle: 'outputs',
    states: outputs,
    checkReadsOutputOnly: true,
    check: ({ recoveryOutput, allowed }: CheckInput): string[] => {
      const output = normalizeOutput(recoveryOutput);
      if (allowed.some((state) => state === output)) return [];
      return [outputMismatch(output, allowed as string[])];
    },
  };
}

function quoted(text: string): string {
  const one = text.length > 200 ? `${text.slice(0, 200)}...` : text;
  return JSON.stringify(one);
}

function outputMismatch(output: string, allowed: string[]): string {
  if (allowed.length === 1) {
    return `output equivalence: the recovery printed ${quoted(output)}, but every operation before the crash had returned and the uncrashed file then gives ${quoted(allowed[0])} (a completed operation was lost)`;
  }
  return `output equivalence: the recovery printed ${quoted(output)}, which is neither its output before the interrupted operation (${quoted(allowed[0])}) nor after it (${quoted(allowed[1])})`;
}
