// errors -- failures that end a pmfit command with a one-line message.
//
// Exit codes (docs/architecture.md, "Output and exit codes"): 0 consistent, 1 violations, 2 usage or
// environment error. A PmfitError carries its code; anything else that
// reaches the CLI is a bug and is reported as such.

export const enum ExitCode {
  Ok = 0,
  Violations = 1,
  Usage = 2,
}

export class PmfitError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = ExitCode.Usage,
  ) {
    super(message);
    this.name = 'PmfitError';
  }
}

/** usageError -- bad input from the user: arguments, files, programs. */
export function usageError(message: string): PmfitError {
  return new PmfitError(message, ExitCode.Usage);
}

/** NoSpaceError -- a write of pmfit's own failed because its file system
 *  is full; the message names the file. */
export class NoSpaceError extends PmfitError {}

/** isNoSpace -- a write failed because its file system is full (or the
 *  user's quota is). */
export function isNoSpace(err: unknown): boolean {
  if (err instanceof NoSpaceError) return true;
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOSPC' || code === 'EDQUOT';
}
