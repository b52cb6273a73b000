// run-setup -- a target's setup commands, run in a fresh work directory to
// make its PM files, as every pass that runs the workload needs them: the
// recording, a fuzz case, and the replays that stop it at recorded
// instructions. One place, so each pass runs the setup the same way (the
// target's environment, its PM files for {file}, its working directory).

import { CommandsOutcome, runCommands } from './run-commands';
import type { TargetSpec } from './spec';

export function runSetup(spec: TargetSpec, work: string, timeoutMs: number): Promise<CommandsOutcome> {
  return runCommands(spec.setup, work, { timeoutMs, env: spec.env, files: spec.pmFiles, cwd: spec.cwd });
}
