#!/usr/bin/env node
// main -- the `pmfit` command line: parses arguments with commander, runs one
// command, and turns every failure into one line on stderr and an exit code
// (0 consistent, 1 violations, 2 usage or environment error, 128 + the
// signal's number on Ctrl-C, SIGTERM, SIGHUP or SIGQUIT).
//
// A command's module is loaded when the command runs, not before: loading
// every command cost `pmfit record` 0.25 s of CPU on a 2-core machine (the
// whole report, fuzzing and config machinery), and `pmfit --help` as much.

import { Command, CommanderError, Option } from 'commander';
import { ExitCode, isNoSpace, PmfitError } from '../_internals/errors';
import { exitNow, installInterruptHandlers } from '../_internals/interrupt';
import { killDescendants } from '../_internals/descendants';
import { removeTempRoot } from '../_internals/temp-root';
import { disableColor } from '../_internals/color';
import { loadNative } from '../tracer/native';
import { sentinelPid } from '../tracer/sentinel';
import { DEFAULT_MAX_STEPS } from '../tracer/tracee';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { defaultReportsDir, projectRoot } from '../_internals/paths';
import { CONFIG_NAME } from './config-file';
import { DEFAULT_FUZZ_OPS, DEFAULT_FUZZ_RUNS, DEFAULT_FUZZ_THREADS } from './fuzz-defaults';
import { fuzzTargetNames } from '../../targets/fuzz-targets';
import {
  maxStatesOption,
  nonNegativeInteger,
  positiveInteger,
  requireDoubleDash,
  secondsToMs,
  collect,
  chooseRecorder,
} from './parse-options';

const EXACT_HELP =
  'single-step every instruction of the regions (the exact recorder) instead of running at full speed between PM accesses: crash points count instructions, as pmfit count and pmfit crash do (docs/recording.md)';
const FAST_HELP = 'the fast recorder, the default: regions run at full speed between PM accesses (docs/recording.md)';

const { version } = JSON.parse(fs.readFileSync(path.join(projectRoot, 'package.json'), 'utf8')) as { version: string };

type Action = () => Promise<number>;

/** With passThroughOptions, a `--` after a positional argument (crash N --)
 *  reaches the command list itself. */
function dropDoubleDash(argv: string[]): string[] {
  return argv[0] === '--' ? argv.slice(1) : argv;
}

function tracingOptions(command: Command): Command {
  return command
    .option(
      '--function <name>',
      'trace every call of this function instead of marker regions (repeatable)',
      collect,
      [],
    )
    .addOption(
      new Option(
        '--max-steps <n>',
        'stop a runaway region after this many instructions (the fast recorder counts only its single steps: give --timeout too)',
      )
        .argParser(positiveInteger('--max-steps'))
        .default(DEFAULT_MAX_STEPS),
    )
    .addOption(
      new Option('--timeout <seconds>', 'time limit for the traced run (0.1 s to a year)').argParser(
        secondsToMs('--timeout'),
      ),
    )
    .addOption(
      new Option('--schedule-seed <n>', 'seed of the thread schedule of a multithreaded program')
        .argParser(nonNegativeInteger('--schedule-seed'))
        .default(0),
    );
}

