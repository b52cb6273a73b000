// interrupt -- Ctrl-C, SIGTERM, SIGHUP (terminal closed) and SIGQUIT
// (Ctrl-\): stop tracees and children, then let the running command save
// what it has and exit 128 + the signal's number (130, 143, 129, 131).
//
// A signal first runs the registered cleanups (synchronous: kill tracees and
// recovery processes) and marks the process interrupted; long loops call
// throwIfInterrupted() between steps, so the command unwinds normally and can
// write partial results marked incomplete. A second signal, or a command that
// does not unwind within a few seconds, exits at once after removing the
// temporary root.

import * as os from 'os';
import { PmfitError } from './errors';
import { removeTempRoot } from './temp-root';

type Cleanup = () => void;

const cleanups = new Set<Cleanup>();
let received: NodeJS.Signals | undefined;
let installed = false;

/** The signals handled like Ctrl-C: each ends pmfit with its cleanup. */
export const interruptSignals: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT'];

/** The exit status of a process that `signal` ended (as a shell shows it). */
export function signalExitCode(signal: NodeJS.Signals): number {
  return 128 + os.constants.signals[signal];
}

export class Interrupted extends PmfitError {
  constructor(readonly signal: NodeJS.Signals) {
    super(`interrupted by ${signal}`, signalExitCode(signal));
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
  const exitCode = signalExitCode(signal);
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
  for (const signal of interruptSignals) process.on(signal, onSignal);
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
