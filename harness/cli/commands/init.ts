// init -- `pmfit init`: write a starting pmfit.config.json, as `jest --init`
// and `npm init playwright` do: one example target (or the program given
// with --cmd/--pm/--recover), `$comment` notes where a JS config would have
// comments (JSON has none; `$comment` is JSON Schema's own key for notes,
// which editors and pmfit ignore), and `$schema` pointing at the schema
// shipped in the package, so that editors complete and check every key.
// An existing file is never replaced (exit 2).

import * as fs from 'fs';
import * as path from 'path';
import { usageError } from '../../_internals/errors';
import { installedPackage, projectRoot } from '../../_internals/paths';
import { shellQuote } from '../../_internals/shell-words';
import { commandWords } from '../../check/user-spec';
import { CONFIG_NAME, type ConfigTarget, configSchemaPath, validateConfig } from '../config-file';

export interface InitOptions {
  /** The file to write (default: pmfit.config.json here). */
  config?: string;
  name?: string;
  cmd?: string;
  pm?: string;
  setup?: string;
  recover?: string;
  /** --function, repeatable. */
  function?: string[];
}

const EXAMPLE: ConfigTarget = {
  name: 'example',
  command: ['./myprog', 'insert', '{file}', 'key', 'value'],
  pm: 'myprog.pool',
  setup: './myprog create {file}',
  recover: './myprog check {file}',
  expect: 'consistent',
};

/** uneditedExample -- the one line that refuses a config target still
 *  naming the example's program (not there): run as is, its setup would
 *  fail with a shell's exit status 127 after pmfit had started. */
export function uneditedExample(target: ConfigTarget, dir: string): string | undefined {
  const [program] = EXAMPLE.command;
  if (target.command[0] !== program || fs.existsSync(path.resolve(dir, program))) return undefined;
  return `target ${target.name} is still pmfit init's example (${program} does not exist): fill in "command" (your program and its arguments, {file} for its PM file), "pm", "setup" (or "size") and "recover"`;
}

function givenTarget(options: InitOptions): ConfigTarget | undefined {
  const functions = options.function ?? [];
  const given = (['cmd', 'pm', 'setup', 'recover', 'function', 'name'] as const).filter((k) =>
    k === 'function' ? functions.length > 0 : options[k] !== undefined,
  );
  if (given.length === 0) return undefined;
  if (options.cmd === undefined) throw usageError(`--${given[0]} describes the program of --cmd, which is missing`);
  if (options.pm === undefined) throw usageError('--cmd needs --pm FILE (its persistent-memory file)');
  if (options.recover === undefined)
    throw usageError('--cmd needs --recover "CMD {file}" (its exit status is the verdict)');
  const { argv, env } = commandWords(options.cmd);
  if (argv.length === 0) throw usageError('--cmd is empty');
  return {
    name:
      options.name ??
      (path
        .basename(argv[0])
        .replace(/[^A-Za-z0-9._-]/g, '_')
        .replace(/^[._-]+/, '') ||
        'target'),
    command: argv,
    ...(Object.keys(env).length > 0 ? { env } : {}),
    pm: options.pm,
    ...(options.setup !== undefined ? { setup: options.setup } : {}),
    recover: options.recover,
    ...(functions.length === 1 ? { function: functions[0] } : functions.length > 1 ? { functions } : {}),
    expect: 'consistent',
  };
}

/** schemaReference -- the shipped schema as the config's directory reaches
 *  it: ./node_modules/pmfit/schema/... in a project that installed pmfit. */
function schemaReference(dir: string): string {
  const relative = path.relative(dir, configSchemaPath);
  if (relative.startsWith('..') || path.isAbsolute(relative)) return configSchemaPath;
  return `./${relative}`;
}

/** runCommand -- how the user runs the config just written from here:
 *  `npx pmfit` where pmfit is a dependency of a project above this
 *  directory (its bin is not on PATH), with --config unless allcounts finds
 *  the file by its default name. */
