// recover-image -- recover one crash image in a directory and check what
// comes out: the steps every crash state goes through (runner.ts), also taken
// on the uncrashed images before a run (preflight) and by `pmfit reproduce`,
// so that all three reach the same verdict on the same image.

import * as fs from 'fs';
import * as path from 'path';

import type { ImagePatch } from '../image/image-patch';
import { commandNotRun } from './command-not-run';
import type { ReferenceState, TargetSpec } from './spec';
import type { Recovered, RecoveryResult } from './recovery-cache';
import { checkWithServer } from './recover-server';
import { recoveryVerdict } from './recovery-verdict';
import { runCommands } from './run-commands';
import type { Verdict } from './verdict';

/** recoverImage -- write `image` into `dir` under the spec's PM file names,
 *  run the spec's recovery there (or give its first file to the spec's
 *  recover server, recover-server.ts) and read the recovered files back (only
 *  when the spec has a check that reads them). A recovery that fails or
 *  removes a PM file is a 'failed' result; one the shell could not run
 *  (126, 127) throws CommandNotRunError, since it says nothing about the
 *  image. The directory is left as the recovery left it. `env` adds to the
 *  spec's environment (the operation window, ops-done-env.ts). */
export async function recoverImage(
  spec: TargetSpec,
  image: ImagePatch,
  dir: string,
  timeoutMs: number,
  env: Record<string, string> = {},
): Promise<RecoveryResult> {
  for (let i = 0; i < spec.pmFiles.length; i += 1) {
    const file = path.join(dir, spec.pmFiles[i]);
    await fs.promises.mkdir(path.dirname(file), { recursive: true });
    await image.writeFile(i, file);
  }
  const outcome =
    spec.recoverServer !== undefined
      ? await checkWithServer(
          // a built-in target's server runs where pmfit runs: the image's
          // directory is gone after the image
          { command: spec.recoverServer, cwd: spec.cwd ?? process.cwd(), env: spec.env ?? {} },
          path.resolve(dir, spec.pmFiles[0]),
          timeoutMs,
        )
      : await runCommands(spec.recover, dir, {
          timeoutMs,
          env: { ...spec.env, ...env },
          files: spec.pmFiles,
          cwd: spec.cwd,
        });
  if (outcome.kind === 'failed' && spec.recoverServer === undefined) {
    const notRun = commandNotRun(spec.recover[outcome.index], outcome.command, outcome.exitCode, outcome.output);
    if (notRun) throw notRun;
  }
  if (outcome.kind !== 'ok') return { kind: 'failed', verdict: recoveryVerdict(outcome) };
  const files: Buffer[] = [];
  const missing: string[] = [];
  for (const name of spec.pmFiles) {
    try {
      const file = path.join(dir, name);
      if (spec.check && !spec.checkReadsOutputOnly) files.push(await fs.promises.readFile(file));
      else await fs.promises.access(file);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      missing.push(`PM file ${name} is missing after recovery`);
      files.push(Buffer.alloc(0));
    }
  }
  if (missing.length > 0) {
    return { kind: 'failed', verdict: { kind: 'invariant', failed: missing, output: outcome.output } };
  }
  return { kind: 'recovered', recovered: { files, stdout: outcome.stdout, output: outcome.output } };
}

/** checkRecovered -- the spec's check of recovered files against the
 *  reference states allowed at the crash point; without a check a recovery
 *  that succeeded is consistent. A check that throws is one violated
 *  invariant. */
export function checkRecovered(spec: TargetSpec, recovered: Recovered, allowed: ReferenceState[]): Verdict {
  if (!spec.check) return { kind: 'ok' };
  let failed: string[];
  try {
    failed = spec.check({ files: recovered.files, recoveryOutput: recovered.stdout, allowed });
  } catch (error) {
    failed = [`check threw: ${error instanceof Error ? error.message : String(error)}`];
  }
  return failed.length > 0 ? { kind: 'invariant', failed: [...failed], output: recovered.output } : { kind: 'ok' };
}

/** recoveredVerdict -- a recovery result and its check, as one verdict. */
export function recoveredVerdict(spec: TargetSpec, result: RecoveryResult, allowed: ReferenceState[]): Verdict {
  return result.kind === 'failed' ? result.verdict : checkRecovered(spec, result.recovered, allowed);
}
