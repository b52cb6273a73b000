// crash -- `pmfit crash N`: run to instruction N of the regions and kill the
// target there with SIGKILL, leaving its files as a crash would. Past the
// last instruction the program ends on its own: exit 2, saying so.

import { usageError } from '../../_internals/errors';
import { Tracee } from '../../tracer/tracee';
import { resolveCommand } from '../../tracer/resolve-command';

export interface CrashOptions {
  /** --function, repeatable. */
  function?: string[];
  scheduleSeed?: number;
  maxSteps?: number;
  timeout?: number;
}

export async function crash(n: number, commandArgv: string[], options: CrashOptions): Promise<number> {
  const command = resolveCommand(commandArgv);
  const tracee = Tracee.start({ command, functions: options.function, scheduleSeed: options.scheduleSeed });
  try {
    const end = await tracee.run({ stopAt: n, maxSteps: options.maxSteps, timeoutMs: options.timeout });
    if (end.kind === 'exited') {
      // Nothing stops a run short of a crash point it never reaches: the
      // program has run to its end on its files, which the line says.
      throw usageError(
        `crash point ${n} is past the end: ${commandArgv[0]} runs ${end.index} instructions in its regions and ran to its end, so its files are as a completed run leaves them, not crashed (crash points: 0 to ${end.index})`,
      );
    }
    tracee.kill();
    process.stdout.write(`Program terminated after ${n} instructions\n`);
    return 0;
  } finally {
    tracee.kill();
  }
}
