// config-file -- pmfit.config.json, the file jest and playwright users expect:
// found in the directory pmfit starts in (or named by --config), checked
// against the published JSON schema (schema/pmfit.config.schema.json, the
// one description of the format: editors read it through `$schema`, and
// pmfit validates with it through ajv), and refused with one line naming
// the JSON path (exit 2) when anything is unknown, missing or of the wrong
// type.

import type { ErrorObject, ValidateFunction } from 'ajv';
import type AjvModule from 'ajv';
import * as fs from 'fs';
import * as path from 'path';
import { usageError } from '../_internals/errors';
import { readBoundedJson } from '../_internals/input-file';
import { projectRoot } from '../_internals/paths';
import type { ModelName } from '../persistency/model';

export const CONFIG_NAME = 'pmfit.config.json';
export const configSchemaPath = path.join(projectRoot, 'schema', 'pmfit.config.schema.json');

/** A target as the file declares it (schema: definitions.target). */
export interface ConfigTarget {
  name: string;
  description?: string;
  command: string[];
  env?: Record<string, string>;
  pm: string;
  size?: number | string;
  setup?: string;
  /** One of the two (user-spec.ts says so when neither or both). */
  recover?: string;
  recoverServer?: string;
  function?: string;
  /** Several functions, each call of any of them a region. */
  functions?: string[];
  /** Seconds, as the top-level timeout, for this target. */
  timeout?: number;
  /** Models to check this target under, in place of the top-level ones. */
  models?: ModelName[];
  /** Sites whose stores may be not durable at their operation's end. */
  allowNotDurable?: string[];
  expect?: 'consistent' | 'violations';
  acceptUntracedWrites?: boolean;
  oracle?: 'exit' | 'outputs';
}

export interface ConfigFile {
  /** Absolute path of the file; its directory is where relative paths and
   *  the commands start. */
  file: string;
  dir: string;
  targets: ConfigTarget[];
  models?: ModelName[];
  timeout?: number;
  jobs?: number;
  maxStates?: number;
  mergeVersions?: boolean;
  seed?: number;
  maxSteps?: number;
  /** The recorder: "fast" (default) or "exact" (docs/recording.md). */
  recorder?: 'fast' | 'exact';
  output?: string;
}

/** A config is small; anything larger is not one. */
const CONFIG_LIMIT = 4 << 20;

let validator: ValidateFunction | undefined;

function compiled(): ValidateFunction {
  if (validator) return validator;
  const schema: unknown = JSON.parse(fs.readFileSync(configSchemaPath, 'utf8'));
  // Loaded here: the CLI names CONFIG_NAME in every command's help, and
  // ajv takes 30 ms to load.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const Ajv = (require('ajv') as { default: typeof AjvModule }).default;
  // `hint` words what a pattern or a choice of types expects, for messages.
  const ajv = new Ajv({ allErrors: true, verbose: true, logger: false, keywords: ['hint'] });
  validator = ajv.compile(schema as object);
  return validator;
}

/** jsonPath -- ajv's "/targets/0/command" as "$.targets[0].command". */
export function jsonPath(pointer: string): string {
  if (pointer === '') return '$';
  return (
    '$' +
    pointer
      .slice(1)
      .split('/')
      .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'))
      .map((part) =>
        /^\d+$/.test(part) ? `[${part}]` : /^[A-Za-z_$][\w$]*$/.test(part) ? `.${part}` : `[${JSON.stringify(part)}]`,
      )
      .join('')
  );
}

