// color -- whether pmfit colours what it prints, and the colours
// (picocolors, given the decision rather than left to guess: it would read
// --no-color anywhere in argv, the traced program's arguments included, and
// take FORCE_COLOR=0 as "force").
//
// The rules, first match wins:
//   --no-color on pmfit's command line      no colour
//   FORCE_COLOR=0 or FORCE_COLOR=false      no colour
//   FORCE_COLOR set to anything else        colour, even into a pipe or file
//   NO_COLOR set and not empty              no colour (no-color.org)
//   otherwise                               colour when stdout is a terminal
//                                           and TERM is not "dumb"

import picocolors from 'picocolors';

export type Colors = ReturnType<typeof picocolors.createColors>;

export interface ColorContext {
  /** --no-color was given. */
  noColorFlag: boolean;
  env: NodeJS.ProcessEnv;
  /** The stream coloured text goes to is a terminal. */
  isTTY: boolean;
}

/** colorEnabled -- the rules above, as a pure function. */
export function colorEnabled({ noColorFlag, env, isTTY }: ColorContext): boolean {
  if (noColorFlag) return false;
  const force = env.FORCE_COLOR;
  if (force !== undefined) return force !== '0' && force.toLowerCase() !== 'false';
  if (env.NO_COLOR) return false;
  return isTTY && env.TERM !== 'dumb';
}

let noColorFlag = false;

/** disableColor -- the CLI saw --no-color. */
export function disableColor(): void {
  noColorFlag = true;
}

/** terminalColors -- the colours for text printed on stdout by this process. */
export function terminalColors(): Colors {
  return picocolors.createColors(colorEnabled({ noColorFlag, env: process.env, isTTY: process.stdout.isTTY === true }));
}