export function buildProgram(run: (action: Action) => void, rawArgs: string[]): Command {
  const program = new Command('pmfit')
    .description('fault injection and crash-consistency checking for persistent-memory programs')
    .version(version)
    .showHelpAfterError(false)
    .enablePositionalOptions();

  tracingOptions(
    program
      .command('count')
      .description('count the instructions executed inside regions (the original icount)')
      .usage('[options] -- CMD [ARGS...]')
      .option('--json', 'print {"instructions": N} as JSON')
      .argument('<command...>', 'program to trace and its arguments, after --')
      .passThroughOptions(),
  ).action((argv: string[], options) =>
    run(async () => {
      requireDoubleDash(rawArgs, 'pmfit count [options] -- CMD [ARGS...]');
      const { count } = await import('./commands/count');
      return count(argv, {
        function: options.function,
        scheduleSeed: options.scheduleSeed,
        json: options.json,
        maxSteps: options.maxSteps,
        timeout: options.timeout,
      });
    }),
  );

  tracingOptions(
    program
      .command('crash')
      .description('run to instruction N of the regions, then kill the program with SIGKILL')
      .usage('N [options] -- CMD [ARGS...]')
      .argument('<N>', 'crash point: instructions to run before the kill', nonNegativeInteger('N'))
      .argument('<command...>', 'program to trace and its arguments, after --'),
  ).action((n: number, argv: string[], options) =>
    run(async () => {
      requireDoubleDash(rawArgs, 'pmfit crash N [options] -- CMD [ARGS...]');
      const { crash } = await import('./commands/crash');
      return crash(n, dropDoubleDash(argv), {
        function: options.function,
        scheduleSeed: options.scheduleSeed,
        maxSteps: options.maxSteps,
        timeout: options.timeout,
      });
    }),
  );

  tracingOptions(
    program
      .command('record')
      .description('trace the regions once and write every PM store, flush and fence to a trace file')
      .usage('[--pm FILE]... -o TRACE [options] -- CMD [ARGS...]')
      .option('--pm <file>', 'a persistent-memory file (repeatable)', collect, [])
      .requiredOption('-o, --output <trace>', 'trace file to write')
      .option(
        '--accept-untraced-writes',
        'record past writes pmfit cannot follow (warnings) instead of refusing the run',
      )
      .option('--exact', EXACT_HELP)
      .option('--fast', FAST_HELP)
      .argument('<command...>', 'program to trace and its arguments, after --')
      .passThroughOptions(),
  ).action((argv: string[], options) =>
    run(async () => {
      requireDoubleDash(rawArgs, 'pmfit record [--pm FILE]... -o TRACE -- CMD [ARGS...]');
      const { record } = await import('./commands/record');
      return record(argv, {
        pm: options.pm,
        output: options.output,
        function: options.function,
        scheduleSeed: options.scheduleSeed,
        maxSteps: options.maxSteps,
        timeout: options.timeout,
        acceptUntracedWrites: options.acceptUntracedWrites === true,
        recorder: chooseRecorder(options),
      });
    }),
  );

  program
    .command('allcounts')
    .description('record each target once, check every crash state under each persistency model')
    .option('--config <file>', `config file declaring your targets (default: ${CONFIG_NAME} here, if any)`)
    .option('--target <name>', `target to run: of the config, else built-in (repeatable; default: all)`, collect, [])
    .option('--model <model>', 'persistency model: sequential, flushed, px86 (repeatable; default: all)', collect, [])
    .addOption(
      new Option('--max-states <k>', 'px86: crash states per crash point before sampling (default: 64)').argParser(
        maxStatesOption,
      ),
    )
    .addOption(
      new Option('--seed <s>', 'px86: seed of the sampled states (default: 1)').argParser(nonNegativeInteger('--seed')),
    )
    .option(
      '--merge-versions',
      'px86: merge a line\'s stores that no flush or fence separates into one choice: fewer images, but it drops some a real crash can leave, so a bug can be missed (docs/models.md, "Version merge"; default: off)',
    )
    .option('--no-merge-versions', `px86: the complete model even if ${CONFIG_NAME} sets "mergeVersions"`)
    .addOption(
      new Option('--schedule-seed <s>', 'seed of the thread schedule of a multithreaded workload')
        .argParser(nonNegativeInteger('--schedule-seed'))
        .default(0),
    )
    .addOption(
      new Option('--schedules <n>', 'check each target under n thread schedules (seeds s, s+1, ...)')
        .argParser(positiveInteger('--schedules'))
        .default(1),
    )
    .addOption(
      new Option('--jobs <j>', 'recoveries run at once (default: one per CPU)').argParser(positiveInteger('--jobs')),
    )
    .addOption(
      new Option('--timeout <seconds>', 'time limit of one recovery (default: 10)').argParser(secondsToMs('--timeout')),
    )
    .addOption(
      new Option(
        '--max-steps <n>',
        `stop a runaway region after this many instructions, or single steps of the fast recorder (default: ${DEFAULT_MAX_STEPS})`,
      ).argParser(positiveInteger('--max-steps')),
    )
    .option(
      '-o, --output <dir>',
      `directory for results.json, index.html and junit.xml (default: ${defaultReportsDir})`,
    )
    .option('--cmd <command>', 'a program of your own to trace, as one string')
    .option('--pm <file>', 'with --cmd: its persistent-memory file', collect, [])
    .option('--setup <command>', 'with --cmd: shell command that creates a fresh PM file ({file})')
    .option('--recover <command>', 'with --cmd: shell command run on each crash image ({file}); exit 0 = consistent')
    .option(
      '--recover-server <command>',
      'with --cmd, instead of --recover: a checker that stays running, reads one image path per line on stdin and answers "ok" or "fail MESSAGE" on stdout',
    )
    .option(
      '--function <name>',
      'with --cmd: trace every call of this function instead of marker regions (repeatable)',
      collect,
      [],
    )
    .option('--accept-untraced-writes', 'record past writes pmfit cannot follow (warnings) instead of refusing the run')
    .addOption(
      new Option(
        '--depth <n>',
        '1, or 2: also crash each recovery and recover again (recovery must be crash-safe)',
      ).argParser(positiveInteger('--depth')),
    )
    .addOption(
      new Option(
        '--recovery-crashes <n>',
        'depth 2 on a seeded sample of N crash images per model (implies --depth 2)',
      ).argParser(positiveInteger('--recovery-crashes')),
    )
    .option(
      '--recover-function <name>',
      'depth 2: trace every call of this function of the recovery instead of its pmfit_recovery_begin/_end markers',
    )
    .option(
      '--oracle <oracle>',
      'with --cmd: exit (the recovery exit status is the verdict) or outputs (its output must also equal its output on an uncrashed file)',
    )
    .option('--shard <i/n>', 'check shard i of n of the crash images and write pmfit-shard.json (pmfit merge)')
    .option('--exact', EXACT_HELP)
    .option('--fast', FAST_HELP)
    .option('--strict', 'a store not durable when its operation ended (durability lint) fails the run')
    .action((options) => run(async () => (await import('./commands/allcounts')).allcounts({ ...options, version })));

  program
    .command('init')
    .description(`write a starting ${CONFIG_NAME} (never replaces one)`)
    .option('--config <file>', 'the file to write', CONFIG_NAME)
    .option('--name <name>', 'with --cmd: the target name (default: the program name)')
    .option('--cmd <command>', 'your program to trace, as one string ({file}: its PM file)')
    .option('--pm <file>', 'with --cmd: its persistent-memory file')
    .option('--setup <command>', 'with --cmd: shell command that creates a fresh PM file ({file})')
    .option('--recover <command>', 'with --cmd: shell command run on each crash image ({file}); exit 0 = consistent')
    .option(
      '--function <name>',
      'with --cmd: trace every call of this function instead of marker regions (repeatable)',
      collect,
      [],
    )
    .action((options) => run(async () => (await import('./commands/init')).init(options)));

  program
    .command('merge')
    .description('combine the reports directories of allcounts --shard i/n runs into one results.json, HTML and JUnit')
    .argument('<dirs...>', "the shards' reports directories (each with pmfit-shard.json)")
    .option('-o, --output <dir>', 'directory for the merged reports', defaultReportsDir)
    .action((dirs: string[], options) =>
      run(async () => (await import('./commands/merge')).merge(dirs, { output: options.output, version })),
    );

  program
    .command('fuzz')
    .description(
      'property-based crash testing: generated operation sequences, each crashed at every point, shrunk on failure',
    )
    .argument('<target>', `fuzz target: ${fuzzTargetNames.join(', ')}`)
    .addOption(
      new Option('--runs <n>', 'generated cases').argParser(positiveInteger('--runs')).default(DEFAULT_FUZZ_RUNS),
    )
    .addOption(
      new Option('--seed <s>', 'fast-check seed (default: random, printed)').argParser(nonNegativeInteger('--seed')),
    )
    .option('--path <path>', 'fast-check counterexample path printed by a failing run (with its --seed)')
    .option('--model <model>', 'persistency model: sequential, flushed, px86', 'px86')
    .addOption(
      new Option('--ops <max>', 'longest generated operation sequence (of each thread)')
        .argParser(positiveInteger('--ops'))
        .default(DEFAULT_FUZZ_OPS),
    )
    .addOption(
      new Option(
        '--threads <max>',
        `multithreaded targets: most threads of a case (default ${DEFAULT_FUZZ_THREADS})`,
      ).argParser(positiveInteger('--threads')),
    )
    .option('--trace-all', 'trace every operation from the split point that runs in the same invocation')
    .addOption(
      new Option('--max-states <k>', 'px86: crash states per crash point before sampling')
        .argParser(maxStatesOption)
        .default(64),
    )
    .addOption(
      new Option('--jobs <j>', 'recoveries run at once (default: one per CPU)').argParser(positiveInteger('--jobs')),
    )
    .addOption(
      new Option('--timeout <seconds>', 'time limit of one setup, recovery or continuation command')
        .argParser(secondsToMs('--timeout'))
        .default(10_000, '10'),
    )
    .option('-o, --output <dir>', 'directory for the reports and the replay file', defaultReportsDir)
    .action((target: string, options) =>
      run(async () => (await import('./commands/fuzz')).fuzz(target, { ...options, version })),
    );

  program
    .command('replay')
    .description('run the failing case of a replay file written by pmfit fuzz again')
    .argument('<file>', 'replay file written by pmfit fuzz (reports/fuzz-TARGET-SEED.json)')
    .addOption(
      new Option('--jobs <j>', 'recoveries run at once (default: one per CPU)').argParser(positiveInteger('--jobs')),
    )
    .action((file: string, options) =>
      run(async () => (await import('./commands/replay')).replay(file, { jobs: options.jobs })),
    );

  program
    .command('reproduce')
    .description(
      'rebuild the crash image of one group of an allcounts run, recover and check it again (exit 1: the violation shows)',
    )
    .argument('<results>', 'results.json written by allcounts')
    .argument('<group>', 'group id, as results.json and the reports name it (basic-px86-2)')
    .option(
      '-o, --output <dir>',
      'new directory for the crash image (default: reproduce-GROUP-XXXXXX beside results.json)',
    )
    .addOption(
      new Option('--timeout <seconds>', "time limit of the recovery (default: the run's)").argParser(
        secondsToMs('--timeout'),
      ),
    )
    .option(
      '--at <k[:j]>',
      "the group's crash point k (and, for a crash during recovery, the recovery's crash point j), as the reproduce line spells them; checked against results.json",
    )
    .action((file: string, group: string, options) =>
      run(async () =>
        (await import('./commands/reproduce')).reproduce(file, group, {
          output: options.output,
          timeout: options.timeout,
          at: options.at,
        }),
      ),
    );

  program
    .command('report')
    .description('regenerate index.html and junit.xml from a results.json')
    .argument('[results]', 'results.json written by allcounts', `${defaultReportsDir}/results.json`)
    .option('-o, --output <dir>', 'directory for the reports (default: beside results.json)')
    .action((file: string, options) =>
      run(async () => (await import('./commands/report')).report(file, { output: options.output })),
    );

  program
    .command('cflags')
    .description('print compiler flags for a program that includes pmfit.h: -I<dir> -g -Wl,-z,now')
    .action(() => run(async () => (await import('./commands/cflags')).cflags()));

  program
    .command('include-dir')
    .description('print the directory that holds pmfit.h')
    .action(() => run(async () => (await import('./commands/cflags')).includeDirCommand()));

  const trace = program.command('trace').description('inspect trace files');
  trace
    .command('show')
    .description('list the events of a trace file')
    .argument('<trace>', 'trace file written by pmfit record')
    .option('--json', 'print {"instructions": N, "events": [...]} as JSON')
    .action((file: string, options) =>
      run(async () => (await import('./commands/trace-show')).traceShow(file, { json: options.json })),
    );

  withColorOption(program);
  program.hook('preAction', (_program, action) => {
    for (let command: Command | null = action; command; command = command.parent) {
      if (command.opts().color === false) disableColor();
    }
  });
  return program;
}

