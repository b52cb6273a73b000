// helpers for tests/check: build the C recovery programs, hand-made crash
// states and specs.

import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

import type { CheckInput, SpecCommand, TargetSpec } from '../../harness/check/spec';
import { BaseImage } from '../../harness/image/image';
import { ImagePatch } from '../../harness/image/image-patch';
import type { CrashGroup, CrashState } from '../../harness/persistency/model';

/** buildPrograms -- compile tests/check/programs/NAME.c into a fresh temp dir. */
export function buildPrograms(names: string[]): { dir: string; path(name: string): string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pmfit-check-test-'));
  for (const name of names) {
    execFileSync('gcc', ['-O0', '-o', path.join(dir, name), path.join(__dirname, 'programs', `${name}.c`)]);
  }
  return { dir, path: (name: string) => path.join(dir, name) };
}

export interface StateLog {
  materialized: string[];
}

/** wholeImage -- an image set given in full, as a patch with no lines. */
export function wholeImage(files: Uint8Array[]): ImagePatch {
  return new ImagePatch(
    new BaseImage(files),
    files.map(() => new Map()),
  );
}

/** state -- a crash state whose single PM file holds `content`. */
export function state(hash: string, content: string, log?: StateLog): CrashState {
  return {
    hash,
    patch: () => {
      log?.materialized.push(hash);
      return wholeImage([Buffer.from(content)]);
    },
    describe: () => [],
  };
}

export function group(first: number, last: number, ...states: CrashState[]): CrashGroup {
  return { first, last, states };
}

export function makeSpec(
  recover: SpecCommand[],
  check?: (input: CheckInput) => string[],
  extra: Partial<TargetSpec> = {},
): TargetSpec {
  return {
    name: 'test',
    description: 'tests/check',
    expect: 'consistent',
    pmFiles: ['pool'],
    setup: [],
    workload: { argv: ['true'] },
    states: [],
    recover,
    check: check ?? (() => []),
    ...extra,
  };
}
