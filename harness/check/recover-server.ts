// recover-server -- a user's checker as a persistent process
// (`--recover-server "CMD"`, `recoverServer` in pmfit.config.json), for
// checkers whose start-up costs more than checking one image.
//
// Protocol (docs/checking.md, "A checker that stays running"): pmfit starts
// CMD with `/bin/sh -c` in the directory it was started in and writes one
// line per crash image on its stdin, the image file's absolute path. For
// each line the server answers with one line on stdout:
//
//   ok                 the image is consistent
//   fail MESSAGE       it is not (MESSAGE may be empty)
//
// What it writes on stderr while it checks an image (up to its answer) is
// that image's output in the reports. The server may change the image file,
// as a recovery does; it gets the next path only after answering. At the
// end of the run pmfit closes its stdin and it should exit; whatever is
// still running then is killed.
//
// Failures are a normal recovery's: no answer within --timeout is a
// timeout, a server that exits while checking an image is a crashed (by a
// signal) or failed (exit status) recovery of that image, and either way
// the server is started again for the next image. A server that exits
// while waiting for an image, could not be run (shell status 126, 127),
// answers anything else than the two lines above, or dies on
// MAX_DEATHS_IN_A_ROW images in a row without answering any, is a one-line
// error (exit 2): its verdicts would mean nothing.
//
// One pool of servers per command, working directory and environment, as
// many as recoveries run at once (--jobs); each checks one image at a time.
// Every server runs in a process group of its own, killed on Ctrl-C /
// SIGTERM (process-groups.ts) and by the sentinel when pmfit is killed
// (tracer/sentinel.ts: it carries the run's mark). While a server is idle
// it does not keep pmfit's event loop alive, so a forgotten close cannot
// hang pmfit; closeRecoverServers() ends them all.

import { ChildProcessWithoutNullStreams, spawn } from 'child_process';
import * as fs from 'fs';
import type { Socket } from 'net';
import * as os from 'os';

import { Deadline } from '../_internals/deadline';
import { PmfitError } from '../_internals/errors';
import { ensureSentinel } from '../tracer/sentinel';
import { Capture } from './_internals/capture';
import { killGroup, trackGroup, untrackGroup } from '../_internals/process-groups';
import { defaultOutputLimit, type CommandsOutcome } from './run-commands';

/** Deaths while checking images, in a row with no answer between, after
 *  which the server is given up on. */
export const MAX_DEATHS_IN_A_ROW = 8;

/** How long a closed server may take to exit before it is killed. */
const CLOSE_GRACE_MS = 1000;

/** Longest answer line accepted (a runaway stdout is a protocol error). */
const MAX_LINE = 64 * 1024;

export interface RecoverServerOptions {
  /** The shell line, as given. */
  command: string;
  cwd: string;
  /** Added to pmfit's environment. */
  env: Record<string, string>;
}

type Answer = { kind: 'ok' } | { kind: 'fail'; message: string };

/** Why a server's verdicts cannot be trusted: exit 2. */
function serverError(command: string, why: string): PmfitError {
  return new PmfitError(`recover server ${command} ${why}`);
}

function lastLine(text: string): string {
  return text.trim().split('\n').slice(-1)[0] ?? '';
}

function signalName(signal: NodeJS.Signals | null, code: number | null): string | undefined {
  if (signal) return signal;
  // /bin/sh -c reports a child killed by signal n as 128 + n
  if (code !== null && code > 128) {
    const entry = Object.entries(os.constants.signals).find(([, number]) => number === code - 128);
    return entry?.[0];
  }
  return undefined;
}

interface Pending {
  path: string;
  output: Capture;
  resolve(outcome: CommandsOutcome): void;
  reject(error: Error): void;
  timer: Deadline;
}

/** One running server process. */
class ServerProcess {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly pid: number;
  private stdoutBuffer = '';
  /** stderr while idle: named in the error when the server dies idle. */
  private idleOutput = new Capture(defaultOutputLimit);
  private pending: Pending | undefined;
  exited = false;
  /** pmfit ended it (timeout, protocol error, close): its exit is expected. */
  private dismissed = false;
  /** A protocol error or an idle death, reported at the next use. */
  broken: PmfitError | undefined;
  private exitWaiters: Array<() => void> = [];

  constructor(
    private readonly options: RecoverServerOptions,
    private readonly onAnswer: () => void,
  ) {
    ensureSentinel();
    let child: ChildProcessWithoutNullStreams;
    try {
      child = spawn('/bin/sh', ['-c', options.command], {
        cwd: options.cwd,
        env: { ...process.env, ...options.env },
        stdio: ['pipe', 'pipe', 'pipe'],
        detached: true,
      });
    } catch (error) {
      throw serverError(options.command, `cannot be started: ${(error as Error).message}`);
    }
    if (child.pid === undefined) throw serverError(options.command, 'cannot be started (/bin/sh did not start)');
    this.child = child;
    this.pid = child.pid;
    trackGroup(this.pid);
    child.stdin.on('error', () => {
      // EPIPE: the server exited; its exit says why
    });
    child.stdout.on('data', (chunk: Buffer) => this.onStdout(chunk));
    child.stderr.on('data', (chunk: Buffer) => (this.pending?.output ?? this.idleOutput).add(chunk));
    child.on('exit', (code, signal) => this.onExit(code, signal));
    this.idle();
  }

