// recovery-verdict -- a recovery command sequence that failed, as a verdict:
// crashed, hung past its timeout, or exited non-zero (docs/architecture.md, "Checking").

import type { CommandsOutcome } from './run-commands';
import type { Verdict } from './verdict';

export function recoveryVerdict(outcome: Exclude<CommandsOutcome, { kind: 'ok' }>): Exclude<Verdict, { kind: 'ok' }> {
  switch (outcome.kind) {
    case 'crashed':
      return { kind: 'recovery-crashed', signal: outcome.signal, output: outcome.output };
    case 'timeout':
      return { kind: 'recovery-timeout', timeoutMs: outcome.timeoutMs, output: outcome.output };
    case 'failed':
      return { kind: 'recovery-failed', exitCode: outcome.exitCode, output: outcome.output, command: outcome.command };
  }
}
