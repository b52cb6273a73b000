// replay -- `pmfit replay FILE`: run the case of a replay file written by
// `pmfit fuzz` again, with the same target, operations, split point (or the
// same per-thread operations and schedule seed), model and options, and
// print its failure the way fuzz printed it.
//
// Exit status: 1 when the case still fails (saying whether it is the recorded
// failure: same stage, crash point, image and verdict), 0 when it no longer
// fails, 2 for a file that cannot be used (missing, truncated, corrupt,
// written by a newer pmfit, naming an unknown target or invalid operations).

import { ExitCode, PmfitError, usageError } from '../../_internals/errors';
import { readBoundedText } from '../../_internals/input-file';
import { resolveJobs } from '../resolve-jobs';
import { FuzzCase, FuzzCaseError, planCase } from '../../fuzz/case-plan';
import { formatCaseFailure, replayFailure, sameFailure } from '../../fuzz/format-failure';
import { parseReplay, ReplayFailure, ReplayFile, ReplayFileError } from '../../fuzz/replay-file';
import { CaseFailure, CaseOptions, runCase } from '../../fuzz/run-case';
import { runThreadsCase } from '../../fuzz/run-threads-case';
import { formatThreadsFailure } from '../../fuzz/format-threads-failure';
import { checkThreadsCase, ThreadsCase } from '../../fuzz/threads-case';
import { anyFuzzTarget, SomeFuzzTarget } from '../../../targets/fuzz-targets';

export interface ReplayCommandOptions {
  jobs?: number;
}

/** Largest replay file read (they hold one case's operations). */
const REPLAY_LIMIT = 16 << 20;

function readReplay(file: string): ReplayFile {
  let text: string;
  try {
    text = readBoundedText(file, REPLAY_LIMIT, 'a replay file');
  } catch (error) {
    if (error instanceof PmfitError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    throw usageError(
      `cannot read replay file ${file}: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'a directory' : (error as Error).message}`,
    );
  }
  try {
    return parseReplay(text);
  } catch (error) {
    if (error instanceof ReplayFileError) throw usageError(`replay file ${file}: ${error.message}`);
    throw error;
  }
}

function summary(failure: ReplayFailure): string {
  switch (failure.stage) {
    case 'setup':
      return `setup failed (${failure.command}: ${failure.why})`;
    case 'workload':
      return `the traced invocation failed (exit status ${failure.exitCode ?? 'none'})`;
    case 'crash':
      return `crash point k=${failure.k}, image ${failure.hash}, ${failure.kind} at ${failure.phase}`;
  }
}

export async function replay(file: string, options: ReplayCommandOptions = {}): Promise<number> {
  const replayed = readReplay(file);
  let found: SomeFuzzTarget;
  try {
    found = anyFuzzTarget(replayed.target);
  } catch (error) {
    throw usageError(`replay file ${file}: ${(error as Error).message}`);
  }
  const caseOptions: CaseOptions = {
    model: replayed.model,
    maxStates: replayed.maxStates,
    modelSeed: replayed.modelSeed,
    pmemMode: replayed.pmemMode,
    timeoutMs: replayed.timeoutMs,
    jobs: resolveJobs(options.jobs),
  };
  const parse = (parseOp: (value: unknown) => unknown, op: unknown, where: string): unknown => {
    try {
      return parseOp(op);
    } catch (error) {
      throw usageError(`replay file ${file}: ${where}: ${(error as Error).message}`);
    }
  };
  const out = process.stdout;
  let failure: CaseFailure | undefined;
  if (found.kind === 'threads' || replayed.threads !== undefined) {
    if (found.kind !== 'threads' || replayed.threads === undefined)
      throw usageError(
        `replay file ${file}: ${replayed.target} ${found.kind === 'threads' ? 'is multithreaded, but the file has no threads' : 'is not multithreaded, but the file has threads'}`,
      );
    const { target } = found;
    const threadsCase: ThreadsCase = {
      threads: replayed.threads.map((ops, t) =>
        ops.map((op, i) => parse(target.parseOp.bind(target), op, `thread ${t + 1} operation #${i + 1}`)),
      ),
      scheduleSeed: replayed.scheduleSeed,
    };
    try {
      checkThreadsCase(target, threadsCase);
    } catch (error) {
      if (error instanceof FuzzCaseError) throw usageError(`replay file ${file}: ${error.message}`);
      throw error;
    }
    const ops = threadsCase.threads.reduce((sum, thread) => sum + thread.length, 0);
    out.write(
      `replay ${target.name}: ${threadsCase.threads.length} thread${threadsCase.threads.length === 1 ? '' : 's'}, ${ops} operation${ops === 1 ? '' : 's'}, schedule seed ${threadsCase.scheduleSeed}, model ${replayed.model} (${file})\n`,
    );
    const report = await runThreadsCase(target, threadsCase, caseOptions);
    failure = report.failure;
    if (failure)
      for (const line of formatThreadsFailure(target, threadsCase, report, replayed.model)) out.write(`${line}\n`);
  } else {
    const { target } = found;
    const ops = replayed.ops.map((op, i) => parse(target.parseOp.bind(target), op, `operation #${i + 1}`));
    const fuzzCase: FuzzCase = { ops, split: replayed.split, traceAll: replayed.traceAll };
    try {
      planCase(target, fuzzCase);
    } catch (error) {
      if (error instanceof FuzzCaseError) throw usageError(`replay file ${file}: ${error.message}`);
      throw error;
    }
    out.write(
      `replay ${target.name}: ${ops.length} operation${ops.length === 1 ? '' : 's'}, traced from #${fuzzCase.split + 1}, model ${replayed.model} (${file})\n`,
    );
    const report = await runCase(target, fuzzCase, caseOptions);
    failure = report.failure;
    if (failure) for (const line of formatCaseFailure(target, fuzzCase, report, replayed.model)) out.write(`${line}\n`);
  }
  if (!failure) {
    out.write(`no longer fails (recorded: ${summary(replayed.failure)})\n`);
    return ExitCode.Ok;
  }
  const now = replayFailure(failure);
  out.write(
    sameFailure(replayed.failure, now)
      ? 'the recorded failure reproduces (same crash point, image and verdict)\n'
      : `still fails, but differently: recorded ${summary(replayed.failure)}; now ${summary(now)}\n`,
  );
  return ExitCode.Violations;
}
