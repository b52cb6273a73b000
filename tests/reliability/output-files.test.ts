// output-files -- what pmfit writes (a trace, the reports, a replay file)
// goes only to a regular file or a new name, never over a device, a FIFO, a
// symbolic link, a directory or one of the run's PM files: one line that
// names the path and exit 2, the node untouched, nothing left behind. An
// output directory that cannot be written is found before the work, and
// two runs writing reports into one directory leave one run's whole set.

import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { fixture } from '../fixtures';
import { useLeftovers } from '../helpers/leftovers';
import { CliResult, runPmfit, startPmfit } from '../helpers/run-pmfit';
import { fixturePath } from '../report/fixture';
import { asUser, canDropPrivileges, expectUsageError, readOnlyMount, scratchDir } from './helpers';

const leftovers = useLeftovers();
const scratch = scratchDir('output-files');

const workDir = scratch.workDir;

/** A directory with a 4 KiB PM file pm.pm and a user's file notes.txt,
 *  both kept byte for byte (the PM file unless the test records, which
 *  runs the program on it). */
function userFiles(name: string, keepPm = true): { dir: string; pm: string; notes: string } {
  const dir = workDir(name);
  const pm = path.join(dir, 'pm.pm');
  fs.writeFileSync(pm, Buffer.alloc(4096));
  const notes = path.join(dir, 'notes.txt');
  fs.writeFileSync(notes, "the user's own notes\n");
  leftovers.current().keep(notes);
  if (keepPm) leftovers.current().keep(pm);
  return { dir, pm, notes };
}

function record(dir: string, output: string): CliResult {
  return runPmfit(['record', '--pm', 'pm.pm', '-o', output, '--', fixture('pm_store'), 'pm.pm'], {
    ...leftovers.current(),
    cwd: dir,
  });
}

/** `pmfit allcounts` of pm_store on userFiles()'s pm.pm, reports to `output`. */
const allcountsArgs = (output: string): string[] => [
  'allcounts',
  '--cmd',
  `${fixture('pm_store')} pm.pm`,
  '--pm',
  'pm.pm',
  '--recover',
  'true {file}',
  '-o',
  output,
];

/** The node at `file` as lstat sees it: kind, device, inode, rdev. */
function node(file: string): string {
  const stat = fs.lstatSync(file);
  return `${(stat.mode & fs.constants.S_IFMT).toString(8)} ${stat.dev} ${stat.ino} ${stat.rdev}`;
}

const notRegular = /\(pmfit writes only to a regular file or a new name\)$/;

describe('record -o', () => {
  it('a character device (a copy of /dev/full), a FIFO, a symbolic link, a directory: refused, left as they were', () => {
    const { dir } = userFiles('record-nodes');
    const nodes: Array<[string, RegExp]> = [];
    if (process.getuid?.() === 0 && spawnSync('mknod', [path.join(dir, 'full'), 'c', '1', '7']).status === 0) {
      nodes.push(['full', /it is a character device/]);
    } else {
      console.warn('skipped the character device: mknod needs root');
    }
    spawnSync('mkfifo', [path.join(dir, 'fifo')]);
    nodes.push(['fifo', /it is a FIFO/]);
    fs.symlinkSync('notes.txt', path.join(dir, 'to-notes'));
    nodes.push(['to-notes', /it is a symbolic link/]);
    fs.symlinkSync('nowhere', path.join(dir, 'dangling'));
    nodes.push(['dangling', /it is a symbolic link/]);
    fs.mkdirSync(path.join(dir, 'subdir'));
    nodes.push(['subdir', /it is a directory/]);
    for (const [name, why] of nodes) {
      const before = node(path.join(dir, name));
      const result = record(dir, name);
      expectUsageError(result, new RegExp(`^pmfit: cannot write ${name}: ${why.source}`));
      expect(pmfitLine(result)).toMatch(notRegular);
      expect(node(path.join(dir, name))).toBe(before);
    }
    expect(fs.readdirSync(path.join(dir, 'subdir'))).toEqual([]);
    expect(fs.readdirSync(dir).sort()).toEqual([...nodes.map(([name]) => name), 'notes.txt', 'pm.pm'].sort());
  });

  it('the PM file itself, a hard link to it, a symbolic link to it: refused', () => {
    const { dir } = userFiles('record-pm');
    fs.linkSync(path.join(dir, 'pm.pm'), path.join(dir, 'hard.pm'));
    fs.symlinkSync('pm.pm', path.join(dir, 'soft.pm'));
    expectUsageError(record(dir, 'pm.pm'), /^pmfit: cannot write pm.pm: it is the PM file pm.pm$/);
    expectUsageError(record(dir, path.join(dir, 'pm.pm')), /^pmfit: cannot write .*\/pm.pm: it is the PM file pm.pm$/);
    expectUsageError(
      record(dir, 'hard.pm'),
      /^pmfit: cannot write hard.pm: it is the PM file pm.pm \(the same file by device and inode\)$/,
    );
    expectUsageError(record(dir, 'soft.pm'), /^pmfit: cannot write soft.pm: it is a symbolic link/);
    expect(fs.readdirSync(dir).sort()).toEqual(['hard.pm', 'notes.txt', 'pm.pm', 'soft.pm']);
  });

  it('an existing regular file is replaced whole; a new name is created', () => {
    const { dir } = userFiles('record-regular', false);
    fs.writeFileSync(path.join(dir, 'old.trace'), 'an old trace');
    expect(record(dir, 'old.trace').code).toBe(0);
    expect(record(dir, 'new.trace').code).toBe(0);
    const show = runPmfit(['trace', 'show', '--json', path.join(dir, 'old.trace')], leftovers.current());
    expect(show.code).toBe(0);
    expect(JSON.parse(show.stdout).events.length).toBeGreaterThan(0);
    expect(fs.readdirSync(dir).sort()).toEqual(['new.trace', 'notes.txt', 'old.trace', 'pm.pm']);
  });

  it('a directory on a read-only mount: says so, not ENOENT', () => {
    const dir = workDir('record-ro-mount');
    const ro = readOnlyMount(dir);
    if (ro === undefined) return;
    try {
      fs.writeFileSync(path.join(dir, 'pm.pm'), Buffer.alloc(4096));
      expectUsageError(
        record(dir, 'ro/run.trace'),
        /^pmfit: cannot write ro\/run.trace: directory .*\/ro is not writable \(read-only file system\)$/,
      );
    } finally {
      spawnSync('umount', [ro]);
    }
  });
});

