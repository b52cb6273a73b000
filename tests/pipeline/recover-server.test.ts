// recover-server -- `allcounts --recover-server` end to end: the same
// violations as the per-image command it wraps, nothing left running when
// pmfit is killed, and a one-line error for a server that misbehaves.

import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import type { Results } from '../../harness/results/schema';
import { fixture } from '../fixtures';
import { useLeftovers, taggedProcesses } from '../helpers/leftovers';
import { waitFor } from '../helpers/processes';
import { oneLineError, runPmfit, startPmfit } from '../helpers/run-pmfit';
import { scratchDir } from '../reliability/helpers';

const leftovers = useLeftovers();
const scratch = scratchDir('recover-server');
const program = fixture('user_record');

/** A work directory with the user's PM file and a server script made of
 *  the per-image check (`user_record check`), as docs/checking.md shows. */
function workDir(
  serverBody = `if ${program} check "$f" >&2; then echo ok; else echo "fail check exited $?"; fi`,
): string {
  const dir = fs.mkdtempSync(path.join(scratch.path(), 'work-'));
  execFileSync(program, ['init', path.join(dir, 'rec.pm')]);
  leftovers.current().keep(path.join(dir, 'rec.pm'));
  fs.writeFileSync(path.join(dir, 'server.sh'), `#!/bin/sh\nwhile read -r f; do ${serverBody}; done\n`, {
    mode: 0o755,
  });
  return dir;
}

function allcounts(dir: string, check: string[], reports: string, extra: string[] = []) {
  return runPmfit(
    ['allcounts', '--cmd', `${program} set rec.pm 7 unsafe`, '--pm', 'rec.pm', ...check, '-o', reports, ...extra],
    { cwd: dir, env: leftovers.current().env },
  );
}

function readResults(dir: string, reports: string): Results {
  return JSON.parse(fs.readFileSync(path.join(dir, reports, 'results.json'), 'utf8')) as Results;
}

describe('allcounts --recover-server', () => {
  it('finds the same violations as the per-image command on a broken target', () => {
    const dir = workDir();
    const perImage = allcounts(dir, ['--recover', `${program} check {file}`], 'per-image');
    const served = allcounts(dir, ['--recover-server', './server.sh'], 'served');
    expect(perImage.code).toBe(1);
    expect(served.code).toBe(1);
    const summary = (results: Results) =>
      results.runs.map((run) => ({
        model: run.model,
        violations: run.violations,
        distinctImages: run.distinctImages,
        failing: run.groups
          .filter((group) => group.violation)
          .map((group) => `${group.kind} ${group.crashPoints} ${group.images}`)
          .sort(),
      }));
    const a = readResults(dir, 'per-image');
    const b = readResults(dir, 'served');
    expect(summary(b)).toEqual(summary(a));
    expect(summary(b).every((run) => run.violations > 0)).toBe(true);
    // the server's stderr is the image's output, its fail message the last line
    const px86 = b.runs.find((run) => run.model === 'px86')!;
    expect(px86.groups.some((g) => /torn record[^]*\ncheck exited 1$/.test(g.recoveryOutput))).toBe(true);
    expect(b.targets[0].check).toMatchObject({ kind: 'recover', recover: [], recoverServer: './server.sh' });
    // and pmfit reproduce checks the image with the server again
    const group = px86.groups.find((g) => g.violation)!;
    const again = runPmfit(['reproduce', path.join(dir, 'served', 'results.json'), group.id], {
      cwd: dir,
      env: leftovers.current().env,
    });
    expect(again.code).toBe(1);
    expect(again.stdout).toContain('| ./server.sh\n');
    expect(again.stdout).toContain('the violation reproduces');
  });

  it.each(['SIGTERM', 'SIGKILL'] as const)('leaves no server running when pmfit gets %s', async (signal) => {
    // The server blocks on the fourth image it is given, after saying so.
    const dir = workDir(
      `n=$((n+1)); if [ $n -ge 4 ]; then touch blocked; sleep 600; fi; ${program} check "$f" >&2 && echo ok || echo fail`,
    );
    const run = startPmfit(
      [
        'allcounts',
        '--jobs',
        '1',
        '--cmd',
        `${program} set rec.pm 7`,
        '--pm',
        'rec.pm',
        '--recover-server',
        './server.sh',
        '-o',
        'r',
      ],
      { cwd: dir, env: leftovers.current().env },
    );
    expect(await waitFor(() => fs.existsSync(path.join(dir, 'blocked')), 30_000)).toBe(true);
    expect(taggedProcesses(leftovers.current().tag).length).toBeGreaterThan(1);
    run.child.kill(signal);
    await run.done;
    expect(await waitFor(() => taggedProcesses(leftovers.current().tag).length === 0, 10_000)).toBe(true);
  });

  it.each([
    [
      'answers something else',
      'echo maybe',
      /^pmfit: recover server \.\/server\.sh answered "maybe" for .*; expected "ok" or "fail MESSAGE"$/,
    ],
    ['cannot be run', null, /^pmfit: recover server \.\/no-such-server could not be run \(exit status 127\)/],
    [
      'quits without answering',
      'exit 0',
      /^pmfit: recover server \.\/server\.sh exited \(status 0\) without answering for /,
    ],
  ])('a server that %s is a one-line error, exit 2', (_what, body, message) => {
    const dir = workDir(body ?? undefined);
    const result = allcounts(dir, ['--recover-server', body === null ? './no-such-server' : './server.sh'], 'r');
    expect(result.code).toBe(2);
    expect(oneLineError(result)).toMatch(message);
  });

  it('is refused with --recover, and with --depth 2', () => {
    const dir = workDir();
    const both = allcounts(dir, ['--recover', `${program} check {file}`, '--recover-server', './server.sh'], 'r');
    expect(both.code).toBe(2);
    expect(oneLineError(both)).toBe('pmfit: give --recover or --recover-server, not both');
    const deep = allcounts(dir, ['--recover-server', './server.sh'], 'r', ['--depth', '2']);
    expect(deep.code).toBe(2);
    expect(oneLineError(deep)).toMatch(
      /--depth 2 traces one run of a recovery command per image; target .* has a recover server/,
    );
  });
});
