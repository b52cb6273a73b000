// equivalents -- why some mutants survive every model. Filled in by reading
// each survivor against the sources; bugs.ts checks every claim against the
// run (a claimed mutant that some model kills is reported as a wrong claim
// and counted like any other mutant).
//
//   equivalent: the mutant cannot make a crash leave a state that recovery
//               gets wrong (no crash image differs in a way that matters);
//               it is left out of the detection rate.
//   uncovered:  a real bug that no workload the harness can trace exercises;
//               it stays in the detection rate as a miss, and the bench
//               prints the rate over covered mutants beside it.

export interface Survivor {
  kind: 'equivalent' | 'uncovered';
  why: string;
}

export const SURVIVORS: Record<string, Survivor> = {};
