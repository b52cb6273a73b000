// record -- `pmfit record`: trace the regions once into a trace file.

import * as path from 'path';
import { usageError } from '../../_internals/errors';
import { checkOutputFile, protectFromOutput } from '../../_internals/output-file';
import { recordTrace } from '../../record/record';
import { resolveCommand } from '../../tracer/resolve-command';
import type { RecorderName } from '../parse-options';

export interface RecordCommandOptions {
  pm: string[];
  output: string;
  /** --function, repeatable. */
  function?: string[];
  scheduleSeed?: number;
  maxSteps?: number;
  timeout?: number;
  acceptUntracedWrites?: boolean;
  /** --exact or --fast; default: fast. */
  recorder?: RecorderName;
}

export async function record(commandArgv: string[], options: RecordCommandOptions): Promise<number> {
  if (options.pm.length === 0)
    throw usageError('record needs at least one --pm FILE (the persistent-memory files to watch)');
  if (options.pm.length > 254) throw usageError('at most 254 PM files can be traced');
  for (const pm of options.pm) protectFromOutput(pm);
  checkOutputFile(options.output);
  const command = resolveCommand(commandArgv);
  const header = await recordTrace({
    command,
    pmFiles: options.pm,
    output: path.resolve(options.output),
    functions: options.function,
    scheduleSeed: options.scheduleSeed,
    maxSteps: options.maxSteps,
    timeoutMs: options.timeout,
    acceptUntracedWrites: options.acceptUntracedWrites,
    fast: (options.recorder ?? 'fast') === 'fast',
  });
  process.stderr.write(
    `pmfit: recorded ${header.instructions} ${header.recorder === 'fast' ? 'single steps' : 'instructions'}, ${header.events} events in ${header.regions.length} region(s) to ${options.output}\n`,
  );
  for (const warning of header.warnings) process.stderr.write(`pmfit: warning: ${warning}\n`);
  return 0;
}
