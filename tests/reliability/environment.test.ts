// environment -- problems of the environment pmfit runs in, and small
// command-line cases: each a clear line of its own and exit 2 (never an
// internal error or a silent exit 0), nothing left behind.

import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import type { Results } from '../../harness/results/schema';
import { fixture } from '../fixtures';
import { useLeftovers } from '../helpers/leftovers';
import { CliResult, cliPath, runPmfit } from '../helpers/run-pmfit';
import { asUser, canDropPrivileges, expectUsageError, readOnlyMount, scratchDir } from './helpers';

const leftovers = useLeftovers();
const scratch = scratchDir('environment');

const workDir = scratch.workDir;

/** allcounts --cmd on a 4 KiB copy of pool.pm in `dir`, kept unchanged. */
function allcountsArgs(): string[] {
  return [
    'allcounts',
    '--cmd',
    `${fixture('pm_store')} pool.pm`,
    '--pm',
    'pool.pm',
    '--recover',
    'true {file}',
    '-o',
    'reports',
  ];
}

function pool(dir: string): string {
  const pm = path.join(dir, 'pool.pm');
  fs.writeFileSync(pm, Buffer.alloc(4096));
  leftovers.current().keep(pm);
  return pm;
}

describe('PMFIT_TMPDIR', () => {
  it('missing, a file: one line naming it', () => {
    const dir = workDir('tmpdir-bad');
    pool(dir);
    fs.writeFileSync(path.join(dir, 'a-file'), '');
    const cases: Array<[string, RegExp]> = [
      [
        path.join(dir, 'missing'),
        /^pmfit: temporary directory .*\/missing \(PMFIT_TMPDIR\) does not exist; set PMFIT_TMPDIR to a writable directory$/,
      ],
      [
        path.join(dir, 'a-file'),
        /^pmfit: temporary directory .*\/a-file \(PMFIT_TMPDIR\) is not a directory; set PMFIT_TMPDIR/,
      ],
    ];
    for (const [tmp, message] of cases) {
      const result = runPmfit(allcountsArgs(), { cwd: dir, env: { ...leftovers.current().env, PMFIT_TMPDIR: tmp } });
      expectUsageError(result, message);
    }
  });

  it('on a read-only mount', () => {
    const dir = workDir('tmpdir-ro');
    pool(dir);
    const ro = readOnlyMount(dir);
    if (ro === undefined) return;
    try {
      const result = runPmfit(allcountsArgs(), { cwd: dir, env: { ...leftovers.current().env, PMFIT_TMPDIR: ro } });
      expectUsageError(
        result,
        /^pmfit: temporary directory .*\/ro \(PMFIT_TMPDIR\) is on a read-only file system; set PMFIT_TMPDIR/,
      );
    } finally {
      spawnSync('umount', [ro]);
    }
  });

  it('not writable by the user', () => {
    if (!canDropPrivileges()) {
      console.warn('skipped: running as root without setpriv, and root writes every directory');
      return;
    }
    const dir = workDir('tmpdir-unwritable');
    pool(dir);
    const locked = path.join(dir, 'locked');
    fs.mkdirSync(locked, 0o555);
    fs.chmodSync(locked, 0o555);
    const result = asUser(allcountsArgs(), { cwd: dir, env: { ...leftovers.current().env, PMFIT_TMPDIR: locked } });
    expectUsageError(
      result,
      /^pmfit: temporary directory .*\/locked \(PMFIT_TMPDIR\) is not writable \(permission denied\)/,
    );
  });

  it('relative: resolved against the directory pmfit started in', () => {
    const dir = workDir('tmpdir-relative');
    pool(dir);
    fs.mkdirSync(path.join(dir, 'tmp'));
    const result = runPmfit(allcountsArgs(), { cwd: dir, env: { ...leftovers.current().env, PMFIT_TMPDIR: 'tmp' } });
    expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: '' });
    const results = JSON.parse(fs.readFileSync(path.join(dir, 'reports', 'results.json'), 'utf8')) as Results;
    expect(results.runs.map((run) => [run.model, run.status])).toEqual([
      ['sequential', 'pass'],
      ['flushed', 'pass'],
      ['px86', 'pass'],
    ]);
    expect(fs.readdirSync(path.join(dir, 'tmp'))).toEqual([]);
  });
});

