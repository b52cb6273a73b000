// config-file.test -- pmfit.config.json is checked against the shipped schema,
// and every refusal is one line naming the JSON path.

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { PmfitError } from '../../harness/_internals/errors';
import { findConfig, jsonPath, readConfig, sizeBytes, validateConfig } from '../../harness/cli/config-file';

const target = {
  name: 'store',
  command: ['./store', 'put', '{file}'],
  pm: 'store.pm',
  recover: './store check {file}',
};

function refusal(value: unknown): string {
  try {
    validateConfig(value, 'pmfit.config.json');
  } catch (err) {
    expect(err).toBeInstanceOf(PmfitError);
    expect((err as PmfitError).exitCode).toBe(2);
    const message = (err as Error).message;
    expect(message).not.toContain('\n');
    return message;
  }
  throw new Error('the config was accepted');
}

describe('validateConfig', () => {
  it('accepts a full config and keeps its directory', () => {
    const config = validateConfig(
      {
        $schema: './node_modules/pmfit/schema/pmfit.config.schema.json',
        $comment: ['notes'],
        targets: [
          { ...target, $comment: 'a note', env: { A: '1' }, setup: './store init {file}', function: 'put' },
          {
            ...target,
            name: 'bad',
            expect: 'violations',
            size: '16MiB',
            acceptUntracedWrites: true,
            models: ['flushed', 'px86'],
          },
        ],
        models: ['px86'],
        timeout: 2.5,
        jobs: 2,
        maxStates: 8,
        mergeVersions: true,
        seed: 3,
        maxSteps: 1000,
        output: 'out',
      },
      'sub/pmfit.config.json',
    );
    expect(config.targets.map((t) => t.name)).toEqual(['store', 'bad']);
    expect(config.dir).toBe(path.resolve('sub'));
    expect(config.mergeVersions).toBe(true);
    expect(config.targets.map((t) => t.models)).toEqual([undefined, ['flushed', 'px86']]);
  });

  it.each([
    [
      { targets: [target], jbos: 2 },
      'pmfit.config.json: $.jbos is not a known key (did you mean jobs? known: $schema, $comment, targets,',
    ],
    [{ targets: [{ ...target, command: undefined, comand: [] }] }, '$.targets[0].comand is not a known key (did you'],
    [{ targets: [{ ...target, xyz: 1 }] }, '$.targets[0].xyz is not a known key (known: $comment, name,'],
    [{}, 'pmfit.config.json: $.targets is missing'],
    [{ targets: [{ ...target, recover: undefined }] }, '$.targets[0].recover is missing'],
    [{ targets: [target, { ...target, name: 'b', command: 'ls' }] }, '$.targets[1].command is not an array'],
    [{ targets: [{ ...target, command: ['a', 3] }] }, '$.targets[0].command[1] is not a string'],
    [{ targets: [target], jobs: 1.5 }, '$.jobs is not an integer'],
    [{ targets: [target], mergeVersions: 'yes' }, '$.mergeVersions is not a boolean'],
    [{ targets: [target], models: ['tso'] }, '$.models[0] is not one of "sequential", "flushed", "px86"'],
    [{ targets: [target], models: ['px86', 'px86'] }, '$.models lists an entry twice'],
    [
      { targets: [target, { ...target, name: 'b', models: ['flushed', 'x86'] }] },
      '$.targets[1].models[1] is not one of "sequential", "flushed", "px86"',
    ],
    [{ targets: [{ ...target, models: [] }] }, '$.targets[0].models must NOT have fewer than 1 items'],
    [{ targets: [{ ...target, models: ['px86', 'px86'] }] }, '$.targets[0].models lists an entry twice'],
    [{ targets: [{ ...target, models: 'px86' }] }, '$.targets[0].models is not an array'],
    [{ targets: [target], timeout: 0 }, '$.timeout must be >= 0.1'],
    [{ targets: [] }, '$.targets must NOT have fewer than 1 items'],
    [
      { targets: [{ ...target, recover: './store check' }] },
      '$.targets[0].recover is not a shell command naming the crash image as {file}',
    ],
    [{ targets: [{ ...target, size: '16 MB' }] }, '$.targets[0].size is not a size: bytes, or a number with K, M, G'],
    [{ targets: [{ ...target, name: 'a b' }] }, '$.targets[0].name is not a name of letters'],
    [{ targets: [{ ...target, env: { A: 1 } }] }, '$.targets[0].env.A is not a string'],
    [{ targets: [target, target] }, '$.targets[1].name "store" is the name of an earlier target'],
    [{ targets: [{ ...target, size: 4096, setup: 'x {file}' }] }, '$.targets[0] has both size and setup'],
    [
      { targets: [{ ...target, recoverServer: './store serve' }] },
      '$.targets[0] has both recover and recoverServer; give one',
    ],
    [
      { targets: [{ ...target, recover: undefined, recoverServer: '' }] },
      '$.targets[0].recoverServer must NOT have fewer',
    ],
    [[], '$ is not an object'],
  ])('%j', (value, message) => {
    expect(refusal(value)).toContain(message);
  });
});

describe('readConfig', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pmfit-config-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('names a file that is not JSON, or missing', () => {
    const file = path.join(dir, 'broken.json');
    fs.writeFileSync(file, '{"targets": [');
    expect(() => readConfig(file)).toThrow(/broken\.json is not valid JSON/);
    expect(() => readConfig(path.join(dir, 'none.json'))).toThrow(/none\.json: no such file \(pmfit init writes/);
    expect(() => readConfig(dir)).toThrow(/is a directory, not a pmfit config file/);
  });

  it('finds pmfit.config.json in the current directory only', () => {
    const cwd = process.cwd();
    try {
      process.chdir(dir);
      expect(findConfig()).toBeUndefined();
      fs.writeFileSync('pmfit.config.json', JSON.stringify({ targets: [target] }));
      expect(findConfig()?.file).toBe(path.join(fs.realpathSync(dir), 'pmfit.config.json'));
    } finally {
      process.chdir(cwd);
    }
  });
});

describe('helpers', () => {
  it('writes JSON paths as JSONPath', () => {
    expect(jsonPath('')).toBe('$');
    expect(jsonPath('/targets/0/env/MY VAR')).toBe('$.targets[0].env["MY VAR"]');
    expect(jsonPath('/a~1b')).toBe('$["a/b"]');
  });

  it('reads sizes', () => {
    expect(sizeBytes(4096)).toBe(4096);
    expect(sizeBytes('64K')).toBe(65536);
    expect(sizeBytes('16MiB')).toBe(16 << 20);
    expect(sizeBytes('1G')).toBe(1 << 30);
  });
});
