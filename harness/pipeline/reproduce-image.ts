// reproduce-image -- `pmfit reproduce`'s work: rebuild one group's crash
// image from the kept trace, write it where the user can look at it, run the
// same recovery and check on it that the run did, and give the verdict.
//
// DIR/crash/NAME is the crash image as the model left it (not touched after);
// DIR/recovered/NAME is a second copy, on which the recovery ran. For a
// crash during recovery (--depth 2), the recovery of the crash image is
// traced again and DIR/recovery-crash/NAME is the image its crash at the
// recorded recovery crash point left; the recovery runs on a copy of that.

import * as fs from 'fs';
import * as path from 'path';
import { PmfitError } from '../_internals/errors';
import { shellQuote } from '../_internals/shell-words';
import { OpWindow, OpWindows } from '../check/allowed-states';
import { CommandNotRunError } from '../check/command-not-run';
import { opsDoneEnv } from '../check/ops-done-env';
import { recoveredVerdict, recoverImage } from '../check/recover-image';
import { placeholders, shellLine } from '../check/spec-command';
import type { Recovered } from '../check/recovery-cache';
import { referenceStates, type ReferenceState, type TargetSpec } from '../check/spec';
import type { ImagePatch } from '../image/image-patch';
import type { Verdict } from '../check/verdict';
import type { TraceReader } from '../trace/format';
import { crashImage, CrashImageQuery } from './crash-image';
import { expectedStates, recoverIn, recoveryCrashStates, secondVerdict, traceRecovery } from './recovery-crashes';

/** A group of kind recovery-not-crash-safe: the crash during the recovery
 *  of the crash image, at recovery crash point k, that left image `hash`. */
export interface RecoveryCrashQuery {
  k: number;
  hash: string;
  recoverFunction?: string;
}

export interface ReproducedImage {
  /** The crash image's files, as the model left them. */
  crashFiles: string[];
  /** With a recovery crash: the image the crash during its recovery left. */
  recoveryCrashFiles?: string[];
  /** The recovered copy's files. */
  recoveredFiles: string[];
  /** The recovery commands as they ran, `{file}` and `{dir}` substituted. */
  commands: string[];
  /** States the model has at k (px86 may have several). */
  states: number;
  verdict: Verdict;
  /** What the recovery left, when it succeeded (a fuzz case continues it). */
  recovered?: Recovered;
}

export async function reproduceImage(
  spec: TargetSpec,
  reader: TraceReader,
  query: CrashImageQuery,
  dir: string,
  timeoutMs: number,
  recoveryCrash?: RecoveryCrashQuery,
): Promise<ReproducedImage> {
  const found = crashImage(reader, query);
  if (found.kind === 'missing') {
    throw new PmfitError(
      `no ${query.model} state at crash point ${query.k} has the recorded image hash ${query.hash} ` +
        `(the trace gives ${found.hashes.length > 0 ? found.hashes.slice(0, 4).join(', ') : 'no state there'}): ` +
        'the trace beside results.json is not the one this run checked',
    );
  }
  const crashDir = path.join(dir, 'crash');
  const recoveredDir = path.join(dir, 'recovered');
  fs.mkdirSync(crashDir);
  fs.mkdirSync(recoveredDir);
  const crashFiles = spec.pmFiles.map((name) => path.join(crashDir, name));
  for (let i = 0; i < crashFiles.length; i += 1) {
    await fs.promises.mkdir(path.dirname(crashFiles[i]), { recursive: true });
    await found.image.writeFile(i, crashFiles[i]);
  }
  const recoveredFiles = spec.pmFiles.map((name) => path.join(recoveredDir, name));
  const commands =
    spec.recoverServer !== undefined
      ? // what the server is given, as one line a shell runs the same way
        [`printf '%s\\n' ${shellQuote(recoveredFiles[0])} | ${spec.recoverServer}`]
      : spec.recover.map((command) => shellLine(command, placeholders(recoveredDir, spec.pmFiles)));
  const window = new OpWindows(reader.header.regions, referenceStates(spec, reader.header.regions)).windowAt(query.k);
  const env = spec.windowEnv ? opsDoneEnv(window) : {};
  if (recoveryCrash) {
    const second = await secondImage(spec, found.image, query, recoveryCrash, window, env, timeoutMs);
    const secondDir = path.join(dir, 'recovery-crash');
    fs.mkdirSync(secondDir);
    const recoveryCrashFiles = spec.pmFiles.map((name) => path.join(secondDir, name));
    for (let i = 0; i < recoveryCrashFiles.length; i += 1) {
      await fs.promises.mkdir(path.dirname(recoveryCrashFiles[i]), { recursive: true });
      await second.image.writeFile(i, recoveryCrashFiles[i]);
    }
    const result = await recoverImage(spec, second.image, recoveredDir, timeoutMs, env);
    return {
      crashFiles,
      recoveryCrashFiles,
      recoveredFiles,
      commands,
      states: found.states,
      verdict: secondVerdict(spec, result, second.expected, recoveryCrash.k, second.instructions, recoveryCrash.hash),
      ...(result.kind === 'recovered' ? { recovered: result.recovered } : {}),
    };
  }
  const result = await recoverImage(spec, found.image, recoveredDir, timeoutMs, env).catch((error: unknown) => {
    throw error instanceof CommandNotRunError
      ? error.onImage(`the ${query.model} crash image at crash point ${query.k} (image ${query.hash})`)
      : error;
  });
  const allowed = window.allowed;
  return {
    crashFiles,
    recoveredFiles,
    commands,
    states: found.states,
    verdict: recoveredVerdict(spec, result, allowed),
    ...(result.kind === 'recovered' ? { recovered: result.recovered } : {}),
  };
}

/** secondImage -- the image a crash at recovery crash point QUERY.k left,
 *  from one more traced recovery of IMAGE (the same recorder and model as
 *  the run), and what the uninterrupted recovery of IMAGE reached. */
async function secondImage(
  spec: TargetSpec,
  image: ImagePatch,
  query: CrashImageQuery,
  crash: RecoveryCrashQuery,
  window: OpWindow,
  env: Record<string, string>,
  timeoutMs: number,
): Promise<{ image: ImagePatch; expected: ReferenceState[]; instructions: number }> {
  const uninterrupted = await recoverIn(spec, image, timeoutMs, env);
  const expected = expectedStates(spec, uninterrupted, window);
  if (expected === undefined)
    throw new PmfitError(
      `the uninterrupted recovery of the crash image at k=${query.k} does not pass any more: this is not the run's recovery`,
    );
  const traced = await traceRecovery(spec, image, env, { recoverFunction: crash.recoverFunction, timeoutMs });
  if (!traced) throw new PmfitError(`the recovery of the crash image at k=${query.k} entered no recovery region now`);
  try {
    const { distinct } = recoveryCrashStates(traced.reader, query.model, query.hash, query.modelOptions);
    const state = distinct.find((candidate) => candidate.hash === crash.hash);
    if (!state || state.at !== crash.k)
      throw new PmfitError(
        `no ${query.model} crash state of the recovery has the recorded image hash ${crash.hash}: the recovery is not the one this run crashed`,
      );
    return { image: state.image, expected, instructions: traced.reader.header.instructions };
  } finally {
    traced.reader.close();
    await fs.promises.rm(traced.file, { force: true });
  }
}
