// reproduce -- `pmfit reproduce RESULTS GROUP-ID`: one outcome group of an
// allcounts run again, exactly. The group's example crash image is rebuilt
// from the trace kept beside results.json (same model, --max-states and
// --seed; its content hash must match the recorded one), written to a fresh
// directory, and recovered and checked as the run did it: the built-in
// target's spec check, or the user's --recover in the directory pmfit was
// started in, with the same environment.
//
// Exit status: 1 when the crash image is a violation (again), 0 when it is
// consistent, 2 when it cannot be rebuilt (no such group, trace missing or
// not the one checked).

import * as fs from 'fs';
import * as path from 'path';
import { ExitCode, usageError } from '../../_internals/errors';
import { checkOutputDir, makeOutputDir } from '../../_internals/output-file';
import { outputOracleSpec } from '../../check/output-oracle';
import { closeRecoverServers } from '../../check/recover-server';
import type { TargetSpec } from '../../check/spec';
import { describeVerdict, isViolation } from '../../check/verdict';
import { reproduceImage } from '../../pipeline/reproduce-image';
import { readResults } from '../../results/results';
import { modelOptions } from '../../results/model-options';
import { parseSpans } from '../../_internals/collate';
import type { OutcomeGroup, Results, RunResult, TargetRecord, UserCheck } from '../../results/schema';
import { TraceReader } from '../../trace/format';
import { reproducibleCase, ReproducibleCase } from '../../fuzz/reproduce-case';
import { builtInSpecs, namedOnlySpecs } from '../../../targets/specs';
import { fuzzTarget, threadsFuzzTarget } from '../../../targets/fuzz-targets';
import { threadsSpec } from '../../fuzz/threads-case';

export interface ReproduceOptions {
  output?: string;
  timeout?: number;
  /** `K` or `K:J` (a crash during recovery at J): must be the group's. */
  at?: string;
}

/** checkAt -- --at K[:J] against the group's example: the reproduce line
 *  spells the crash points out, and a line edited to other ones must not
 *  silently reproduce the group's instead. */
function checkAt(at: string | undefined, group: OutcomeGroup): void {
  if (at === undefined) return;
  const match = /^(\d+)(?::(\d+))?$/.exec(at);
  if (!match) throw usageError(`--at ${at}: expected K or K:J (crash point, recovery crash point)`);
  const crash = group.example.recoveryCrash;
  const theirs = crash ? `${group.example.k}:${crash.k}` : `${group.example.k}`;
  if (at !== theirs)
    throw usageError(
      `--at ${at}: group ${group.id}'s example is at ${theirs}${crash ? ' (crash point k, then the crash point j of its recovery)' : ''}; pmfit reproduce rebuilds a group's example only`,
    );
}

function findGroup(
  results: Results,
  groupId: string,
  file: string,
): { run: RunResult; group: OutcomeGroup; target: TargetRecord } {
  for (const run of results.runs) {
    const group = run.groups.find((candidate) => candidate.id === groupId) ?? findingAsGroup(run, groupId);
    if (!group) continue;
    const target = results.targets.find((candidate) => candidate.name === run.target);
    if (!target) throw usageError(`${file} has no target record for ${run.target}`);
    return { run, group, target };
  }
  const ids = results.runs.flatMap((run) => run.groups.map((group) => group.id));
  throw usageError(
    `${file} has no group ${groupId} (groups: ${ids.slice(0, 8).join(', ')}${ids.length > 8 ? ', ...' : ids.length === 0 ? 'none' : ''})`,
  );
}

/** A finding's example image, reproduced like a group's: every image of a
 *  finding was a violation (docs/findings.md). */
function findingAsGroup(run: RunResult, id: string): OutcomeGroup | undefined {
  const finding = run.findings?.find((candidate) => candidate.id === id);
  if (!finding) return undefined;
  const group = run.groups.find(
    (candidate) =>
      candidate.violation &&
      parseSpans(candidate.crashPoints).some(
        (span) => span.first <= finding.example.k && finding.example.k <= span.last,
      ),
  );
  return {
    id: finding.id,
    kind: group?.kind ?? 'invariant',
    violation: true,
    crashPoints: finding.crashPoints,
    count: finding.count,
    images: finding.images,
    failed: [],
    recoveryOutput: '',
    example: finding.example,
  };
}

