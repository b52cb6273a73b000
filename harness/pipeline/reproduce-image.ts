// reproduce-image -- `pmfit reproduce`'s work: rebuild one group's crash
// image from the kept trace, write it where the user can look at it, run the
// same recovery and check on it that the run did, and give the verdict.
//
// DIR/crash/NAME is the crash image as the model left it (not touched after);
// DIR/recovered/NAME is a second copy, on which the recovery ran.

import * as fs from 'fs';
import * as path from 'path';
import { PmfitError } from '../_internals/errors';
import { OpWindows } from '../check/allowed-states';
import { CommandNotRunError } from '../check/command-not-run';
import { opsDoneEnv } from '../check/ops-done-env';
import { recoveredVerdict, recoverImage } from '../check/recover-image';
import { placeholders, shellLine } from '../check/spec-command';
import type { Recovered } from '../check/recovery-cache';
import { referenceStates, type TargetSpec } from '../check/spec';
import type { Verdict } from '../check/verdict';
import type { TraceReader } from '../trace/format';
import { crashImage, CrashImageQuery } from './crash-image';

export interface ReproducedImage {
  /** The crash image's files, as the model left them. */
  crashFiles: string[];
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
  const commands = spec.recover.map((command) => shellLine(command, placeholders(recoveredDir, spec.pmFiles)));
  const window = new OpWindows(reader.header.regions, referenceStates(spec, reader.header.regions)).windowAt(query.k);
  const result = await recoverImage(
    spec,
    found.image,
    recoveredDir,
    timeoutMs,
    spec.windowEnv ? opsDoneEnv(window) : {},
  ).catch((error: unknown) => {
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
