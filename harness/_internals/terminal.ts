// terminal -- whether stderr is a terminal that takes cursor movement:
// TERM=dumb (Emacs shells, some CI consoles) is a terminal that does not.

/** stderrRedraws -- progress may be redrawn in place on stderr. */
export function stderrRedraws(): boolean {
  return process.stderr.isTTY === true && process.env.TERM !== 'dumb';
}