/** The spec whose check the run ran: a built-in one by name, the user's
 *  recovery commands as recorded, or a fuzz case (with its continuation). */
function specOf(target: TargetRecord, file: string): { spec: TargetSpec; fuzzCase?: ReproducibleCase } {
  const check = target.check;
  if (check === undefined)
    throw usageError(
      `${file} does not say how ${target.name} was checked (written by an older pmfit: run allcounts again)`,
    );
  if (check.kind === 'fuzz') {
    const fuzzCase = reproducibleCase(fuzzTarget(target.name), check);
    return { spec: fuzzCase.spec, fuzzCase };
  }
  if (check.kind === 'fuzz-threads') {
    // The schedule seed is the case's: the kept trace must have been recorded with it.
    const threadsCase = { threads: check.threads, scheduleSeed: check.scheduleSeed };
    return { spec: threadsSpec(threadsFuzzTarget(target.name), threadsCase, { PMEM_MODE: check.pmemMode }) };
  }
  return { spec: recordedSpec(target, check, file) };
}

function recordedSpec(target: TargetRecord, check: { kind: 'spec' } | UserCheck, file: string): TargetSpec {
  if (check.kind === 'spec') {
    // NAME@SEED: one of several thread schedules (allcounts --schedules)
    const [name, seed] = target.name.split('@');
    const spec = [...builtInSpecs(), ...namedOnlySpecs()].find((candidate) => candidate.name === name);
    if (!spec) throw usageError(`${file}: ${target.name} is not a built-in target of this pmfit`);
    return seed === undefined ? spec : { ...spec, name: target.name, scheduleSeed: Number(seed) };
  }
  const spec: TargetSpec = {
    name: target.name,
    description: target.description,
    expect: target.expect,
    pmFiles: target.pmFiles,
    setup: [],
    workload: { argv: target.command },
    states: [],
    recover: check.recover.map((shell) => ({ shell })),
    cwd: check.cwd,
    env: check.env,
    ...(check.recoverServer !== undefined ? { recoverServer: check.recoverServer } : { windowEnv: true }),
  };
  return check.outputs ? outputOracleSpec(spec, check.outputs) : spec;
}

/** checkSchedule -- the schedule seed of the kept trace, which must be the
 *  run's (NAME@SEED, results.json's `schedule`) or the fuzz case's: a trace of another interleaving would rebuild images
 *  of crash points that run never had. */
function checkSchedule(
  run: RunResult,
  spec: TargetSpec,
  traceSeed: number | undefined,
  trace: string,
): number | undefined {
  const seed = run.schedule?.seed ?? spec.scheduleSeed;
  if (seed !== undefined && (traceSeed ?? 0) !== seed)
    throw usageError(
      `${trace} was recorded with thread schedule seed ${traceSeed ?? 0}, not ${run.target}'s ${seed}: it is not the trace that run checked`,
    );
  return seed ?? traceSeed;
}

/** A new directory: -o DIR (which must not exist yet), or a fresh
 *  reproduce-ID-XXXXXX beside results.json. */
function freshDir(output: string | undefined, resultsDir: string, groupId: string): string {
  if (output !== undefined) {
    if (fs.existsSync(output))
      throw usageError(`-o ${output} exists: pmfit reproduce writes into a new directory only`);
    makeOutputDir(output);
    return path.resolve(output);
  }
  checkOutputDir(resultsDir);
  return fs.mkdtempSync(path.join(resultsDir, `reproduce-${groupId.replace(/[^\w.-]/g, '_')}-`));
}

function shown(file: string): string {
  const relative = path.relative(process.cwd(), file);
  return relative.startsWith('..') ? file : relative;
}

