// resolve-command -- find the program a user named, as execvp would, and
// check that pmfit can trace it, with a one-line reason when it cannot.

import * as fs from 'fs';
import * as path from 'path';
import { usageError } from '../_internals/errors';
import { inspectExecutable } from '../elf/inspect-executable';
import type { ElfFile } from '../elf/read-elf';

export interface ResolvedCommand {
  /** Absolute path of the executable. */
  file: string;
  argv: string[];
  elf: ElfFile;
}

function searchPath(name: string): string | undefined {
  for (const dir of (process.env.PATH || '/usr/bin:/bin').split(':')) {
    const candidate = path.resolve(dir || '.', name);
    if (fs.existsSync(candidate)) return candidate;
  }
  return undefined;
}

export function resolveCommand(argv: string[]): ResolvedCommand {
  if (argv.length === 0) throw usageError('no command given after --');
  const name = argv[0];
  const file = name.includes('/') ? path.resolve(name) : searchPath(name);
  if (!file) throw usageError(`${name}: command not found`);
  const inspected = inspectExecutable(file);
  if (!inspected.ok) throw usageError(inspected.message);
  return { file, argv: [...argv], elf: inspected.elf };
}
