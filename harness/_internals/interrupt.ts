// interrupt -- Ctrl-C and SIGTERM: stop tracees and children, then let the
// running command save what it has and exit 130 / 143.
//
// A signal first runs the registered cleanups (synchronous: kill tracees and
// recovery processes) and marks the process interrupted; long loops call
// throwIfInterrupted() between steps, so the command unwinds normally and can
// write partial results marked incomplete. A second signal, or a command that
// does not unwind within a few seconds, exits at once after removing the
// temporary root.

import { ExitCode, PmfitError } from './errors';
import { removeTempRoot } from './temp-root';

type Cleanup = () => void;

const cleanups = new Set<Cleanup>();
let received: NodeJS.Signals | undefined;
let installed = false;

export class Interrupted extends PmfitError {
  constructor(readonly signal: NodeJS.Signals) {
    super(`interrupted by ${signal}`, signal === 'SIGINT' ? ExitCode.Interrupted : ExitCode.Terminated);
  }
}

function runCleanups(): void {
  for (const cleanup of [...cleanups]) {
    try {
      cleanup();
    } catch {
      // a cleanup that fails must not keep the others from running
    }
  }
}

/** exitNow -- stop tracees and children, remove the temporary root, exit. */
export function exitNow(exitCode: number): never {
  runCleanups();
  removeTempRoot();
  process.exit(exitCode);
}

function onSignal(signal: NodeJS.Signals): void {
  const exitCode = signal === 'SIGINT' ? ExitCode.Interrupted : ExitCode.Terminated;
  if (received) exitNow(exitCode);
  received = signal;
  runCleanups();
  setTimeout(() => {
    removeTempRoot();
    process.exit(exitCode);
  }, 5000).unref();
}

/** installInterruptHandlers -- called once by the CLI before any work. */
export function installInterruptHandlers(): void {
  if (installed) return;
  installed = true;
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}

/** onInterrupt -- register a cleanup; returns its removal. */
export function onInterrupt(cleanup: Cleanup): () => void {
  cleanups.add(cleanup);
  return () => cleanups.delete(cleanup);
}

export function interruptSignal(): NodeJS.Signals | undefined {
  return received;
}

export function throwIfInterrupted(): void {
  if (received) throw new Interrupted(received);
}