function runCommand(file: string): string {
  const packageDir = path.dirname(projectRoot);
  const local =
    installedPackage &&
    path.basename(packageDir) === 'node_modules' &&
    isInside(process.cwd(), path.dirname(packageDir));
  const config = path.resolve(file) === path.resolve(CONFIG_NAME) ? '' : ` --config ${shellQuote(file)}`;
  return `${local ? 'npx ' : ''}pmfit allcounts${config}`;
}

function isInside(dir: string, ancestor: string): boolean {
  const relative = path.relative(ancestor, dir);
  return relative === '' || (!relative.startsWith('..') && !path.isAbsolute(relative));
}

/** formatJson -- JSON.stringify's layout, with short arrays of strings on
 *  one line, as people write them (and prettier formats them). */
function formatJson(value: unknown): string {
  return JSON.stringify(value, null, 2).replace(
    /\[\n\s*("(?:[^"\\]|\\.)*"(?:,\n\s*"(?:[^"\\]|\\.)*")*)\n\s*\]/g,
    (whole, items: string) => {
      const line = `[${items.split(/,\n\s*/).join(', ')}]`;
      return line.length <= 80 ? line : whole;
    },
  );
}

/** startingConfig -- the text `pmfit init` writes into `dir`. */
export function startingConfig(dir: string, target: ConfigTarget | undefined): string {
  const example = target === undefined;
  const config = {
    $schema: schemaReference(dir),
    $comment: [
      'The targets `pmfit allcounts` checks (all of them; `--target NAME` picks some).',
      "Paths and commands are taken from this file's directory. {file} names pmfit's scratch copy",
      'of the PM file: your own is never written. The schema above describes every key.',
    ],
    targets: [
      {
        $comment: example
          ? [
              'An example: put your program here. command is traced once (its regions marked with',
              'pmfit_region_begin/end from pmfit.h, or "function": "NAME"); setup makes a fresh PM file',
              '(or drop it to start from a copy of pm, or give "size": "16M" for a zeroed one);',
              'recover runs on every crash image and exits 0 when the image is consistent.',
              'expect "violations" marks a known-bad build that must show some; give it its own',
              '"models": ["flushed", "px86"] when its bug is a missing or misplaced flush (sequential,',
              'every store durable at once, cannot show one).',
            ]
          : 'command is traced once; recover runs on every crash image and exits 0 when it is consistent.',
        ...(target ?? EXAMPLE),
      },
    ],
    models: ['sequential', 'flushed', 'px86'],
    timeout: 10,
  };
  return `${formatJson(config)}\n`;
}

export function init(options: InitOptions): number {
  const file = options.config ?? CONFIG_NAME;
  const dir = path.dirname(path.resolve(file));
  const target = givenTarget(options);
  const text = startingConfig(dir, target);
  // What init writes is a valid config, by the same check allcounts makes.
  validateConfig(JSON.parse(text), file);
  try {
    // 'wx': never replaces a file, not even one created meanwhile.
    fs.writeFileSync(file, text, { flag: 'wx', mode: 0o644 });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST')
      throw usageError(`${file} already exists; pmfit init never replaces it (edit it, or remove it first)`);
    if (code === 'ENOENT') throw usageError(`cannot write ${file}: its directory does not exist`);
    throw usageError(`cannot write ${file}: ${(err as Error).message}`);
  }
  const lines = [
    `Wrote ${file}${target ? ` with target ${target.name}` : ' with an example target'}.`,
    ...(target
      ? []
      : [
          'Edit it: command (the program to trace, {file} for its PM file), pm, setup or size, and recover',
          '(a command that checks the crash image {file} and exits 0 when it is consistent).',
        ]),
    `Then run: ${runCommand(file)}    (reports: results.json, index.html, junit.xml)`,
    `Every key is described in ${schemaReference(dir)}; your editor shows it through "$schema".`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}
