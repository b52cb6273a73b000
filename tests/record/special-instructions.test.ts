// special-instructions -- `pmfit record` of instructions whose written bytes
// are not simply their memory operand (tests/fixtures/record/record_special.c):
// bt{s,r,c} with a register bit offset, stores under an opmask or a vector
// mask, maskmovdqu, compress stores, scatters, the xsave family (also the
// dynamic loader's own, on a stack in PM) and code rewritten after it was
// decoded. Each runs on a 12 MiB PM file, where no shadow copy of the file
// stands behind the trace: the events are checked one by one where the
// instruction fixes them, and the trace's image is compared with the file a
// real `pmfit crash k` leaves at several k and at the end.

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { EventKind, eventKindNames, TraceEvent } from '../../harness/trace/event';
import { AddressInfo, TraceReader } from '../../harness/trace/format';
import { fixture } from '../fixtures';
import { runPmfit } from '../helpers/run-pmfit';
import { sequentialImage } from '../helpers/sequential-image';

const PM = 'pm.bin';
const PM_SIZE = 12 << 20;
/** Crash points compared per mode besides 0 and the end. */
const CRASH_POINTS = 8;

interface Recorded {
  instructions: number;
  image: Buffer;
  events: TraceEvent[];
  addresses: Record<string, AddressInfo>;
}

let scratch: string;
let seed: string;

beforeAll(() => {
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'pmfit-special-'));
  // Not zeros: a bit cleared by btr, or a masked store over unwritten
  // bytes, must show.
  const image = Buffer.alloc(PM_SIZE);
  for (let i = 0; i < PM_SIZE; i++) image[i] = (i * 131 + (i >>> 12) * 7 + 0x5b) & 0xff;
  seed = path.join(scratch, 'seed.bin');
  fs.writeFileSync(seed, image);
});

afterAll(() => {
  fs.rmSync(scratch, { recursive: true, force: true });
});

/** runDir -- a fresh directory (names of one length, so that argv and the
 *  stack layout are the same in every run) with a copy of the seed file. */
function runDir(): string {
  const dir = fs.mkdtempSync(path.join(scratch, 'run-'));
  fs.copyFileSync(seed, path.join(dir, PM));
  return dir;
}

function record(mode: string): Recorded {
  const dir = runDir();
  const file = path.join(dir, PM);
  const trace = path.join(dir, 'run.trace');
  const result = runPmfit([
    'record',
    '--exact',
    '--pm',
    file,
    '-o',
    trace,
    '--',
    fixture('record_special'),
    mode,
    file,
  ]);
  if (result.code !== 0) throw new Error(`record ${mode} failed (${result.code}): ${result.stderr}`);
  expect(result.stderr).not.toContain('warning');
  const reader = TraceReader.open(trace);
  try {
    const image = reader.images()[0].subarray(0, PM_SIZE);
    return {
      instructions: reader.header.instructions,
      image: Buffer.from(image),
      events: [...reader.events()],
      addresses: reader.header.addresses,
    };
  } finally {
    reader.close();
  }
}

/** show -- "index kind offset length" with the offset in hex, as the
 *  fixture's comments list them. */
const show = (event: TraceEvent): string =>
  event.kind === EventKind.Fence
    ? `${event.index} fence`
    : `${event.index} ${eventKindNames[event.kind]} ${event.offset.toString(16)} ${event.length.toString(16)}`;

function crashImage(mode: string, k: number): Buffer {
  const dir = runDir();
  const file = path.join(dir, PM);
  const result = runPmfit(['crash', String(k), '--', fixture('record_special'), mode, file]);
  if (result.code !== 0) throw new Error(`crash ${k} of ${mode} failed (${result.code}): ${result.stderr}`);
  expect(result.stdout).toContain(`Program terminated after ${k} instructions`);
  const after = fs.readFileSync(file);
  fs.rmSync(dir, { recursive: true, force: true });
  return after;
}

/** crashPoints -- 0, the end, and up to CRASH_POINTS instruction indices on
 *  either side of data events, spread over the run. */