export async function reproduce(file: string, groupId: string, options: ReproduceOptions = {}): Promise<number> {
  const results = readResults(file);
  const { run, group, target } = findGroup(results, groupId, file);
  checkAt(options.at, group);
  if (target.trace === undefined) {
    throw usageError(
      `the trace of ${target.name} was not kept beside ${file}${target.traceNotKept ? `: ${target.traceNotKept}` : ''}`,
    );
  }
  const resultsDir = path.dirname(path.resolve(file));
  const tracePath = path.resolve(resultsDir, target.trace);
  if (!fs.existsSync(tracePath))
    throw usageError(`the trace of ${target.name} is gone: ${shown(tracePath)} (results.json names it)`);
  const { spec, fuzzCase } = specOf(target, file);
  const { k, hash } = group.example;
  const reader = TraceReader.open(tracePath);
  const out = process.stdout;
  try {
    const seed = checkSchedule(run, spec, reader.header.scheduleSeed, shown(tracePath));
    const recoveryCrash = group.example.recoveryCrash;
    out.write(
      `reproduce ${group.id}: ${target.name}, model ${run.model}, crash point k=${k} (${group.crashPoints}), image ${hash}` +
        `${recoveryCrash ? `; then a crash at j=${recoveryCrash.k} of its recovery's ${recoveryCrash.instructions} instructions, image ${recoveryCrash.hash}` : ''}\n`,
    );
    const dir = freshDir(options.output, resultsDir, group.id);
    const done = await reproduceImage(
      spec,
      reader,
      { model: run.model, k, hash, modelOptions: modelOptions(results.options) },
      dir,
      options.timeout ?? target.timeoutMs ?? results.options.timeoutMs,
      recoveryCrash
        ? { ...recoveryCrash, recoverFunction: results.options.recoveryCrashes?.recoverFunction }
        : undefined,
    );
    if (seed !== undefined)
      out.write(`interleaving: thread schedule seed ${seed}, as recorded in ${shown(tracePath)}\n`);
    out.write(
      `image rebuilt from ${shown(tracePath)}: its hash matches results.json` +
        `${done.states > 1 ? ` (one of the ${done.states} images ${run.model} has at k=${k})` : ''}\n`,
    );
    out.write(`crash image: ${done.crashFiles.map(shown).join(' ')}\n`);
    if (done.recoveryCrashFiles)
      out.write(
        `its recovery traced again and crashed at j=${recoveryCrash?.k}: ${done.recoveryCrashFiles.map(shown).join(' ')}\n`,
      );
    for (const [name, value] of Object.entries(spec.env ?? {})) out.write(`env: ${name}=${value}\n`);
    out.write(
      `${spec.oracle === 'outputs' ? 'recovery, its output compared with the uncrashed outputs, of' : spec.check ? 'recovery, then the spec check of' : 'recovery of'} ${target.name} on a copy (${done.recoveredFiles.map(shown).join(' ')})` +
        `${spec.cwd ? `, run in ${spec.cwd}` : ''}:\n`,
    );
    for (const command of done.commands) out.write(`  $ ${command}\n`);
    let verdict = done.verdict;
    if (fuzzCase && fuzzCase.continued.length > 0 && done.recovered && !isViolation(verdict)) {
      out.write(`then the fuzz case's continuation on what the recovery left: ${fuzzCase.continued.join(', ')}\n`);
      verdict = await fuzzCase.continueAfter(
        done.recovered,
        k,
        hash,
        reader.header.regions,
        options.timeout ?? target.timeoutMs ?? results.options.timeoutMs,
      );
    }
    if (verdict.kind !== 'ok' && verdict.output.trim())
      out.write(
        `${verdict.output
          .trimEnd()
          .split('\n')
          .map((line) => `    ${line}`)
          .join('\n')}\n`,
      );
    const now = isViolation(verdict);
    const recorded = group.violation ? `VIOLATION (${group.kind})` : 'consistent';
    if (now) {
      out.write(`verdict: VIOLATION: ${describeVerdict(verdict)}\n`);
      out.write(group.violation ? 'the violation reproduces\n' : `differs from ${file}, which recorded: ${recorded}\n`);
      return ExitCode.Violations;
    }
    out.write('verdict: consistent\n');
    out.write(
      group.violation ? `the violation does not reproduce (recorded: ${recorded})\n` : 'consistent, as recorded\n',
    );
    return ExitCode.Ok;
  } finally {
    reader.close();
    await closeRecoverServers();
  }
}