function pmfitLine(result: CliResult): string {
  return result.stderr.split('\n').find((line) => line.startsWith('pmfit: ')) ?? '';
}

describe('reports', () => {
  it('results.json a symbolic link to a user file, index.html a hard link to the PM file: refused, nothing replaced', () => {
    const { dir } = userFiles('reports-links');
    const reports = path.join(dir, 'reports');
    fs.mkdirSync(reports);
    fs.symlinkSync('../notes.txt', path.join(reports, 'results.json'));
    const report = runPmfit(['report', fixturePath, '-o', reports], leftovers.current());
    expectUsageError(report, /^pmfit: cannot write .*\/reports\/results.json: it is a symbolic link/);
    fs.unlinkSync(path.join(reports, 'results.json'));
    fs.linkSync(path.join(dir, 'pm.pm'), path.join(reports, 'index.html'));
    const checked = runPmfit(allcountsArgs('reports'), { ...leftovers.current(), cwd: dir });
    expectUsageError(
      checked,
      /^pmfit: cannot write reports\/index.html: it is the PM file (.*\/)?pm.pm \(the same file by device and inode\)$/,
    );
    expect(checked.stdout).toBe('');
    expect(fs.readdirSync(reports).sort()).toEqual(['index.html']);
  });

  it('-o naming a file, or a directory that cannot be written: refused before any work', () => {
    const { dir } = userFiles('reports-unwritable');
    const onFile = runPmfit(allcountsArgs('notes.txt/reports'), { ...leftovers.current(), cwd: dir });
    expectUsageError(onFile, /^pmfit: cannot write to notes.txt\/reports: .*\/notes.txt is not a directory$/);
    expect(onFile.stdout).toBe('');
    if (!canDropPrivileges()) {
      console.warn('skipped the read-only directory: running as root without setpriv');
      return;
    }
    fs.mkdirSync(path.join(dir, 'locked'), 0o555);
    fs.chmodSync(path.join(dir, 'locked'), 0o555);
    fs.chmodSync(leftovers.current().tmp, 0o777);
    const locked = asUser(allcountsArgs('locked/reports'), { cwd: dir, env: leftovers.current().env });
    expectUsageError(
      locked,
      /^pmfit: cannot write to locked\/reports: directory .*\/locked is not writable \(permission denied\)$/,
    );
    // Nothing ran: no run printed, no trace recorded.
    expect(locked.stdout).toBe('');
  });

  it("two runs writing into one directory leave one run's whole set", async () => {
    const dir = workDir('reports-concurrent');
    const reports = path.join(dir, 'reports');
    // Two results files that differ in every report derived from them.
    const sources = ['2020', '2021'].map((name) => {
      const results = JSON.parse(fs.readFileSync(fixturePath, 'utf8'));
      results.startedAt = `${name}-01-01T00:00:00.000Z`;
      const file = path.join(dir, `${name}.json`);
      fs.writeFileSync(file, JSON.stringify(results));
      return file;
    });
    for (let round = 0; round < 3; round++) {
      const runs = [...sources, ...sources].map((file) =>
        startPmfit(['report', file, '-o', reports], leftovers.current()),
      );
      const results = await Promise.all(runs.map((run) => run.done));
      expect(results.map((result) => result.code)).toEqual([0, 0, 0, 0]);
      const started = (
        JSON.parse(fs.readFileSync(path.join(reports, 'results.json'), 'utf8')).startedAt as string
      ).slice(0, 19);
      expect(fs.readFileSync(path.join(reports, 'index.html'), 'utf8')).toContain(started);
      expect(fs.readFileSync(path.join(reports, 'junit.xml'), 'utf8')).toContain(`timestamp="${started}"`);
      expect(fs.readdirSync(reports).sort()).toEqual(['index.html', 'junit.xml', 'results.json']);
    }
  });

  it('a lock left by a pmfit that was killed is taken over', () => {
    const dir = workDir('reports-stale-lock');
    const reports = path.join(dir, 'reports');
    fs.mkdirSync(reports);
    // A process that has exited: its pid names no live process (until reused).
    const gone = spawnSync('true').pid;
    fs.writeFileSync(path.join(reports, '.pmfit.lock'), `${gone}\n`);
    expect(runPmfit(['report', fixturePath, '-o', reports], leftovers.current()).code).toBe(0);
    expect(fs.readdirSync(reports).sort()).toEqual(['index.html', 'junit.xml', 'results.json']);
  });
});