function crashPoints(recorded: Recorded): number[] {
  const edges = [
    ...new Set(recorded.events.filter((event) => event.data).flatMap((event) => [event.index - 1, event.index])),
  ];
  const step = Math.max(1, Math.ceil(edges.length / CRASH_POINTS));
  const picked = edges.filter((_, i) => i % step === 0 || i === edges.length - 1);
  return [...new Set([0, ...picked, recorded.instructions])].sort((a, b) => a - b);
}

/** expectCrashesAgree -- at every chosen k the file a real kill leaves is
 *  the trace's image, byte for byte. */
function expectCrashesAgree(mode: string, recorded: Recorded): void {
  // The run changes the file, so the comparisons can fail.
  expect(sequentialImage(recorded.image, recorded.events, recorded.instructions).equals(recorded.image)).toBe(false);
  for (const k of crashPoints(recorded)) {
    const expected = sequentialImage(recorded.image, recorded.events, k);
    const actual = crashImage(mode, k);
    const at = actual.findIndex((byte, i) => byte !== expected[i]);
    if (at >= 0) {
      throw new Error(
        `${mode}: crash point ${k} of ${recorded.instructions}: the file differs from the trace image at offset 0x${at.toString(16)} (${actual.subarray(at, at + 8).toString('hex')} vs ${expected.subarray(at, at + 8).toString('hex')})`,
      );
    }
  }
}

