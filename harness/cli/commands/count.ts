// count -- `pmfit count`: how many instructions the regions execute, the
// original icount.

import { Tracee } from '../../tracer/tracee';
import { resolveCommand } from '../../tracer/resolve-command';

export interface CountOptions {
  /** --function, repeatable. */
  function?: string[];
  scheduleSeed?: number;
  json?: boolean;
  maxSteps?: number;
  timeout?: number;
}

export async function count(commandArgv: string[], options: CountOptions): Promise<number> {
  const command = resolveCommand(commandArgv);
  // With --json our stdout carries the result, so the target's goes to stderr.
  const tracee = Tracee.start({
    command,
    functions: options.function,
    scheduleSeed: options.scheduleSeed,
    stdoutFd: options.json ? 2 : 1,
  });
  try {
    const end = await tracee.run({ maxSteps: options.maxSteps, timeoutMs: options.timeout });
    const exitCode = end.kind === 'exited' ? end.code : null;
    if (options.json) {
      process.stdout.write(`${JSON.stringify({ instructions: end.index, exitCode })}\n`);
    } else {
      process.stdout.write(`Total instruction count: ${end.index}\n`);
      if (exitCode) process.stderr.write(`pmfit: note: ${commandArgv[0]} exited with status ${exitCode}\n`);
    }
    return 0;
  } finally {
    tracee.kill();
  }
}
