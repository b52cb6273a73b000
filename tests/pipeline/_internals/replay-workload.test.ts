// replay-workload -- a multithreaded program's fast trace met again at its
// crash points: docs/examples/twolog (two threads, plain mmap, a 12 MiB
// file), recorded with the default (fast) recorder. Each replay stops at
// every crash point before a PM event, crash point 0 included (the first
// region's first instruction is a store: the main thread then waits in
// pthread_join at index 0, which a schedule held back at the crash point
// left resumed alone until the timeout), and each stop is at the
// instruction the trace has next, in its thread. Through the CLI, every
// finding site and every violation group's interrupted instruction of
// twolog-bug has its call stack.

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { runSetup } from '../../../harness/check/run-setup';
import type { TargetSpec } from '../../../harness/check/spec';
import { replayStops } from '../../../harness/pipeline/_internals/replay-workload';
import { recordWorkload } from '../../../harness/pipeline/record-workload';
import type { Results } from '../../../harness/results/schema';
import { TraceReader } from '../../../harness/trace/format';
import { buildExample } from '../../helpers/build-example';
import { requireDebianPackage } from '../../helpers/debian-package';
import { runPmfit } from '../../helpers/run-pmfit';

const LIBDW = '/usr/lib/x86_64-linux-gnu/libdw.so.1';
const TIMEOUT_MS = 60_000;
let dir: string;
let twolog: string;

beforeAll(() => {
  requireDebianPackage('libdw1', LIBDW);
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pmfit-replay-threads-'));
  twolog = buildExample(dir, 'twolog', ['-pthread']);
}, 15 * 60_000);

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function bugSpec(scheduleSeed: number): TargetSpec {
  const program = path.join(twolog, 'twolog');
  return {
    name: 'twolog-bug',
    description: 'two threads, the commit durable before the payload',
    expect: 'violations',
    pmFiles: ['twolog.pm'],
    setup: [{ argv: [program, 'create', '{file}'] }],
    workload: { argv: [program, 'append', '{file}', '3', '--bug'] },
    states: [],
    recover: [],
    scheduleSeed,
  };
}

describe.each([0, 1, 2])('twolog --bug, schedule seed %i, fast trace', (seed) => {
  test('the replay stops before each PM event at the instruction and thread the trace has', async () => {
    const spec = bugSpec(seed);
    const work = path.join(dir, `record-${seed}`);
    fs.mkdirSync(work);
    expect((await runSetup(spec, work, TIMEOUT_MS)).kind).toBe('ok');
    expect(fs.statSync(path.join(work, 'twolog.pm')).size).toBe(12 << 20);
    const tracePath = path.join(dir, `twolog-${seed}.trace`);
    const header = await recordWorkload(spec, work, { output: tracePath, fast: true, timeoutMs: TIMEOUT_MS });
    expect(header.recorder).toBe('fast');
    expect(new Set(header.regions.map((region) => region.thread ?? 0))).toEqual(new Set([1, 2]));
    // index of the instruction -> its address and thread, as recorded
    const next = new Map<number, { address: number; thread: number }>();
    const reader = TraceReader.open(tracePath);
    try {
      for (const event of reader.events()) next.set(event.index, { address: event.address, thread: event.thread ?? 0 });
    } finally {
      reader.close();
    }
    const points = [...next.keys()].map((index) => index - 1);
    // the case that timed out: a store is the first region's first instruction
    expect(points).toContain(0);

    const stops = new Map<number, { address: number; thread: number }>();
    const outcome = await replayStops(spec, header, 'test', TIMEOUT_MS, points, (end) => {
      stops.set(end.index, { address: end.address, thread: end.thread });
      // a crash point at a region's end: the next instruction is one stop further
      return end.address === next.get(end.index + 1)?.address ? 'next' : 'again';
    });
    expect(outcome).toEqual({ kind: 'replayed' });
    expect(new Map([...stops].map(([k, stop]) => [k + 1, stop]))).toEqual(next);
  }, 120_000);
});

test('pmfit allcounts, default recorder: every finding site and interrupted instruction has its stack', () => {
  const run = runPmfit(['allcounts', '--target', 'twolog-bug', '--model', 'flushed', '--schedules', '2'], {
    cwd: twolog,
    timeoutMs: 300_000,
  });
  // no "call stacks not unwound" line
  expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: '' });
  const results = JSON.parse(fs.readFileSync(path.join(twolog, 'pmfit-report', 'results.json'), 'utf8')) as Results;
  expect(results.targets.map((target) => [target.recorder, target.stacks?.kind])).toEqual([
    ['fast', 'unwound'],
    ['fast', 'unwound'],
  ]);
  for (const target of results.targets) {
    const stacks = target.stacks as { sites: number; unwound: number };
    expect(stacks.sites).toBeGreaterThan(0);
    expect(stacks.unwound).toBe(stacks.sites);
  }
  const sites = results.runs.flatMap((r) => (r.findings ?? []).flatMap((finding) => finding.sites));
  expect(sites.length).toBeGreaterThan(0);
  // the first region's first instruction (crash point 0) among them
  expect(sites.some((site) => site.index === 1)).toBe(true);
  for (const site of sites) {
    expect(site.stack?.[0]).toMatchObject({ address: site.address, file: site.file, line: site.line });
    expect(path.basename(site.file ?? '')).toBe('twolog.c');
  }
  const groups = results.runs.flatMap((r) => r.groups.filter((group) => group.violation));
  expect(groups.length).toBeGreaterThan(0);
  for (const group of groups) {
    const interrupted = group.example.next!;
    expect(interrupted.stack?.[0].address).toBe(interrupted.address);
    expect(path.basename(interrupted.file ?? '')).toBe('twolog.c');
  }
}, 600_000);
