// replay-workload -- a target's workload started once more as it was
// recorded, for the passes that stop it at recorded instruction indices
// (explain-groups: the interrupted instructions; stacks-at: call stacks).
//
// Instruction i is the recording's instruction i only when everything
// that shapes the run is the same: the program, its arguments and
// environment, a pool made by the same setup in a fresh directory, the
// trace's thread schedule. And the user's own files stay guarded as when
// recording: a replay is a traced run like any other.

import * as fs from 'fs';
import { Interrupted } from '../../_internals/interrupt';
import { tempDir } from '../../_internals/temp-root';
import { runSetup } from '../../check/run-setup';
import type { TargetSpec } from '../../check/spec';
import { workloadLaunch } from '../../check/spec-command';
import type { TraceHeader } from '../../trace/format';
import { resolveCommand } from '../../tracer/resolve-command';
import { Tracee } from '../../tracer/tracee';

export type ReplayStart =
  /** Stopped before its first instruction; the caller kills it and removes `work`. */
  { kind: 'started'; tracee: Tracee; work: string } | { kind: 'failed'; why: string };

export async function startReplay(
  spec: TargetSpec,
  header: TraceHeader,
  purpose: string,
  timeoutMs: number,
): Promise<ReplayStart> {
  const work = tempDir(`${spec.name}-${purpose}`);
  const setup = await runSetup(spec, work, timeoutMs);
  if (setup.kind !== 'ok') {
    await fs.promises.rm(work, { recursive: true, force: true });
    return { kind: 'failed', why: `the setup failed when run again (${setup.kind})` };
  }
  const launch = workloadLaunch(spec, work);
  const devNull = fs.openSync('/dev/null', 'w');
  try {
    const tracee = Tracee.start({
      command: resolveCommand(launch.argv),
      functions: spec.functions,
      // the trace's interleaving: the same seed stops at the same instruction
      scheduleSeed: header.scheduleSeed ?? spec.scheduleSeed,
      cwd: spec.cwd ?? work,
      env: { ...process.env, ...launch.env },
      stdoutFd: devNull,
      stderrFd: devNull,
      guardFiles: spec.userFiles,
    });
    return { kind: 'started', tracee, work };
  } catch (err) {
    if (err instanceof Interrupted) throw err;
    await fs.promises.rm(work, { recursive: true, force: true });
    return { kind: 'failed', why: `the workload did not start again: ${(err as Error).message}` };
  } finally {
    fs.closeSync(devNull);
  }
}