describe('files and directories', () => {
  it('the working directory was deleted', () => {
    const dir = workDir('deleted-cwd');
    const result = spawnSync(
      'sh',
      ['-c', `mkdir gone && cd gone && rmdir ../gone && exec "$0" "$1" trace show x.trace`, process.execPath, cliPath],
      { cwd: dir, env: { ...process.env, ...leftovers.current().env }, encoding: 'utf8' },
    );
    expectUsageError(
      { code: result.status, signal: result.signal, stdout: result.stdout, stderr: result.stderr },
      /^pmfit: the current directory no longer exists \(it was deleted\); cd to an existing directory$/,
    );
  });

  it('trace show on a directory, a device', () => {
    const dir = workDir('trace-show');
    expectUsageError(
      runPmfit(['trace', 'show', dir], leftovers.current()),
      /^pmfit: cannot open trace .*\/trace-show: it is a directory, not a trace file$/,
    );
    expectUsageError(
      runPmfit(['trace', 'show', '/dev/zero'], leftovers.current()),
      /^pmfit: cannot open trace \/dev\/zero: it is a character device, not a trace file$/,
    );
  });

  it('report and replay on /dev/zero: refused, not read without end', () => {
    expectUsageError(
      runPmfit(['report', '/dev/zero', '-o', path.join(workDir('dev-zero'), 'reports')], leftovers.current()),
      /^pmfit: \/dev\/zero is a device, not a results.json file$/,
    );
    expectUsageError(
      runPmfit(['replay', '/dev/zero'], leftovers.current()),
      /^pmfit: \/dev\/zero is a device, not a replay file$/,
    );
  });

  it('a PM file that is a symbolic link loop', () => {
    const dir = workDir('loop');
    fs.symlinkSync('loop-b', path.join(dir, 'loop-a'));
    fs.symlinkSync('loop-a', path.join(dir, 'loop-b'));
    expectUsageError(
      runPmfit(['record', '--pm', 'loop-a', '-o', 'run.trace', '--', fixture('pm_store'), 'loop-a'], {
        ...leftovers.current(),
        cwd: dir,
      }),
      /^pmfit: PM file loop-a is a symbolic link loop$/,
    );
    expectUsageError(
      runPmfit(
        [
          'allcounts',
          '--cmd',
          `${fixture('pm_store')} loop-a`,
          '--pm',
          'loop-a',
          '--recover',
          'true {file}',
          '-o',
          'reports',
        ],
        { ...leftovers.current(), cwd: dir },
      ),
      /^pmfit: PM file loop-a is a symbolic link loop$/,
    );
    expect(fs.readdirSync(dir).sort()).toEqual(['loop-a', 'loop-b']);
  });
});

describe('command line', () => {
  it('pmfit and pmfit trace alone: the help on stderr, exit 2', () => {
    for (const args of [[], ['trace']]) {
      const result = runPmfit(args, leftovers.current());
      expect({ code: result.code, stdout: result.stdout }).toEqual({ code: 2, stdout: '' });
      expect(result.stderr).toMatch(new RegExp(`^Usage: pmfit ${args.join(' ')}`.trim()));
      expect(result.stderr).toMatch(/\nCommands:\n/);
    }
  });

  it('--max-states 0 and 1: both refused, with the bound that holds', () => {
    for (const n of ['0', '1']) {
      expectUsageError(
        runPmfit(['allcounts', '--target', 'basic', '--max-states', n], leftovers.current()),
        /^pmfit: --max-states must be at least 2 \(px86 always checks the oldest and newest image\)$/,
      );
    }
  });

  it('--model px86 --model px86 and --target basic twice: one run', () => {
    const dir = workDir('duplicates');
    const result = runPmfit(
      ['allcounts', '--target', 'basic', '--target', 'basic', '--model', 'px86', '--model', 'px86', '-o', 'reports'],
      { ...leftovers.current(), cwd: dir },
    );
    expect(result.code).toBe(0);
    const results = JSON.parse(fs.readFileSync(path.join(dir, 'reports', 'results.json'), 'utf8')) as Results;
    expect(results.runs.map((run) => `${run.target}/${run.model}`)).toEqual(['basic/px86']);
  });

  it('stderr a pipe nobody reads: still exit 2', () => {
    // A FIFO opened for reading, then for writing, then closed for reading:
    // every write to it fails with EPIPE.
    const dir = workDir('stderr-closed');
    const fifo = path.join(dir, 'fifo');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    const reader = fs.openSync(fifo, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
    const writer = fs.openSync(fifo, 'w');
    fs.closeSync(reader);
    try {
      const result = spawnSync(process.execPath, [cliPath, 'record', '--pm', 'missing.pm', '-o', 'run.trace'], {
        cwd: dir,
        env: { ...process.env, ...leftovers.current().env },
        stdio: ['ignore', 'pipe', writer],
      });
      expect(result.status).toBe(2);
    } finally {
      fs.closeSync(writer);
    }
  });

  it('TERM=dumb: no cursor movement on a terminal', () => {
    if (spawnSync('script', ['--version']).status !== 0) {
      console.warn('skipped: script(1), which runs pmfit on a terminal, is missing');
      return;
    }
    const dir = workDir('term-dumb');
    pool(dir);
    const onTerminal = (term: string): CliResult => {
      const line = [process.execPath, cliPath, ...allcountsArgs()]
        .map((word) => `'${word.replace(/'/g, `'\\''`)}'`)
        .join(' ');
      const result = spawnSync('script', ['-qec', line, '/dev/null'], {
        cwd: dir,
        env: { ...process.env, ...leftovers.current().env, TERM: term, CI: '' },
        encoding: 'utf8',
      });
      return { code: result.status, signal: result.signal, stdout: result.stdout, stderr: result.stderr };
    };
    // The control: a capable terminal gets the progress bar's escapes.
    const xterm = onTerminal('xterm');
    expect(xterm.code).toBe(0);
    expect(xterm.stdout).toContain('\x1b[');
    const dumb = onTerminal('dumb');
    expect(dumb.code).toBe(0);
    expect(dumb.stdout).toMatch(/pmfit: all runs as expected/);
    expect(dumb.stdout).not.toContain('\x1b');
  });
});
