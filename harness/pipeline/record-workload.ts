// record-workload -- record a spec's workload in its working directory, the
// program's own output going to a log file (or nowhere).

import * as fs from 'fs';
import type { TargetSpec } from '../check/spec';
import { workloadLaunch } from '../check/spec-command';
import type { TraceHeader } from '../trace/format';
import { recordTrace, type RecordOptions } from '../record/record';
import { resolveCommand } from '../tracer/resolve-command';

export interface RecordWorkloadOptions {
  /** Trace file to write. */
  output: string;
  /** File for the program's stdout and stderr; /dev/null when absent. */
  logPath?: string;
  maxSteps?: number;
  /** recordTrace's timeoutMs (each stretch between pauses has it). */
  timeoutMs?: number;
  onProgress?(index: number): void;
  /** recordTrace's acceptUntracedWrites. */
  acceptUntracedWrites?: boolean;
  /** recordTrace's fast. */
  fast?: boolean;
  /** recordTrace's pause: stops at crash points during the recording. */
  pause?: RecordOptions['pause'];
}

export async function recordWorkload(
  spec: TargetSpec,
  work: string,
  options: RecordWorkloadOptions,
): Promise<TraceHeader> {
  const launch = workloadLaunch(spec, work);
  const log = fs.openSync(options.logPath ?? '/dev/null', 'w');
  try {
    return await recordTrace({
      command: resolveCommand(launch.argv),
      pmFiles: spec.pmFiles,
      output: options.output,
      cwd: spec.cwd ?? work,
      pmDir: work,
      env: { ...process.env, ...launch.env },
      stdoutFd: log,
      stderrFd: log,
      functions: spec.functions,
      scheduleSeed: spec.scheduleSeed,
      maxSteps: options.maxSteps,
      timeoutMs: options.timeoutMs,
      onProgress: options.onProgress,
      acceptUntracedWrites: options.acceptUntracedWrites,
      guardFiles: spec.userFiles,
      fast: options.fast,
      pause: options.pause,
    });
  } finally {
    fs.closeSync(log);
  }
}
