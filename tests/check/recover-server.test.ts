// recover-server -- the protocol of a persistent checker, on small shell
// servers: answers, output, timeouts, deaths, protocol errors, and no
// server left once closed.

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { PmfitError } from '../../harness/_internals/errors';
import { checkWithServer, closeRecoverServers, MAX_DEATHS_IN_A_ROW } from '../../harness/check/recover-server';
import { runningGroupCount } from '../../harness/check/run-commands';
import { isAlive, waitFor } from '../helpers/processes';

let dir: string;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pmfit-server-'));
});

afterEach(async () => {
  await closeRecoverServers();
  expect(runningGroupCount()).toBe(0);
});

afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

/** A server whose answer for a path is what `line` (shell, $f the path) prints. */
function server(body: string): { command: string; cwd: string; env: Record<string, string> } {
  return { command: `while read -r f; do ${body}; done`, cwd: dir, env: { SERVER_TEST: '1' } };
}

/** The server's pids, from the pid files it writes. */
function pids(file: string): number[] {
  return fs.existsSync(file) ? fs.readFileSync(file, 'utf8').trim().split('\n').map(Number) : [];
}

describe('recover server', () => {
  it('answers ok and fail MESSAGE, with what it wrote on stderr as the output', async () => {
    const s = server(`echo "checking $f" >&2; case "$f" in *bad*) echo "fail torn record in $f";; *) echo ok;; esac`);
    const good = await checkWithServer(s, '/images/good.pm', 5000);
    expect(good).toEqual({ kind: 'ok', output: 'checking /images/good.pm\n', stdout: 'checking /images/good.pm\n' });
    const bad = await checkWithServer(s, '/images/bad.pm', 5000);
    expect(bad).toMatchObject({
      kind: 'failed',
      exitCode: 1,
      output: 'checking /images/bad.pm\ntorn record in /images/bad.pm\n',
    });
  });

  it('keeps one process per job across images, in the given directory and environment', async () => {
    const log = path.join(dir, 'one-process');
    const s = server(`echo $$ >> ${log}; [ "$SERVER_TEST" = 1 ] && [ "$PWD" = ${dir} ] && echo ok || echo fail`);
    for (let i = 0; i < 5; i++) expect((await checkWithServer(s, `/i${i}`, 5000)).kind).toBe('ok');
    expect(new Set(pids(log)).size).toBe(1);
    // Two at once: two servers, each checking one image.
    const both = await Promise.all([checkWithServer(s, '/a', 5000), checkWithServer(s, '/b', 5000)]);
    expect(both.map((o) => o.kind)).toEqual(['ok', 'ok']);
    expect(new Set(pids(log)).size).toBe(2);
  });

  it('times an image out, kills the server and starts a new one for the next image', async () => {
    const log = path.join(dir, 'timeout');
    const s = server(`echo $$ >> ${log}; case "$f" in *slow*) sleep 30;; esac; echo ok`);
    const slow = await checkWithServer(s, '/slow', 300);
    expect(slow).toMatchObject({ kind: 'timeout', timeoutMs: 300 });
    const [first] = pids(log);
    expect(await waitFor(() => !isAlive(first), 5000)).toBe(true);
    expect((await checkWithServer(s, '/fast', 5000)).kind).toBe('ok');
    expect(pids(log)).toHaveLength(2);
  });

  it('makes a server that dies on an image that image crashed or failed recovery, and restarts it', async () => {
    const s = server(`echo "looking at $f" >&2; case "$f" in *segv*) kill -SEGV $$;; *exit*) exit 3;; esac; echo ok`);
    const crashed = await checkWithServer(s, '/segv', 5000);
    expect(crashed).toMatchObject({ kind: 'crashed', signal: 'SIGSEGV' });
    expect(crashed.output).toContain('looking at /segv');
    expect(crashed.output).toContain('the recover server exited while checking this image');
    expect(await checkWithServer(s, '/exit', 5000)).toMatchObject({ kind: 'failed', exitCode: 3 });
    expect((await checkWithServer(s, '/fine', 5000)).kind).toBe('ok');
  });

  it(`gives up with a one-line error on a server that dies on ${MAX_DEATHS_IN_A_ROW} images in a row`, async () => {
    const s = server('exit 4');
    for (let i = 1; i < MAX_DEATHS_IN_A_ROW; i++)
      expect(await checkWithServer(s, `/i${i}`, 5000)).toMatchObject({ kind: 'failed', exitCode: 4 });
    await expect(checkWithServer(s, '/last', 5000)).rejects.toThrow(
      new PmfitError(
        `recover server ${s.command} keeps dying: it exited on ${MAX_DEATHS_IN_A_ROW} images in a row without answering (last: exit status 4)`,
      ),
    );
  });

  it.each([
    ['an answer of another form', server('echo maybe'), /answered "maybe" for \/img; expected "ok" or "fail MESSAGE"$/],
    [
      'a command that cannot run',
      { command: 'no-such-checker-xyz', cwd: '/', env: {} },
      /could not be run \(exit status 127\): .*not found/,
    ],
  ])('refuses %s with one line', async (_what, s, message) => {
    const error = await checkWithServer(s, '/img', 5000).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PmfitError);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).not.toContain('\n');
  });

  it('refuses a server that writes before it is given an image, or exits while waiting', async () => {
    const chatty = { command: 'echo hello; while read -r f; do echo ok; done', cwd: dir, env: {} };
    const first = await checkWithServer(chatty, '/a', 5000).catch((e: unknown) => e);
    // before or after the path went out, depending on when pmfit reads it: refused either way
    expect((first as Error).message).toMatch(
      /(wrote "hello" without being given an image|answered "hello" for \/a; expected "ok" or "fail MESSAGE")$/,
    );
    await closeRecoverServers();
    const log = path.join(dir, 'quitter');
    const quitter = server(`echo $$ > ${log}; echo ok; exit 0`);
    expect((await checkWithServer(quitter, '/a', 5000)).kind).toBe('ok');
    // it exits after answering; once reaped (gone from /proc), pmfit has seen it
    const [pid] = pids(log);
    expect(await waitFor(() => !fs.existsSync(`/proc/${pid}`), 5000)).toBe(true);
    await expect(checkWithServer(quitter, '/b', 5000)).rejects.toThrow(
      /exited while waiting for an image \(exit status 0\)$/,
    );
  });

  it('ends every server when closed, even one that ignores the end of its input', async () => {
    const log = path.join(dir, 'stubborn');
    const s = { command: `echo $$ >> ${log}; trap '' TERM; while :; do read -r f && echo ok; done`, cwd: dir, env: {} };
    await Promise.all([checkWithServer(s, '/a', 5000), checkWithServer(s, '/b', 5000)]);
    const running = pids(log);
    expect(running).toHaveLength(2);
    await closeRecoverServers();
    for (const pid of running) expect(isAlive(pid)).toBe(false);
  });
});