const article = (type: string): string => (/^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`);

/** describeError -- one ajv error as "PATH is missing" / "PATH is not WHAT",
 *  the wording of every file pmfit reads (_internals/json-shape.ts). */
export function describeError(error: ErrorObject): string {
  const at = jsonPath(error.instancePath);
  const hint = (error.parentSchema as { hint?: string } | undefined)?.hint;
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'required':
      return `${jsonPath(`${error.instancePath}/${String(params.missingProperty)}`)} is missing`;
    case 'additionalProperties': {
      const known = Object.keys((error.parentSchema as { properties?: object }).properties ?? {});
      const key = String(params.additionalProperty);
      const near = known.find((name) => distance(name.toLowerCase(), key.toLowerCase()) <= 2);
      return `${jsonPath(`${error.instancePath}/${key}`)} is not a known key (${near ? `did you mean ${near}? ` : ''}known: ${known.join(', ')})`;
    }
    case 'type': {
      const types = String(params.type).split(',');
      return `${at} is not ${types.map(article).join(' or ')}`;
    }
    case 'enum':
      return `${at} is not one of ${(params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
    case 'pattern':
    case 'anyOf':
      return `${at} is not ${hint ?? `valid (${error.message ?? 'no match'})`}`;
    case 'uniqueItems':
      return `${at} lists an entry twice (items ${String(params.j)} and ${String(params.i)})`;
    default:
      return `${at} ${error.message ?? 'is not valid'}`;
  }
}

/** distance -- edit distance, for "did you mean". */
function distance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++)
      next[j] = Math.min(row[j] + 1, next[j - 1] + 1, row[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    row = next;
  }
  return row[b.length];
}

/** firstError -- the error to show: an unknown key first (a misspelt key
 *  also makes its right spelling "missing"); in a choice of types (anyOf),
 *  the choice rather than the branches' own errors, which come before it. */
function firstError(errors: ErrorObject[]): ErrorObject {
  return (
    errors.find((error) => error.keyword === 'additionalProperties') ??
    errors.find((error) => error.keyword === 'anyOf') ??
    errors[0]
  );
}

/** validateConfig -- the parsed file checked against the schema. */
export function validateConfig(value: unknown, file: string): ConfigFile {
  const validate = compiled();
  if (!validate(value)) {
    const error = firstError(validate.errors ?? []);
    throw usageError(`${file}: ${error ? describeError(error) : 'does not match the schema'}`);
  }
  const config = value as Omit<ConfigFile, 'file' | 'dir'>;
  const names = new Set<string>();
  config.targets.forEach((target, i) => {
    if (names.has(target.name))
      throw usageError(`${file}: $.targets[${i}].name "${target.name}" is the name of an earlier target`);
    names.add(target.name);
    if (target.size !== undefined && target.setup !== undefined)
      throw usageError(`${file}: $.targets[${i}] has both size and setup; either makes the fresh PM file`);
    if (target.function !== undefined && target.functions !== undefined)
      throw usageError(`${file}: $.targets[${i}] has both function and functions; list every function in functions`);
    // recover or recoverServer: said here, in the schema's own words for a missing key
    if (target.recover === undefined && target.recoverServer === undefined)
      throw usageError(`${file}: $.targets[${i}].recover is missing (or give recoverServer)`);
    if (target.recover !== undefined && target.recoverServer !== undefined)
      throw usageError(`${file}: $.targets[${i}] has both recover and recoverServer; give one`);
  });
  const absolute = path.resolve(file);
  return { ...config, file: absolute, dir: path.dirname(absolute) };
}

/** readConfig -- read, parse and validate a config file. */
export function readConfig(file: string): ConfigFile {
  const value = readBoundedJson(
    file,
    CONFIG_LIMIT,
    'a pmfit config file',
    `pmfit init writes a starting ${CONFIG_NAME}`,
  );
  return validateConfig(value, file);
}

/** findConfig -- the config of a run: `--config PATH`, else
 *  pmfit.config.json in the directory pmfit started in, when there is one. */
export function findConfig(explicit?: string): ConfigFile | undefined {
  if (explicit !== undefined) return readConfig(explicit);
  return fs.existsSync(CONFIG_NAME) ? readConfig(CONFIG_NAME) : undefined;
}

const UNITS: Record<string, number> = { '': 1, K: 1024, M: 1 << 20, G: 1 << 30, KiB: 1024, MiB: 1 << 20, GiB: 1 << 30 };

/** sizeBytes -- a target's `size` (16777216, "16M", "16MiB") in bytes. */
export function sizeBytes(size: number | string): number {
  if (typeof size === 'number') return size;
  const [, digits, unit] = /^(\d+)([A-Za-z]*)$/.exec(size) ?? [];
  return Number(digits) * (UNITS[unit ?? ''] ?? NaN);
}
