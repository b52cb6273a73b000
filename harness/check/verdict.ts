// verdict -- what checking one crash image in one operation window found.
//
// A recovery that crashes, hangs past the timeout or exits non-zero is a
// violation (docs/architecture.md, "Checking"), and so is a recovered image on which the
// target spec's invariants fail; with crashes during recovery (--depth 2), so
// is a recovery that a crash of its own turns into one of those. `output` is the recovery commands' combined
// stdout and stderr, bounded (see run-commands.ts).

export type Verdict =
  | { kind: 'ok' }
  | { kind: 'recovery-crashed'; signal: string; output: string }
  | { kind: 'recovery-timeout'; timeoutMs: number; output: string }
  | { kind: 'recovery-failed'; exitCode: number; output: string; command: string }
  | { kind: 'invariant'; failed: string[]; output: string }
  /** The recovery itself is not crash-safe (pipeline/recovery-crashes.ts):
   *  the image's recovery succeeds, but a crash at recovery instruction `at`
   *  (of `instructions`) leaves the image `hash`, whose recovery `why`
   *  (a failed recovery, or a check that fails where the uninterrupted
   *  recovery's passed). `output`: that second recovery's. */
  | { kind: 'recovery-not-crash-safe'; at: number; instructions: number; hash: string; why: string; output: string };

export type VerdictKind = Verdict['kind'];

/** Short labels for tables and results.json; stable, do not rename. */
export const verdictLabels: Readonly<Record<VerdictKind, string>> = {
  ok: 'ok',
  'recovery-crashed': 'crash',
  'recovery-timeout': 'timeout',
  'recovery-failed': 'failed',
  invariant: 'invariant',
  'recovery-not-crash-safe': 'not-crash-safe',
};

export const verdictKinds: readonly VerdictKind[] = [
  'ok',
  'recovery-crashed',
  'recovery-timeout',
  'recovery-failed',
  'invariant',
  'recovery-not-crash-safe',
];

export function verdictLabel(verdict: Verdict | VerdictKind): string {
  return verdictLabels[typeof verdict === 'string' ? verdict : verdict.kind];
}

export function isViolation(verdict: Pick<Verdict, 'kind'>): boolean {
  return verdict.kind !== 'ok';
}

/** describeVerdict -- one line for the console: "recovery crashed (SIGSEGV)". */
export function describeVerdict(verdict: Verdict): string {
  switch (verdict.kind) {
    case 'ok':
      return 'ok';
    case 'recovery-crashed':
      return `recovery crashed (${verdict.signal})`;
    case 'recovery-timeout':
      return `recovery did not finish within ${verdict.timeoutMs} ms`;
    case 'recovery-failed':
      return `recovery exited with status ${verdict.exitCode}: ${verdict.command}`;
    case 'invariant':
      return `invariant violated: ${verdict.failed.join('; ')}`;
    case 'recovery-not-crash-safe':
      return `recovery is not crash-safe: a crash at recovery instruction ${verdict.at} of ${verdict.instructions} leaves an image whose recovery ${verdict.why}`;
  }
}