  /** check -- send one image path and wait for the answer. */
  check(path: string, timeoutMs: number): Promise<CommandsOutcome> {
    if (path.includes('\n'))
      throw serverError(this.options.command, `cannot be given ${JSON.stringify(path)}: its name holds a newline`);
    return new Promise<CommandsOutcome>((resolve, reject) => {
      const timer = new Deadline(timeoutMs, () => {
        const pending = this.pending;
        if (!pending) return;
        this.pending = undefined;
        this.kill();
        const output = pending.output.text();
        pending.resolve({
          kind: 'timeout',
          timeoutMs,
          output,
          stdout: output,
          command: this.options.command,
          index: 0,
        });
      });
      this.pending = { path, output: new Capture(defaultOutputLimit), resolve, reject, timer };
      this.busy();
      this.child.stdin.write(`${path}\n`);
    });
  }

  /** close -- end its stdin; kill it if it has not exited after a grace period. */
  async close(): Promise<void> {
    if (this.exited) return;
    this.dismissed = true;
    this.child.stdin.end();
    const exited = new Promise<void>((resolve) => this.exitWaiters.push(resolve));
    const grace = new Deadline(CLOSE_GRACE_MS, () => this.kill());
    this.busy();
    await exited;
    grace.cancel();
  }

  kill(): void {
    this.dismissed = true;
    killGroup(this.pid);
  }

  private onStdout(chunk: Buffer): void {
    this.stdoutBuffer += chunk.toString('utf8');
    for (let newline = this.stdoutBuffer.indexOf('\n'); newline >= 0; newline = this.stdoutBuffer.indexOf('\n')) {
      const line = this.stdoutBuffer.slice(0, newline).replace(/\r$/, '');
      this.stdoutBuffer = this.stdoutBuffer.slice(newline + 1);
      this.onLine(line);
    }
    if (this.stdoutBuffer.length > MAX_LINE) this.protocolError(`wrote a line of more than ${MAX_LINE} bytes`);
  }

  private onLine(line: string): void {
    const pending = this.pending;
    if (!pending) {
      this.protocolError(`wrote ${JSON.stringify(line)} without being given an image`);
      return;
    }
    let answer: Answer;
    if (line === 'ok') answer = { kind: 'ok' };
    else if (line === 'fail' || line.startsWith('fail ')) answer = { kind: 'fail', message: line.slice(5) };
    else {
      this.protocolError(`answered ${JSON.stringify(line)} for ${pending.path}; expected "ok" or "fail MESSAGE"`);
      return;
    }
    this.pending = undefined;
    pending.timer.cancel();
    this.drainStderr(pending.output);
    this.onAnswer();
    this.idle();
    setImmediate(() => {
      const text = pending.output.text();
      if (answer.kind === 'ok') {
        pending.resolve({ kind: 'ok', output: text, stdout: text });
        return;
      }
      const output = answer.message ? `${text}${text && !text.endsWith('\n') ? '\n' : ''}${answer.message}\n` : text;
      pending.resolve({ kind: 'failed', exitCode: 1, output, stdout: output, command: this.options.command, index: 0 });
    });
  }

  /** drainStderr -- what the server wrote on stderr before its answer is
   *  in the pipe by now, but Node may not have read it yet (its event for
   *  the pipe can come after stdout's, or a turn later): read it here,
   *  from the pipe's descriptor, up to what is there. */
  private drainStderr(output: Capture): void {
    const fd = (this.child.stderr as unknown as { _handle?: { fd?: number } })._handle?.fd;
    if (fd === undefined || fd < 0) return;
    const buffer = Buffer.alloc(64 * 1024);
    for (;;) {
      let n: number;
      try {
        n = fs.readSync(fd, buffer, 0, buffer.length, null);
      } catch {
        return; // EAGAIN: the pipe is empty (it is non-blocking)
      }
      if (n <= 0) return;
      output.add(Buffer.from(buffer.subarray(0, n)));
    }
  }

  private protocolError(why: string): void {
    this.broken ??= serverError(this.options.command, why);
    this.kill();
    const pending = this.pending;
    this.pending = undefined;
    if (pending) {
      pending.timer.cancel();
      pending.reject(this.broken);
    }
  }

