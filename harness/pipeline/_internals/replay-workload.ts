// replay-workload -- a target's workload run once more as it was recorded,
// stopped at recorded crash points in turn, for the passes that look at the
// program there (explain-groups: the interrupted instructions; stacks-at:
// call stacks).
//
// Crash point k is the recording's crash point k only when everything
// that shapes the run is the same: the program, its arguments and
// environment, a pool made by the same setup in a fresh directory, the
// trace's thread schedule, and the recorder. An exact trace counts
// instructions, which the plain stepper counts too; a fast trace counts the
// fast recorder's single steps, which depend on what it saw of PM (faults
// on protected pages, flushes waiting for their fence), so it is met only
// by recording again with the fast recorder (a trace nobody reads), which
// then runs to the end: its instruction count must be the trace's, or the
// run went otherwise and nothing it stopped at is kept. The user's own
// files stay guarded as when recording: a replay is a traced run like any
// other.

import * as fs from 'fs';
import { Interrupted } from '../../_internals/interrupt';
import { tempDir, tempPath } from '../../_internals/temp-root';
import { runSetup } from '../../check/run-setup';
import type { TargetSpec } from '../../check/spec';
import { workloadLaunch } from '../../check/spec-command';
import type { TraceHeader } from '../../trace/format';
import { resolveCommand } from '../../tracer/resolve-command';
import { type RunEnd, Tracee } from '../../tracer/tracee';
import { recordWorkload } from '../record-workload';

export type StopEnd = Extract<RunEnd, { kind: 'stopAt' }>;

/** What to do at a stop: `again` stops once more at the same crash point
 *  (at most once: a crash point at a region's end is met again at the next
 *  region's first instruction). */
export type AtStop = (end: StopEnd, tracee: Tracee) => Promise<'next' | 'again'> | 'next' | 'again';

export type ReplayOutcome =
  /** The stops were made (those the run reached, when it went otherwise). */
  | { kind: 'replayed' }
  /** No stop can be trusted (the caller drops what `at` found): the setup
   *  or the start failed, or a fast replay did not end as recorded. */
  | { kind: 'failed'; why: string };

/** replayStops -- run the workload again and call `at` at each crash point
 *  of `points` (any order; each once) the run reaches. */
export async function replayStops(
  spec: TargetSpec,
  header: TraceHeader,
  purpose: string,
  timeoutMs: number,
  points: readonly number[],
  at: AtStop,
): Promise<ReplayOutcome> {
  const sorted = [...new Set(points)].sort((a, b) => a - b);
  const work = tempDir(`${spec.name}-${purpose}`);
  try {
    const setup = await runSetup(spec, work, timeoutMs);
    if (setup.kind !== 'ok') return { kind: 'failed', why: `the setup failed when run again (${setup.kind})` };
    // the trace's interleaving: the same seed stops at the same crash point
    const recorded = { ...spec, scheduleSeed: header.scheduleSeed ?? spec.scheduleSeed };
    const stops = stopsInTurn(sorted, at);
    return header.recorder === 'fast'
      ? await fastReplay(recorded, header, work, timeoutMs, stops)
      : await exactReplay(recorded, work, timeoutMs, stops);
  } finally {
    await fs.promises.rm(work, { recursive: true, force: true });
  }
}

/** The crash points a replay stops at in turn. */
interface Stops {
  /** The first (undefined: none). */
  first: number | undefined;
  /** Calls `at` at a stop and gives the crash point to stop at next
   *  (undefined: no more). */
  stopped(end: StopEnd, tracee: Tracee): Promise<number | undefined>;
}

/** stopsInTurn -- `points` (sorted) in turn, each met once more when `at`
 *  asks for it `again`. */
function stopsInTurn(points: readonly number[], at: AtStop): Stops {
  let i = 0;
  let again = false;
  return {
    first: points[0],
    async stopped(end, tracee) {
      const next = await at(end, tracee);
      if (next === 'again' && !again) {
        again = true;
      } else {
        again = false;
        i += 1;
      }
      return points[i];
    },
  };
}

/** exactReplay -- the plain stepper, killed after the last stop. */
async function exactReplay(spec: TargetSpec, work: string, timeoutMs: number, stops: Stops): Promise<ReplayOutcome> {
  const launch = workloadLaunch(spec, work);
  const devNull = fs.openSync('/dev/null', 'w');
  let tracee: Tracee;
  try {
    tracee = Tracee.start({
      command: resolveCommand(launch.argv),
      functions: spec.functions,
      scheduleSeed: spec.scheduleSeed,
      cwd: spec.cwd ?? work,
      env: { ...process.env, ...launch.env },
      stdoutFd: devNull,
      stderrFd: devNull,
      guardFiles: spec.userFiles,
    });
  } catch (err) {
    if (err instanceof Interrupted) throw err;
    return { kind: 'failed', why: `the workload did not start again: ${(err as Error).message}` };
  } finally {
    fs.closeSync(devNull);
  }
  try {
    for (let stopAt = stops.first; stopAt !== undefined;) {
      const end = await tracee.run({ stopAt, timeoutMs });
      if (end.kind !== 'stopAt') break;
      stopAt = await stops.stopped(end, tracee);
    }
  } catch (err) {
    if (err instanceof Interrupted) throw err;
    // A run that goes otherwise than recorded gives the stops it reached.
  } finally {
    tracee.kill();
  }
  return { kind: 'replayed' };
}

/** fastReplay -- the fast recorder again, to the end of the program. */
async function fastReplay(
  spec: TargetSpec,
  header: TraceHeader,
  work: string,
  timeoutMs: number,
  stops: Stops,
): Promise<ReplayOutcome> {
  if (stops.first === undefined) return { kind: 'replayed' };
  const trace = tempPath(`${spec.name}-replay.trace`);
  let replayed: TraceHeader;
  try {
    replayed = await recordWorkload(spec, work, {
      output: trace,
      fast: true,
      timeoutMs,
      pause: { stopAt: stops.first, paused: stops.stopped },
    });
  } catch (err) {
    if (err instanceof Interrupted) throw err;
    return { kind: 'failed', why: `the fast recorder's run did not end as recorded: ${(err as Error).message}` };
  } finally {
    await fs.promises.rm(trace, { force: true });
  }
  if (replayed.instructions !== header.instructions)
    return {
      kind: 'failed',
      why: `the fast recorder's run went otherwise (${replayed.instructions} single steps, the trace has ${header.instructions})`,
    };
  return { kind: 'replayed' };
}
