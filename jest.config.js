// jest.config -- two tiers, both run by `npm test`:
//
// unit    pure TypeScript and short shell commands: no ptrace, no compiled
//         programs, no pmfit process. `npm run test:unit`, seconds on an idle
//         machine. Transpiled without type checking for speed; `npm test`
//         type-checks them with tsc (tsconfig.check.json).
// system  everything else: the tracer, the CLI, the C targets and fixtures,
//         the browser. `npm run test:system`. Its global setup builds the
//         C programs first (npm run build:programs; npm's install step
//         builds only the tracer addon).
//
// A new test file is a system test unless it is listed in UNIT.

/** Unit-tier tests: directories (ending in /) or files, relative to the root. */
const UNIT = [
  'tests/_internals/',
  'tests/bench/mutants/',
  'tests/image/',
  'tests/persistency/',
  'tests/results/',
  'tests/check/allowed-states.test.ts',
  'tests/check/dedup.test.ts',
  'tests/check/models.test.ts',
  'tests/check/outcome-groups.test.ts',
  'tests/check/recover-server.test.ts',
  'tests/check/spec-command.test.ts',
  'tests/check/worker-pool.test.ts',
  'tests/cli/allcounts-plan.test.ts',
  'tests/cli/commands/init.test.ts',
  'tests/cli/config-file.test.ts',
  'tests/cli/main.test.ts',
  'tests/elf/eh-frame.test.ts',
  'tests/elf/proc-maps.test.ts',
  'tests/fuzz/case-plan.test.ts',
  'tests/fuzz/continuation.test.ts',
  'tests/fuzz/models.test.ts',
  'tests/fuzz/replay-file.test.ts',
  'tests/fuzz/threads-case.test.ts',
  'tests/record/_internals/',
  'tests/record/decode.test.ts',
  'tests/record/trace-image.test.ts',
  'tests/pipeline/keep-trace.test.ts',
  'tests/pipeline/shard-plan.test.ts',
  'tests/pipeline/trace-digest.test.ts',
  'tests/pipeline/image-causes.test.ts',
  'tests/pipeline/_internals/prefix-tracker.test.ts',
  'tests/pipeline/lint-allowed.test.ts',
  'tests/report/abbreviate-ranges.test.ts',
  'tests/report/console-report.test.ts',
  'tests/report/github-annotations.test.ts',
  'tests/report/finding-advice.test.ts',
  'tests/report/html.test.ts',
  'tests/report/interrupted-stack.test.ts',
  'tests/report/junit.test.ts',
  'tests/report/large.test.ts',
  'tests/report/stack-text.test.ts',
  'tests/report/threads.test.ts',
  'tests/report/write-reports.test.ts',
  'tests/targets/tree/mt-spec.test.ts',
  'tests/trace/format.test.ts',
];

const escape = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const unitRegex = UNIT.map((entry) => `/${escape(entry)}${entry.endsWith('/') ? '.*\\.test\\.ts$' : '$'}`);

const common = {
  testEnvironment: 'node',
  roots: ['<rootDir>/tests'],
};

/** @type {import('jest').Config} */
module.exports = {
  testTimeout: 120000,
  // The tracer pins itself and its tracee to one CPU; two workers use both cores.
  maxWorkers: 2,
  projects: [
    {
      ...common,
      displayName: 'unit',
      testRegex: unitRegex,
      transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.jest-unit.json' }] },
    },
    {
      ...common,
      displayName: 'system',
      preset: 'ts-jest',
      globalSetup: '<rootDir>/tests/helpers/build-programs.ts',
      testMatch: ['**/*.test.ts'],
      testPathIgnorePatterns: ['/node_modules/', ...unitRegex],
    },
  ],
};
