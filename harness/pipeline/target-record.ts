// target-record -- what results.json says of a recorded target: its spec's
// name and description, the command as run, and the trace's counts.

import { shellQuote } from '../_internals/shell-words';
import type { TargetSpec } from '../check/spec';
import type { TargetRecord } from '../results/schema';
import type { TraceHeader } from '../trace/format';

export function targetRecord(spec: TargetSpec, header: TraceHeader, recordSeconds: number): TargetRecord {
  return {
    name: spec.name,
    description: spec.description,
    expect: spec.expect,
    command: header.argv,
    pmFiles: spec.pmFiles,
    instructions: header.instructions,
    ...(header.recorder === 'fast' ? { recorder: 'fast' as const } : {}),
    events: header.events,
    regions: header.regions.length,
    recordSeconds,
    warnings: header.warnings,
    ...(spec.timeoutMs !== undefined ? { timeoutMs: spec.timeoutMs } : {}),
    ...(spec.models !== undefined ? { models: spec.models } : {}),
    check: spec.check
      ? { kind: 'spec' }
      : {
          kind: 'recover',
          recover: spec.recover.map((command) => command.shell ?? command.argv.map(shellQuote).join(' ')),
          ...(spec.recoverServer !== undefined ? { recoverServer: spec.recoverServer } : {}),
          cwd: spec.cwd ?? '.',
          env: spec.env ?? {},
        },
  };
}