  private onExit(code: number | null, signal: NodeJS.Signals | null): void {
    this.exited = true;
    untrackGroup(this.pid);
    killGroup(this.pid);
    for (const waiter of this.exitWaiters.splice(0)) waiter();
    const pending = this.pending;
    this.pending = undefined;
    if (!pending) {
      if (this.dismissed) return;
      const last = lastLine(this.idleOutput.text());
      this.broken ??= serverError(
        this.options.command,
        code === 126 || code === 127
          ? `could not be run (exit status ${code})${last ? `: ${last}` : ''}`
          : `exited while waiting for an image (${signal ? `killed by ${signal}` : `exit status ${code}`})${last ? `: ${last}` : ''}`,
      );
      return;
    }
    pending.timer.cancel();
    this.drainStderr(pending.output);
    setImmediate(() => {
      const text = pending.output.text();
      const died = signalName(signal, code);
      if (code === 126 || code === 127) {
        pending.reject(
          serverError(
            this.options.command,
            `could not be run (exit status ${code})${lastLine(text) ? `: ${lastLine(text)}` : ''}`,
          ),
        );
        return;
      }
      if (code === 0) {
        // quitting with an image in hand is not a verdict on the image
        pending.reject(serverError(this.options.command, `exited (status 0) without answering for ${pending.path}`));
        return;
      }
      const output = `${text}${text && !text.endsWith('\n') ? '\n' : ''}[pmfit: the recover server exited while checking this image]\n`;
      pending.resolve(
        died
          ? { kind: 'crashed', signal: died, output, stdout: output, command: this.options.command, index: 0 }
          : { kind: 'failed', exitCode: code ?? 1, output, stdout: output, command: this.options.command, index: 0 },
      );
    });
  }

  /** An idle server does not keep pmfit's event loop alive. */
  private idle(): void {
    this.child.unref();
    for (const stream of this.streams()) stream.unref();
  }

  private busy(): void {
    this.child.ref();
    for (const stream of this.streams()) stream.ref();
  }

  /** The pipes, which are sockets (net.Socket) and hold the loop too. */
  private streams(): Socket[] {
    return [this.child.stdin, this.child.stdout, this.child.stderr] as unknown as Socket[];
  }
}

/** The servers of one command, working directory and environment. */
class ServerPool {
  private readonly idle: ServerProcess[] = [];
  private readonly all = new Set<ServerProcess>();
  private deathsInARow = 0;

  constructor(private readonly options: RecoverServerOptions) {}

  async check(path: string, timeoutMs: number): Promise<CommandsOutcome> {
    let server: ServerProcess | undefined;
    while ((server = this.idle.pop())) {
      if (server.broken) throw server.broken;
      if (!server.exited) break;
      this.all.delete(server);
    }
    if (!server) {
      server = new ServerProcess(this.options, () => (this.deathsInARow = 0));
      this.all.add(server);
    }
    const outcome = await server.check(path, timeoutMs);
    if (server.broken) {
      // It answered, then quit or wrote out of turn before this call went
      // on (under load the exit can come first): the next check reports it,
      // as when the exit comes later, instead of a fresh server hiding it.
      this.idle.push(server);
    } else if (server.exited || outcome.kind === 'timeout') {
      this.all.delete(server);
      if (outcome.kind !== 'timeout') this.deathsInARow += 1;
      if (this.deathsInARow >= MAX_DEATHS_IN_A_ROW)
        throw serverError(
          this.options.command,
          `keeps dying: it exited on ${this.deathsInARow} images in a row without answering (last: ${outcome.kind === 'crashed' ? `killed by ${outcome.signal}` : outcome.kind === 'failed' ? `exit status ${outcome.exitCode}` : outcome.kind})`,
        );
    } else {
      this.idle.push(server);
    }
    return outcome;
  }

  async close(): Promise<void> {
    const servers = [...this.all];
    this.all.clear();
    this.idle.length = 0;
    await Promise.all(servers.map((server) => server.close()));
  }
}

const pools = new Map<string, ServerPool>();

/** checkWithServer -- one image's verdict from the pool of servers of
 *  `options` (started as needed), as a recovery command's outcome. Throws
 *  a PmfitError when the server cannot be trusted (see the top). */
export function checkWithServer(
  options: RecoverServerOptions,
  imagePath: string,
  timeoutMs: number,
): Promise<CommandsOutcome> {
  const key = JSON.stringify([options.command, options.cwd, options.env]);
  let pool = pools.get(key);
  if (!pool) {
    pool = new ServerPool(options);
    pools.set(key, pool);
  }
  return pool.check(imagePath, timeoutMs);
}

/** closeRecoverServers -- end every server (at the end of a target's run,
 *  and of `pmfit reproduce`). */
export async function closeRecoverServers(): Promise<void> {
  const all = [...pools.values()];
  pools.clear();
  await Promise.all(all.map((pool) => pool.close()));
}
