// allcounts-plan.test -- the command line and pmfit.config.json resolve to
// one plan: the command line wins over the config, the config over the
// defaults; config targets become the same specs as --cmd targets.

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { reproduceCommand } from '../../harness/pipeline/to-run-result';
import { type AllcountsCliOptions, planAllcounts } from '../../harness/cli/allcounts-plan';
import { validateConfig } from '../../harness/cli/config-file';
import { DEFAULT_MAX_STEPS } from '../../harness/tracer/tracee';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pmfit-plan-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
fs.writeFileSync(path.join(dir, 'store.pm'), Buffer.alloc(4096));

const none: AllcountsCliOptions = { target: [], model: [] };
const target = {
  name: 'store',
  command: ['./store', 'put', 'store.pm'],
  pm: 'store.pm',
  recover: './store check {file}',
};
const config = (extra: object = {}) =>
  validateConfig(
    { targets: [target, { ...target, name: 'other', setup: './store init {file}' }], ...extra },
    path.join(dir, 'pmfit.config.json'),
  );

describe('planAllcounts', () => {
  it('gives a target a recover server instead of a recovery command, from the config or --recover-server', () => {
    const { recover: _recover, ...served } = target;
    const fromConfig = planAllcounts(
      none,
      validateConfig({ targets: [{ ...served, recoverServer: './store serve' }] }, path.join(dir, 'pmfit.config.json')),
    ).targets[0].spec;
    expect(fromConfig).toMatchObject({ recover: [], recoverServer: './store serve', cwd: dir });
    // the server is not told the operation window, so an image is checked once
    expect(fromConfig.windowEnv).toBeUndefined();
    const cwd = process.cwd();
    try {
      process.chdir(dir);
      const fromCli = planAllcounts({ ...none, cmd: './store put store.pm', pm: ['store.pm'], recoverServer: './s' });
      expect(fromCli.targets[0].spec).toMatchObject({ recover: [], recoverServer: './s' });
      expect(() => planAllcounts({ ...none, cmd: './store put store.pm', pm: ['store.pm'] })).toThrow(
        '--cmd needs --recover "CMD {file}" (its exit status is the verdict) or --recover-server "CMD"',
      );
      expect(() => planAllcounts({ ...none, recoverServer: './s' }, config())).toThrow(
        '--recover-server belongs with --cmd (a user program); the targets of pmfit.config.json bring their own',
      );
    } finally {
      process.chdir(cwd);
    }
  });

  it('runs every configured target, from the config directory', () => {
    const plan = planAllcounts(none, config());
    expect(plan.targets.map((t) => t.spec.name)).toEqual(['store', 'other']);
    const [store] = plan.targets;
    expect(store.spec.cwd).toBe(dir);
    expect(store.spec.workload.argv).toEqual([path.join(dir, 'store'), 'put', '{dir}/store.pm']);
    expect(store.spec.userFiles).toEqual([path.join(dir, 'store.pm')]);
    expect(store.spec.expect).toBe('consistent');
    expect(plan.config).toBe(path.join(dir, 'pmfit.config.json'));
  });

  it('gives a config target the spec --cmd gives the same program', () => {
    const cwd = process.cwd();
    try {
      process.chdir(dir);
      const fromCli = planAllcounts({
        ...none,
        cmd: './store put store.pm',
        pm: ['store.pm'],
        recover: target.recover,
      });
      const fromConfig = planAllcounts(none, config());
      const { description: a, name: nameA, ...cli } = fromCli.targets[0].spec;
      const { description: b, name: nameB, ...file } = fromConfig.targets[0].spec;
      expect([nameA, nameB]).toEqual(['store', 'store']);
      expect(a).toContain('user command');
      expect(b).toContain('pmfit.config.json');
      expect({ ...file, cwd: fs.realpathSync(file.cwd!) }).toEqual({ ...cli, cwd: fs.realpathSync(cli.cwd!) });
    } finally {
      process.chdir(cwd);
    }
  });

  it('picks targets with --target, and names the configured ones otherwise', () => {
    expect(planAllcounts({ ...none, target: ['other', 'other'] }, config()).targets.map((t) => t.spec.name)).toEqual([
      'other',
    ]);
    expect(() => planAllcounts({ ...none, target: ['basic'] }, config())).toThrow("unknown target 'basic' (targets in");
  });

  it('takes run options from the config, and the command line over them', () => {
    const file = config({
      models: ['px86'],
      timeout: 2.5,
      jobs: 3,
      maxStates: 8,
      seed: 4,
      maxSteps: 99,
      output: 'out',
    });
    const fromFile = planAllcounts(none, file);
    expect(fromFile).toMatchObject({
      models: ['px86'],
      timeoutMs: 2500,
      jobs: 3,
      maxStates: 8,
      seed: 4,
      maxSteps: 99,
      output: path.join(dir, 'out'),
    });
    const overridden = planAllcounts(
      { ...none, model: ['flushed'], timeout: 1000, jobs: 1, maxStates: 2, seed: 0, maxSteps: 5, output: 'here' },
      file,
    );
    expect(overridden).toMatchObject({
      models: ['flushed'],
      timeoutMs: 1000,
      jobs: 1,
      maxStates: 2,
      seed: 0,
      maxSteps: 5,
      output: 'here',
    });
    expect(planAllcounts(none, config())).toMatchObject({
      models: ['sequential', 'flushed', 'px86'],
      timeoutMs: 10_000,
      maxStates: 64,
      seed: 1,
      maxSteps: DEFAULT_MAX_STEPS,
    });
  });

  it("gives a target its own models over the config's, and --model wins over both", () => {
    const file = validateConfig(
      { targets: [target, { ...target, name: 'control', models: ['px86', 'flushed'] }], models: ['sequential'] },
      path.join(dir, 'pmfit.config.json'),
    );
    const own = (plan: ReturnType<typeof planAllcounts>) => plan.targets.map((t) => [t.spec.name, t.spec.models]);
    const fromFile = planAllcounts(none, file);
    expect(fromFile.models).toEqual(['sequential']);
    expect(own(fromFile)).toEqual([
      ['store', undefined],
      ['control', ['px86', 'flushed']],
    ]);
    // --model is every target's, its own models or not.
    const cli = planAllcounts({ ...none, model: ['sequential'] }, file);
    expect(cli.models).toEqual(['sequential']);
    expect(own(cli)).toEqual([
      ['store', undefined],
      ['control', undefined],
    ]);
    // Without a top-level `models`, the others run under all three.
    const { models: _models, ...top } = file;
    const all = planAllcounts(none, top);
    expect(all.models).toEqual(['sequential', 'flushed', 'px86']);
    expect(own(all)[1]).toEqual(['control', ['px86', 'flushed']]);
    // Each schedule of the target keeps them.
    expect(
      planAllcounts({ ...none, target: ['control'], schedules: 2 }, file).targets.map((t) => t.spec.models),
    ).toEqual([
      ['px86', 'flushed'],
      ['px86', 'flushed'],
    ]);
  });

  it('merges px86 versions only when --merge-versions or the config asks, the command line winning', () => {
    expect(planAllcounts(none, config()).mergeVersions).toBe(false);
    expect(planAllcounts({ ...none, mergeVersions: true }, config()).mergeVersions).toBe(true);
    expect(planAllcounts(none, config({ mergeVersions: true })).mergeVersions).toBe(true);
    expect(planAllcounts({ ...none, mergeVersions: false }, config({ mergeVersions: true })).mergeVersions).toBe(false);
    expect(planAllcounts({ ...none, mergeVersions: true }, config({ mergeVersions: false })).mergeVersions).toBe(true);
  });

  it('makes size a fresh zero-filled file, and keeps expect and function', () => {
    const file = validateConfig(
      { targets: [{ ...target, size: '64K', expect: 'violations', function: 'put', acceptUntracedWrites: true }] },
      path.join(dir, 'pmfit.config.json'),
    );
    const [{ spec, acceptUntracedWrites }] = planAllcounts(none, file).targets;
    expect(spec.setup).toEqual([{ argv: ['truncate', '-s', '65536', '--', '{dir}/store.pm'] }]);
    expect(spec.expect).toBe('violations');
    expect(spec.functions).toEqual(['put']);
    expect(acceptUntracedWrites).toBe(true);
  });

  it('takes several functions from functions or from repeated --function', () => {
    const file = validateConfig(
      { targets: [{ ...target, functions: ['put', 'get'] }] },
      path.join(dir, 'pmfit.config.json'),
    );
    const [{ spec }] = planAllcounts(none, file).targets;
    expect(spec.functions).toEqual(['put', 'get']);
    // pmfit crash traces the same regions.
    expect(reproduceCommand(spec, 7)).toMatch(/ pmfit crash 7 --function put --function get -- /);
    expect(() =>
      validateConfig(
        { targets: [{ ...target, function: 'put', functions: ['get'] }] },
        path.join(dir, 'pmfit.config.json'),
      ),
    ).toThrow(/\$\.targets\[0\] has both function and functions; list every function in functions/);
    expect(() =>
      validateConfig({ targets: [{ ...target, functions: [] }] }, path.join(dir, 'pmfit.config.json')),
    ).toThrow(/\$\.targets\[0\]\.functions must NOT have fewer than 1 items/);
  });

  it('names the config and the target when a target cannot be used', () => {
    const file = validateConfig({ targets: [{ ...target, pm: 'missing.pm' }] }, path.join(dir, 'pmfit.config.json'));
    expect(() => planAllcounts(none, file)).toThrow(
      /pmfit\.config\.json: target store: PM file missing\.pm does not exist \(create it, or give setup/,
    );
  });

  it('refuses --pm, --setup, --recover and --function without --cmd', () => {
    expect(() => planAllcounts({ ...none, recover: 'x {file}' }, config())).toThrow(
      '--recover belongs with --cmd (a user program); the targets of pmfit.config.json bring their own',
    );
  });

  it('names every schedule but the default one NAME@SEED, so its reproduce lines say which', () => {
    const names = (options: Partial<AllcountsCliOptions>) =>
      planAllcounts({ ...none, ...options }, config()).targets.map((t) => [
        t.spec.name,
        t.spec.scheduleSeed,
        t.spec.scheduleOf,
      ]);
    expect(names({ target: ['store'] })).toEqual([['store', undefined, undefined]]);
    expect(names({ target: ['store'], scheduleSeed: 3 })).toEqual([['store@3', 3, 'store']]);
    expect(names({ target: ['store'], scheduleSeed: 5, schedules: 2 })).toEqual([
      ['store@5', 5, 'store'],
      ['store@6', 6, 'store'],
    ]);
  });
});
