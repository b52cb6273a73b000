// init.test -- `pmfit init` writes a valid, commented starting config that
// points at the shipped schema, and never replaces a file; allcounts refuses
// its example target until the user has filled it in.

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ExitCode, PmfitError } from '../../../harness/_internals/errors';
import { planAllcounts } from '../../../harness/cli/allcounts-plan';
import { init } from '../../../harness/cli/commands/init';
import { configSchemaPath, readConfig } from '../../../harness/cli/config-file';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pmfit-init-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function quietly<T>(action: () => T): { value: T; printed: string } {
  const write = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
  try {
    const value = action();
    return { value, printed: write.mock.calls.map((call) => String(call[0])).join('') };
  } finally {
    write.mockRestore();
  }
}

describe('pmfit init', () => {
  it('writes an example config that validates, with notes and the schema', () => {
    const file = path.join(dir, 'example.json');
    const { value, printed } = quietly(() => init({ config: file }));
    expect(value).toBe(0);
    expect(printed).toContain('with an example target');
    // Not the default name: the next command must name the file (pmfit runs
    // from a checkout here, so not through npx).
    expect(printed).toContain(`Then run: pmfit allcounts --config ${file}    (reports:`);
    const text = fs.readFileSync(file, 'utf8');
    const json = JSON.parse(text);
    expect(json.$comment.length).toBeGreaterThan(0);
    expect(json.targets[0].$comment.join(' ')).toContain('recover runs on every crash image');
    expect(json.targets[0].$comment.join(' ')).toContain('its own "models": ["flushed", "px86"]');
    expect(path.resolve(dir, json.$schema)).toBe(configSchemaPath);
    expect(readConfig(file).targets[0].name).toBe('example');
  });

  it('writes the program given with --cmd, --pm, --setup, --recover', () => {
    const file = path.join(dir, 'given.json');
    quietly(() =>
      init({
        config: file,
        cmd: 'MODE=fast ./bin/store put {file} k v',
        pm: 'store.pm',
        setup: './bin/store init {file}',
        recover: './bin/store check {file}',
        function: ['put'],
      }),
    );
    const [target] = readConfig(file).targets;
    expect(target).toMatchObject({
      name: 'store',
      command: ['./bin/store', 'put', '{file}', 'k', 'v'],
      env: { MODE: 'fast' },
      pm: 'store.pm',
      setup: './bin/store init {file}',
      recover: './bin/store check {file}',
      function: 'put',
    });
  });

  it('never replaces an existing file', () => {
    const file = path.join(dir, 'pmfit.config.json');
    fs.writeFileSync(file, 'mine');
    expect(() => quietly(() => init({ config: file }))).toThrow(/already exists; pmfit init never replaces it/);
    expect(fs.readFileSync(file, 'utf8')).toBe('mine');
  });

  it('asks for what --cmd needs', () => {
    expect(() => init({ config: path.join(dir, 'x.json'), cmd: './p {file}', pm: 'p.pm' })).toThrow(
      '--cmd needs --recover',
    );
    expect(() => init({ config: path.join(dir, 'x.json'), pm: 'p.pm' })).toThrow('--pm describes the program of --cmd');
    expect(fs.existsSync(path.join(dir, 'x.json'))).toBe(false);
  });
});

describe('pmfit allcounts on an unedited pmfit init config', () => {
  const project = path.join(dir, 'unedited');
  const file = path.join(project, 'pmfit.config.json');
  beforeAll(() => {
    fs.mkdirSync(project);
    quietly(() => init({ config: file }));
  });

  it('is refused before anything runs: exit 2, naming what to fill in', () => {
    let thrown: unknown;
    try {
      planAllcounts({ target: [], model: [] }, readConfig(file));
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(PmfitError);
    expect((thrown as PmfitError).exitCode).toBe(ExitCode.Usage);
    const message = (thrown as PmfitError).message;
    expect(message.split('\n')).toHaveLength(1);
    expect(message).toBe(
      `${path.relative(process.cwd(), file)}: target example is still pmfit init's example (./myprog does not exist): fill in "command" (your program and its arguments, {file} for its PM file), "pm", "setup" (or "size") and "recover"`,
    );
  });

  it('runs once the program is there (the user built it under that name)', () => {
    fs.writeFileSync(path.join(project, 'myprog'), '');
    try {
      expect(planAllcounts({ target: [], model: [] }, readConfig(file)).targets[0].spec.name).toBe('example');
    } finally {
      fs.rmSync(path.join(project, 'myprog'));
    }
  });
});
