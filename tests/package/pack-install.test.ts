// pack-install -- pmfit as a user gets it: `npm pack`, installed into a
// fresh project in a temporary directory, then used from there as the
// README says: `npx pmfit init`, a program with a planted ordering bug
// compiled with `$(npx pmfit cflags)` and put in pmfit.config.json,
// `npx pmfit allcounts` finding the bug, reports in
// ./pmfit-report/, nothing written into node_modules/pmfit; then the
// libpmemobj example of docs/examples/bank as the package ships it, and the
// two-thread example of docs/examples/twolog. Also the
// tarball's contents, and the source build that replaces a prebuilt addon
// that does not load.
//
// The tarball comes from `npm pack --ignore-scripts` after
// `npm run build:prebuilds`: the real prepack/prepare also recompile dist/
// in place, which the system tests running beside this one read. The
// install uses npm's cache first (--prefer-offline), which `npm ci` filled.

import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { projectRoot } from '../../harness/_internals/paths';
import type { Results, RunResult } from '../../harness/results/schema';
import { requireDebianPackage } from '../helpers/debian-package';

const STEP_TIMEOUT = 300_000;

/** The environment of a user's shell: none of the npm_* variables that
 *  `npm test` set for this process, no colour variables. */
function userEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (!/^npm_/i.test(name) && !['INIT_CWD', 'FORCE_COLOR', 'NO_COLOR'].includes(name)) env[name] = value;
  }
  return { ...env, ...extra };
}

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

function run(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = userEnv()): Run {
  const result = spawnSync(command, args, { cwd, env, encoding: 'utf8', timeout: STEP_TIMEOUT });
  return { status: result.status, stdout: result.stdout ?? '', stderr: result.stderr ?? '' };
}

/** ok -- run, and fail with its output unless it exits 0. */
function ok(command: string, args: string[], cwd: string, env?: NodeJS.ProcessEnv): string {
  const result = run(command, args, cwd, env);
  if (result.status !== 0)
    throw new Error(`${command} ${args.join(' ')} exited ${result.status}:\n${result.stdout}\n${result.stderr}`);
  return result.stdout;
}

/** snapshot -- every file under dir with its size and modification time. */
function snapshot(dir: string): Map<string, string> {
  const files = new Map<string, string>();
  for (const entry of fs.readdirSync(dir, { recursive: true, withFileTypes: true })) {
    const file = path.join(entry.parentPath, entry.name);
    const stat = fs.lstatSync(file);
    files.set(path.relative(dir, file), entry.isDirectory() ? 'dir' : `${stat.size} ${stat.mtimeMs}`);
  }
  return files;
}

let work: string;
let project: string;
let tarball: string;
let packed: string[];

