// fuzz-defaults -- the defaults of `pmfit fuzz`, apart from the command
// (commands/fuzz.ts) so that the help shows them without loading it.

export const DEFAULT_FUZZ_RUNS = 20;
export const DEFAULT_FUZZ_OPS = 6;
export const DEFAULT_FUZZ_THREADS = 3;
