// substitute -- `{dir}` in a spec command becomes the working directory.

import type { Command } from '../check/spec';

export function substitute(command: Command, dir: string): string[] {
  return command.argv.map((arg) => arg.split('{dir}').join(dir));
}