beforeAll(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'pmfit-pack-'));
  project = path.join(work, 'project');
  fs.mkdirSync(project);
});
// The tarball and the project live under `work`: removed however the
// tests end.
afterAll(() => {
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

const pmfit = (...args: string[]) => run('npx', ['--no', 'pmfit', ...args], project);
const installed = () => path.join(project, 'node_modules', 'pmfit');

test(
  "npm pack: the package files, nothing of the repository's own",
  () => {
    ok('npm', ['run', '--silent', 'build:prebuilds'], projectRoot);
    const [info] = JSON.parse(
      ok('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], projectRoot),
    ) as { filename: string; files: { path: string }[] }[];
    tarball = path.join(work, info.filename);
    packed = info.files.map((file) => file.path);

    for (const file of [
      'package.json',
      'LICENSE',
      'README.md',
      'binding.gyp',
      'native/binding.cc',
      'native/task.h',
      'prebuilds/linux-x64/pmfit.node',
      'prebuilds/linux-x64/pmfit_sentinel',
      'targets/include/pmfit.h',
      'docs/architecture.md',
      'docs/models.md',
      'docs/trace-format.md',
      'docs/results.md',
      'docs/targets.md',
      'schema/pmfit.config.schema.json',
      'dist/harness/cli/main.js',
    ])
      expect(packed).toContain(file);
    const foreign = packed.filter(
      (file) =>
        /^(tests|bench|\.ci|scripts|build|reports|pmfit-report|node_modules|dist\/(tests|bench))\//.test(file) ||
        /\.(tgz|map|trace)$/.test(file) ||
        file === 'programs.gypi',
    );
    expect(foreign).toEqual([]);
    // The built-in targets' C sources stay in the repository: only pmfit.h.
    expect(packed.filter((file) => file.startsWith('targets/') && !file.startsWith('targets/include/'))).toEqual([]);
    const manifest = JSON.parse(fs.readFileSync(path.join(projectRoot, 'package.json'), 'utf8')) as {
      private?: boolean;
      scripts: Record<string, string>;
    };
    expect(manifest.private).toBeUndefined();
    expect(manifest.scripts.install).toBe('node-gyp-build');
    expect(manifest.scripts.prepack).toContain('scripts/prebuild.sh');
  },
  STEP_TIMEOUT,
);

test(
  'installs into a fresh project with the prebuilt addon: the install script compiles nothing',
  () => {
    // Approved, as npm 11 wants a dependency's install script to be
    // (allowScripts); earlier npm runs it anyway.
    fs.writeFileSync(
      path.join(project, 'package.json'),
      JSON.stringify({ name: 'pm-store', version: '1.0.0', private: true, allowScripts: { pmfit: true } }, null, 2),
    );
    const install = ok(
      'npm',
      ['install', '--prefer-offline', '--no-audit', '--no-fund', '--foreground-scripts', '--save-dev', tarball],
      project,
    );
    expect(install).toContain('node-gyp-build');
    expect(fs.existsSync(path.join(installed(), 'prebuilds', 'linux-x64', 'pmfit.node'))).toBe(true);
    // The sentinel program beside it runs (executable as packed): with its
    // stdin at end of file it finds no process of this mark and exits.
    ok(path.join(installed(), 'prebuilds', 'linux-x64', 'pmfit_sentinel'), ['0'.repeat(20), 'token', work], project);
    // node-gyp-build loaded the prebuilt addon, so node-gyp never ran.
    expect(fs.existsSync(path.join(installed(), 'build'))).toBe(false);
    const version = pmfit('--version');
    expect(version.status).toBe(0);
    // Before any config: what is missing, not a built-in example of a checkout.
    const bare = pmfit('allcounts');
    expect({ status: bare.status, stderr: bare.stderr }).toEqual({
      status: 2,
      stderr: `pmfit: no pmfit.config.json in ${project}: write one with pmfit init, name one with --config FILE, or give --cmd, --pm and --recover\n`,
    });
    expect(fs.existsSync(path.join(project, 'pmfit-report'))).toBe(false);
  },
  STEP_TIMEOUT,
);

test(
  'pmfit init, a program built with $(npx pmfit cflags): allcounts finds its bug, reports in ./pmfit-report/',
  () => {
    fs.copyFileSync(path.join(__dirname, 'store.c'), path.join(project, 'store.c'));
    const cflags = pmfit('cflags');
    expect(cflags.status).toBe(0);
    expect(cflags.stdout.trim()).toBe(`-I${path.join(installed(), 'targets', 'include')} -g -Wl,-z,now`);
    ok('bash', ['-c', 'cc $(npx --no pmfit cflags) -O2 -Wall -Werror store.c -o store'], project);

    const before = snapshot(installed());
    // pmfit init writes the starting config; the user puts the program in.
    const init = pmfit('init');
    expect(init.status).toBe(0);
    // pmfit is the project's dependency: its bin is reached through npx.
    expect(init.stdout).toContain('Then run: npx pmfit allcounts    (reports:');
    const configFile = path.join(project, 'pmfit.config.json');
    const config = JSON.parse(fs.readFileSync(configFile, 'utf8')) as Record<string, unknown>;
    // Its $schema points at the schema the package ships.
    expect(fs.existsSync(path.resolve(project, config.$schema as string))).toBe(true);
    config.targets = [
      {
        name: 'store',
        command: ['./store', 'set', '{file}', '42'],
        pm: 'pool.pm',
        setup: './store create {file}',
        recover: './store check {file}',
      },
    ];
    config.models = ['sequential'];
    fs.writeFileSync(configFile, JSON.stringify(config, null, 2));

    const result = pmfit('allcounts');
    expect({ status: result.status, stderr: result.stderr }).toEqual({ status: 1, stderr: expect.any(String) });
    // One finding for the planted bug, at its line in the user's source.
    expect(result.stdout).toMatch(/finding store-sequential-f\d+ /);
    expect(result.stdout).toMatch(/at \S*store\.c:\d+ .*\n.*\n.*the bug: the flag before the data/);
    expect(result.stdout).toContain('pmfit reproduce pmfit-report/results.json store-sequential-');

    const reports = path.join(project, 'pmfit-report');
    const results = JSON.parse(fs.readFileSync(path.join(reports, 'results.json'), 'utf8')) as Results;
    expect(results.status).toBe('fail');
    expect(results.runs.map((r) => [r.target, r.model, r.violations > 0])).toEqual([['store', 'sequential', true]]);
    expect(fs.existsSync(path.join(reports, 'index.html'))).toBe(true);
    expect(fs.existsSync(path.join(reports, 'junit.xml'))).toBe(true);

    // The reproduce line works from the project too.
    const group = results.runs[0].groups.find((g) => g.violation)!;
    const reproduce = pmfit('reproduce', 'pmfit-report/results.json', group.id);
    expect(reproduce.status).toBe(1);

    // Nothing was written into the installed package.
    expect(snapshot(installed())).toEqual(before);
  },
  STEP_TIMEOUT,
);

test(
  'allcounts --shard in two and pmfit merge, as the example CI workflow runs them, give the same results',
  () => {
    // Without call stacks, which a merge does not unwind (docs/sharding.md).
    const env = userEnv({ PMFIT_TEST_UNWIND_LIBRARY: '/nonexistent/libdw.so.1' });
    const npx = (...args: string[]) => run('npx', ['--no', 'pmfit', ...args], project, env);
    expect(npx('allcounts', '-o', 'pmfit-report-single').status).toBe(1);
    const single = JSON.parse(
      fs.readFileSync(path.join(project, 'pmfit-report-single', 'results.json'), 'utf8'),
    ) as Results;
    for (const i of [1, 2]) expect(npx('allcounts', '--shard', `${i}/2`, '-o', `shard-${i}`).status).toBe(0);
    const merged = npx('merge', 'shard-1', 'shard-2', '-o', 'pmfit-report-merged');
    expect(merged.status).toBe(1);
    const results = JSON.parse(
      fs.readFileSync(path.join(project, 'pmfit-report-merged', 'results.json'), 'utf8'),
    ) as Results;
    // The findings (ids, sites, excerpts) as the unsharded run's; their
    // reproduce lines name the merged results.json.
    const findings = (r: Results) =>
      r.runs.map((run) =>
        run.findings?.map((f) => ({ ...f, example: { ...f.example, reproduce: f.example.reproduce.split(' ')[0] } })),
      );
    expect(findings(results)).toEqual(findings(single));
    expect(results.runs[0].findings!.length).toBeGreaterThan(0);
    expect(results.runs.map((r) => r.groups.map((g) => [g.id, g.crashPoints]))).toEqual(
      single.runs.map((r) => r.groups.map((g) => [g.id, g.crashPoints])),
    );
  },
  STEP_TIMEOUT,
);

test(
  'reports into the installed package directory are refused before any work',
  () => {
    const before = snapshot(installed());
    const result = pmfit(
      'allcounts',
      '--setup',
      './store create {file}',
      '--cmd',
      './store set pool.pm 42',
      '--pm',
      'pool.pm',
      '--recover',
      './store check {file}',
      '-o',
      'node_modules/pmfit/reports',
    );
    expect(result.status).toBe(2);
    expect(result.stderr.trim()).toMatch(
      /^pmfit: cannot write to \S*node_modules\/pmfit\/reports: it is inside pmfit's installed package/,
    );
    expect(snapshot(installed())).toEqual(before);
  },
  STEP_TIMEOUT,
);

test(
  'the bank example: a libpmemobj program on a 16 MiB pool, its bug found, reproduced, sharded, crashed at with --exact',
  () => {
    // docs/examples/bank as the package ships it, built and run from a
    // folder of the project with its own pmfit.config.json.
    requireDebianPackage('libpmemobj-dev', '/usr/include/libpmemobj.h');
    const bank = path.join(project, 'bank');
    fs.cpSync(path.join(installed(), 'docs', 'examples', 'bank'), bank, { recursive: true });
    ok('bash', ['-c', 'cc $(npx --no pmfit cflags) -O2 -Wall -Werror bank.c -o bank -lpmemobj'], bank);
    ok('./bank', ['create', 'bank.pool'], bank);
    const pool = fs.readFileSync(path.join(bank, 'bank.pool'));
    expect(pool.length).toBe(16 << 20);
    const inBank = (...args: string[]) => run('npx', ['--no', 'pmfit', ...args], bank);
    const results = (dir: string) =>
      JSON.parse(fs.readFileSync(path.join(bank, dir, 'results.json'), 'utf8')) as Results;
    const bugLine =
      fs
        .readFileSync(path.join(bank, 'bank.c'), 'utf8')
        .split('\n')
        .findIndex((line) => line.includes('with --bug: not in the undo log')) + 1;

    // Every target of the config: the correct program passes, both checks
    // of the buggy one (exit status, and --oracle outputs on a recovery
    // that only prints) find violations; the lint names the unlogged store.
    const whole = inBank('allcounts');
    expect({ status: whole.status, stderr: whole.stderr }).toEqual({ status: 0, stderr: '' });
    expect(whole.stdout).toContain(`lint warning: store at bank.c:${bugLine} not durable when its operation ended`);
    const all = results('pmfit-report');
    const violations = (target: string) => all.runs.filter((r) => r.target === target).map((r) => r.violations);
    expect(violations('bank')).toEqual([0, 0]);
    for (const [exit, printed] of violations('bank-bug').map((n, i) => [n, violations('bank-bug-outputs')[i]])) {
      expect(exit).toBeGreaterThan(0);
      expect(printed).toBeGreaterThanOrEqual(exit);
    }
    const sequential = all.runs.find((r) => r.target === 'bank-bug' && r.model === 'sequential')!;
    const group = sequential.groups.find((g) => g.violation)!;
    // the fast recorder is the default
    expect(all.targets.every((t) => t.recorder === 'fast')).toBe(true);
    expect(whole.stdout).toContain('steps of the fast recorder');

    const reproduce = inBank('reproduce', 'pmfit-report/results.json', group.id);
    expect(reproduce.status).toBe(1);
    expect(reproduce.stdout).toContain('money not conserved');
    expect(reproduce.stdout).toContain('the violation reproduces');

    // Two shards merged: the unsharded run's groups (libpmemobj copies a
    // stack frame into the pool; pmfit's traced runs repeat, so the shards'
    // recordings agree).
    const one = ['allcounts', '--target', 'bank-bug', '--model', 'sequential'];
    for (const shard of ['1/2', '2/2']) {
      const part = inBank(...one, '--shard', shard, '-o', `shard-${shard[0]}`);
      expect({ shard, status: part.status, stderr: part.stderr }).toEqual({ shard, status: 0, stderr: '' });
    }
    const merge = inBank('merge', 'shard-1', 'shard-2', '-o', 'merged');
    // stderr in the comparison: a refused merge shows its reason
    expect({ status: merge.status, stderr: merge.stderr }).toEqual({ status: 0, stderr: expect.any(String) });
    const shape = (r: RunResult) => ({
      violations: r.violations,
      distinctImages: r.distinctImages,
      groups: r.groups.map((g) => [g.id, g.crashPoints, g.violation]),
    });
    expect(shape(results('merged').runs[0])).toEqual(shape(sequential));

    // --exact: the same distinct images, counted in instructions, so that
    // pmfit crash at a group's crash point leaves what the recovery saw.
    const exact = inBank(...one, '--exact', '-o', 'exact');
    expect(exact.status).toBe(0);
    expect(exact.stdout).not.toContain('steps of the fast recorder');
    const exactResults = results('exact');
    expect(exactResults.targets[0].recorder).toBeUndefined();
    expect(exactResults.runs[0].distinctImages).toBe(sequential.distinctImages);
    const exactGroup = exactResults.runs[0].groups.find((g) => g.violation)!;
    fs.copyFileSync(path.join(bank, 'bank.pool'), path.join(bank, 'crashed.pool'));
    const crash = run(
      'npx',
      [
        '--no',
        'pmfit',
        'crash',
        String(exactGroup.example.k),
        '--',
        './bank',
        'transfer',
        'crashed.pool',
        '3',
        '--bug',
      ],
      bank,
      userEnv({ PMEM_IS_PMEM_FORCE: '1' }),
    );
    expect(crash.stdout).toContain(`Program terminated after ${exactGroup.example.k} instructions`);
    const check = run('./bank', ['check', 'crashed.pool'], bank);
    expect(check.status).toBe(1);
    expect(exactGroup.recoveryOutput).toContain(check.stdout.trim());

    // The pool was never written.
    expect(fs.readFileSync(path.join(bank, 'bank.pool')).equals(pool)).toBe(true);
  },
  STEP_TIMEOUT,
);

test(
  'the twolog example: two threads on plain mmap, its ordering bug found in every schedule and replayed',
  () => {
    // docs/examples/twolog as the package ships it: clwb and sfence, no
    // library; setup makes each run's fresh 12 MiB file.
    const twolog = path.join(project, 'twolog');
    fs.cpSync(path.join(installed(), 'docs', 'examples', 'twolog'), twolog, { recursive: true });
    ok('bash', ['-c', 'cc $(npx --no pmfit cflags) -O2 -Wall -Werror twolog.c -o twolog -pthread'], twolog);
    const inTwolog = (...args: string[]) => run('npx', ['--no', 'pmfit', ...args], twolog);

    // The default (fast) recorder; its stack replay meets every site (an
    // empty stderr: no "call stacks not unwound").
    const whole = inTwolog('allcounts', '--schedules', '2');
    expect({ status: whole.status, stderr: whole.stderr }).toEqual({ status: 0, stderr: '' });
    const results = JSON.parse(fs.readFileSync(path.join(twolog, 'pmfit-report', 'results.json'), 'utf8')) as Results;
    // (the correct build's targets have no finding: no site to unwind)
    expect(results.targets.map((target) => [target.name, target.recorder, target.stacks?.kind])).toEqual(
      ['twolog@0', 'twolog@1', 'twolog-bug@0', 'twolog-bug@1'].map((name) => [
        name,
        'fast',
        name.startsWith('twolog-bug') ? 'unwound' : undefined,
      ]),
    );
    // The correct build under every model, the control (its config's own
    // models) under the two that can show its bug.
    const found = results.runs.map((r) => [r.target, r.model, r.violations > 0]);
    expect(found).toEqual([
      ...['twolog@0', 'twolog@1'].flatMap((target) =>
        ['sequential', 'flushed', 'px86'].map((model) => [target, model, false]),
      ),
      ...['twolog-bug@0', 'twolog-bug@1'].flatMap((target) =>
        ['flushed', 'px86'].map((model) => [target, model, true]),
      ),
    ]);
    // The checker's own words, and the reproduce line of schedule 1
    // replays that interleaving.
    const run1 = results.runs.find((r) => r.target === 'twolog-bug@1' && r.model === 'flushed')!;
    const group = run1.groups.find((g) => g.violation)!;
    expect(group.recoveryOutput).toMatch(/committed but not whole/);
    const reproduce = inTwolog('reproduce', 'pmfit-report/results.json', group.id);
    expect(reproduce.status).toBe(1);
    expect(reproduce.stdout).toContain('interleaving: thread schedule seed 1');
    expect(reproduce.stdout).toContain('the violation reproduces');
    // No PM file of the user's: each run's came from setup.
    expect(fs.readdirSync(twolog).filter((file) => file.endsWith('.pm'))).toEqual([]);
  },
  STEP_TIMEOUT,
);

test(
  'with the install script skipped (npm 11 without approval) the prebuilt addon still loads',
  () => {
    const other = path.join(work, 'unapproved');
    fs.mkdirSync(other);
    fs.writeFileSync(
      path.join(other, 'package.json'),
      JSON.stringify({ name: 'other', version: '1.0.0', private: true }),
    );
    ok('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--save-dev', tarball], other);
    ok(path.join(project, 'store'), ['create', 'pool.pm'], other);
    const count = run(
      'npx',
      ['--no', 'pmfit', 'count', '--json', '--', path.join(project, 'store'), 'set', 'pool.pm', '7'],
      other,
    );
    expect(count.status).toBe(0);
    expect((JSON.parse(count.stdout) as { instructions: number }).instructions).toBeGreaterThan(5);
  },
  STEP_TIMEOUT,
);

test(
  'without a usable prebuilt addon, the install step compiles the addon and the sentinel alone from the packed sources',
  () => {
    // What pmfit's message says when no addon loads.
    ok('npm', ['rebuild', 'pmfit', '--build-from-source'], project);
    const built = fs.readdirSync(path.join(installed(), 'build', 'Release')).filter((name) => name !== 'obj.target');
    // The addon and its sentinel program, nothing else: no targets, fixtures
    // or benchmark programs.
    expect(built.filter((name) => !name.startsWith('.')).sort()).toEqual(['pmfit_sentinel', 'pmfit_tracer.node']);
    ok('./store', ['create', 'pool.pm'], project);
    const count = pmfit('count', '--json', '--', './store', 'set', 'pool.pm', '7');
    expect(count.status).toBe(0);
    expect((JSON.parse(count.stdout) as { instructions: number }).instructions).toBeGreaterThan(5);
  },
  STEP_TIMEOUT,
);