/** withColorOption -- `--no-color` on every command, before or after the
 *  command name (`pmfit --no-color allcounts`, `pmfit allcounts --no-color`);
 *  never after `--`, where the words are the traced program's. */
function withColorOption(command: Command): void {
  command.option('--no-color', 'no colours in the output (also NO_COLOR=1; FORCE_COLOR=1 forces them)');
  for (const sub of command.commands) withColorOption(sub);
}

function reportError(err: unknown): number {
  if (err instanceof PmfitError) {
    process.stderr.write(`pmfit: ${err.message}\n`);
    return err.exitCode;
  }
  if (err instanceof CommanderError) {
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version') return ExitCode.Ok;
    // `pmfit` or `pmfit trace` alone: the help went to stderr, as for a
    // usage error.
    if (err.code === 'commander.help') return err.exitCode === 0 ? ExitCode.Ok : ExitCode.Usage;
    process.stderr.write(`pmfit: ${err.message.replace(/^error: /, '')}\n`);
    return ExitCode.Usage;
  }
  const message = err instanceof Error ? err.message : String(err);
  if (isNoSpace(err)) {
    process.stderr.write(`pmfit: no space left on device (${message.split('\n')[0]})\n`);
    return ExitCode.Usage;
  }
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'EMFILE' || code === 'ENFILE') {
    process.stderr.write(
      `pmfit: too many open files (${message.split('\n')[0]}); lower --jobs or raise the limit (ulimit -n)\n`,
    );
    return ExitCode.Usage;
  }
  process.stderr.write(`pmfit: internal error: ${message.split('\n')[0]}\n`);
  if (process.env.PMFIT_DEBUG && err instanceof Error) process.stderr.write(`${err.stack}\n`);
  return ExitCode.Usage;
}