describe('pmfit record on a 12 MiB PM file: exact events, and images a real kill agrees with', () => {
  it.each([
    [
      'bt',
      15,
      [
        '2 store 900000 8',
        '4 store 500008 4',
        '7 store 6ffffc 2',
        '9 store 7ffffc 4',
        '11 store a00000 8',
        '11 fence',
        '14 store a00050 8',
      ],
    ],
    [
      'opmask',
      19,
      [
        '4 store 900060 4',
        '4 store 900068 8',
        '7 store 901000 2',
        '7 store 901006 2',
        '10 store 902004 8',
        '13 store 903000 8',
        '13 store 903038 8',
        '14 store 903104 8',
        '17 store 903300 1',
        '17 store 903307 1',
      ],
    ],
    [
      'vecmask',
      8,
      [
        '3 store 904000 4',
        '3 store 90400c 4',
        '3 store 904014 4',
        '3 store 90401c 4',
        '4 store 904108 8',
        '5 store 904208 18',
        '6 store 904300 4',
        '6 store 90430c 4',
      ],
    ],
    [
      'maskmov',
      15,
      [
        '4 ntstore 905008 3',
        '4 ntstore 905011 1',
        '4 ntstore 905017 1',
        '5 fence',
        '7 ntstore 905038 3',
        '7 ntstore 905041 1',
        '7 ntstore 905047 1',
        '8 fence',
        '12 ntstore 905100 3',
        '14 fence',
      ],
    ],
    ['compress', 13, ['4 store 906010 10', '7 store 906038 10', '10 store 906200 4', '11 store 906300 20']],
  ])('%s: the bytes written, and nothing else', (mode, instructions, events) => {
    const recorded = record(mode);
    expect(recorded.instructions).toBe(instructions);
    expect(recorded.events.map(show)).toEqual(events);
    expectCrashesAgree(mode, recorded);
  });

  it('scatter: each selected element once, in element order, at the instruction that wrote it', () => {
    // A scatter that page-faults part way is reported as a step with rip
    // unchanged and finishes in the next ones; the tracer runs it to its
    // end as one instruction (native/scatter.h), in recording and in
    // `pmfit crash` alike, whichever pages fault: 15 instructions.
    const recorded = record('scatter');
    expect(recorded.instructions).toBe(15);
    const extra = 0;
    expect(recorded.events.map((event) => show({ ...event, index: 0 }).slice(2))).toEqual([
      'store 900040 4',
      'store 902040 4',
      'store 904040 4',
      'store 906040 4',
      'store 908040 4',
      'store 900040 4',
      'store a80000 8',
      'store afffc0 8',
      'store b00000 8',
      'store b00008 8',
      'store b40000 8',
      'store b80000 8',
      'store a00000 8',
      'store bc0000 8',
    ]);
    const indices = recorded.events.map((event) => event.index);
    expect(indices).toEqual([...indices].sort((a, b) => a - b));
    expect(indices[0]).toBeGreaterThanOrEqual(5);
    expect(indices[indices.length - 1]).toBeLessThanOrEqual(11 + extra);
    expectCrashesAgree('scatter', recorded);
  });

  it('xsave, xsaveopt, xsavec, fxsave, fnstenv, fnsave: their areas as CPUID and the feature mask lay them out', () => {
    const recorded = record('xsave');
    // CPU-independent layouts: x87 + SSE only (eax = 3) is the legacy
    // region up to xmm15 and XSTATE_BV; fxsave leaves bytes 464..511 alone.
    const fixed = ['990000', '99c000', '9a0000', '9a4000', '9a8000'].map((at) => parseInt(at, 16));
    const inSlot = (event: TraceEvent, slot: number): boolean =>
      event.offset >= slot && event.offset + event.length <= slot + 0x4000;
    expect(recorded.events.filter((event) => fixed.some((slot) => inSlot(event, slot))).map(show)).toEqual([
      '36 store 990000 1a0',
      '36 store 990200 8',
      '41 store 99c000 1d0',
      '42 store 9a0000 1d0',
      '43 store 9a4000 1c',
      '44 store 9a8000 6c',
    ]);
    // The others depend on the CPU; each stays within its 16 KiB slot and
    // includes its header's XSTATE_BV.
    const slots = ['980000', '984000', '988000', '98c000', '994000', '998000'].map((at) => parseInt(at, 16));
    for (const slot of slots) {
      const mine = recorded.events.filter((event) => inSlot(event, slot));
      expect(mine.length).toBeGreaterThan(0);
      expect(mine.some((event) => event.offset <= slot + 512 && event.offset + event.length >= slot + 520)).toBe(true);
    }
    expect(
      recorded.events.every(
        (event) => event.kind === EventKind.Store && [...fixed, ...slots].some((slot) => inSlot(event, slot)),
      ),
    ).toBe(true);
    expectCrashesAgree('xsave', recorded);
  });

  it("the dynamic loader's xsavec, when a lazily bound call runs on a stack in PM", () => {
    const recorded = record('lazy');
    const texts = recorded.events.map((event) => recorded.addresses[`0x${event.address.toString(16)}`]?.text ?? '');
    expect(texts.some((text) => /^xsave/.test(text))).toBe(true);
    // strtol("4711") stored after the call
    const result = recorded.events.filter((event) => event.offset === 0xbf0100);
    expect(result.map((event) => Buffer.from(event.data ?? []).readBigInt64LE())).toEqual([4711n]);
    expectCrashesAgree('lazy', recorded);
  });

  it('code rewritten after it was decoded: by stores in the region, between regions, by a read()', () => {
    const recorded = record('smc');
    const stores = recorded.events.filter((event) => event.kind === EventKind.Store);
    expect(stores.map((event) => `${eventKindNames[event.kind]} ${event.offset.toString(16)} ${event.length}`)).toEqual(
      ['store 100000 4', 'store 200000 2', 'store 300000 4', 'store 400000 4'],
    );
    expect(stores.map((event) => Buffer.from(event.data ?? []).toString('hex'))).toEqual([
      '44332211',
      '6655',
      'aa998877',
      'eeddccbb',
    ]);
    expect(recorded.events.length).toBe(stores.length);
    expectCrashesAgree('smc', recorded);
  });
});

describe('pmfit record: writes it cannot follow', () => {
  it('refuses the run with a one-line error naming the instruction (clzero)', () => {
    const dir = runDir();
    const file = path.join(dir, PM);
    const result = runPmfit([
      'record',
      '--pm',
      file,
      '-o',
      path.join(dir, 'run.trace'),
      '--',
      fixture('record_special'),
      'clzero',
      file,
    ]);
    expect(result.code).toBe(2);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(/clzero/);
    expect(result.stderr).toMatch(/region_clzero/);
    expect(fs.existsSync(path.join(dir, 'run.trace'))).toBe(false);
  });
});