/** quietErrors -- commander reports through exceptions, which report() prints
 *  as one line; help and version still go to stdout, and the help shown for
 *  a command group without its command to stderr. */
function quietErrors(command: Command): void {
  command.exitOverride();
  command.configureOutput({ writeErr: (text) => process.stderr.write(text), outputError: () => undefined });
  for (const sub of command.commands) quietErrors(sub);
}

function finish(code: number): void {
  removeTempRoot();
  process.exitCode = code;
}

/** keepDescendants -- nothing pmfit starts outlives it (descendants.ts):
 *  orphans re-parented to pmfit, killed at exit. Registered before the
 *  temporary root's removal, which then runs after. */
function keepDescendants(): void {
  try {
    loadNative().becomeSubreaper();
  } catch {
    // an addon that is not built says so when a command needs it
  }
  process.on('exit', () => killDescendants(sentinelPid()));
}

export async function main(argv: string[]): Promise<void> {
  installInterruptHandlers();
  keepDescendants();
  // A reader that stops early (pmfit trace show | head) closes the pipe: end
  // quietly after the usual cleanup, with the status of a program that
  // SIGPIPE killed, instead of an unhandled 'error' event and a stack trace.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
    exitNow(128 + os.constants.signals.SIGPIPE);
  });
  // Nobody reads a closed stderr: its write errors must not turn the exit
  // status into 1 (an unhandled 'error' event).
  process.stderr.on('error', () => undefined);
  // Every path pmfit resolves is relative to the working directory.
  try {
    process.cwd();
  } catch {
    process.stderr.write(
      'pmfit: the current directory no longer exists (it was deleted); cd to an existing directory\n',
    );
    process.exitCode = ExitCode.Usage;
    return;
  }
  let pending: Promise<number> | undefined;
  const program = buildProgram((action) => {
    pending = action();
  }, argv.slice(2));
  quietErrors(program);
  try {
    await program.parseAsync(argv);
    finish(pending ? await pending : ExitCode.Ok);
  } catch (err) {
    finish(reportError(err));
  }
}

if (require.main === module) {
  void main(process.argv);
}
