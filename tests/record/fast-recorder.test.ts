// fast-recorder -- the fast recorder (`--fast`: regions at full speed, PM
// pages protected, single steps only around PM accesses) against the exact
// one, on every built-in target, the recording battery's fixtures and the
// test programs: the same PM events apart from fences that order nothing and
// flushes of lines with nothing to flush,
// and for every model the same distinct crash images at the same place
// (which regions had completed), so the same verdicts.
//
// Programs that store run-dependent bytes in PM (libpmemobj copies stack
// bytes holding the stack protector's random canary into its redo logs) are
// recorded exactly twice: the bytes the two exact runs disagree on are
// masked in all three traces before they are compared; the structure of the
// events (kind, file, offset, length) must agree exactly.

import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { tempDir } from '../../harness/_internals/temp-root';
import { runCommands } from '../../harness/check/run-commands';
import type { TargetSpec } from '../../harness/check/spec';
import { crashStates, ModelName, modelNames } from '../../harness/persistency/model';
import { recordWorkload } from '../../harness/pipeline/record-workload';
import { DecodeMemo } from '../../harness/record/_internals/decode-memo';
import { recordTrace } from '../../harness/record/record';
import { EventKind, LINE, TraceEvent } from '../../harness/trace/event';
import { TraceHeader, TraceReader } from '../../harness/trace/format';
import { resolveCommand } from '../../harness/tracer/resolve-command';
import { builtInSpecs } from '../../targets/specs';
import { fixture } from '../fixtures';
import { useTempCacheDir } from '../helpers/temp-cache-dir';

interface Recording {
  header: TraceHeader;
  images: Uint8Array[];
  events: TraceEvent[];
}

type Outcome = { kind: 'trace'; recording: Recording } | { kind: 'refused'; message: string };

type Recorder = (fast: boolean, trace: string) => Promise<TraceHeader>;

let scratch: string;

beforeAll(() => {
  scratch = tempDir('fast-recorder-test');
});

afterAll(() => {
  fs.rmSync(scratch, { recursive: true, force: true });
});

async function outcome(record: Recorder, fast: boolean): Promise<Outcome> {
  const trace = path.join(fs.mkdtempSync(path.join(scratch, 't-')), 'run.trace');
  try {
    await record(fast, trace);
  } catch (err) {
    return { kind: 'refused', message: (err as Error).message };
  }
  const reader = TraceReader.open(trace);
  const images = reader.images().map((image) => Uint8Array.from(image.subarray(0, image.length)));
  return { kind: 'trace', recording: { header: reader.header, images, events: [...reader.events()] } };
}

const FLUSHES = new Set([EventKind.Clflush, EventKind.Clflushopt, EventKind.Clwb]);

/** compared -- per event, whether both traces must hold it: every event but
 *  the fences, which the fast recorder keeps only where they order something,
 *  and the flushes of a line with nothing to flush for the flushing thread,
 *  which change no state under any model and which the fast recorder does
 *  not see on a page it leaves readable (native/dirty_lines.h: nothing
 *  stored since the line's last flush; no non-temporal store since then and
 *  its thread's last fence; no clflushopt or clwb of another thread since
 *  then, that thread not fenced since). */
function compared(r: Recording): boolean[] {
  const stored = new Set<string>();
  // per thread: its non-temporal stores and its clflushopt/clwb lines, which
  // only its own fence settles
  const nt = new Map<number, Set<string>>();
  const marked = new Map<number, Set<string>>();
  const own = (lines: Map<number, Set<string>>, thread: number): Set<string> => {
    if (!lines.has(thread)) lines.set(thread, new Set());
    return lines.get(thread) as Set<string>;
  };
  return r.events.map((e) => {
    const line = (offset: number) => `${e.fileId}:${offset - (offset % LINE)}`;
    const thread = e.thread ?? 0;
    if (e.kind === EventKind.Fence) {
      nt.delete(thread);
      marked.delete(thread);
      return false;
    }
    if (e.kind === EventKind.Store || e.kind === EventKind.NtStore) {
      const into = e.kind === EventKind.NtStore ? own(nt, thread) : stored;
      for (let at = e.offset - (e.offset % LINE); at < e.offset + e.length; at += LINE) into.add(line(at));
    }
    if (!FLUSHES.has(e.kind)) return true;
    const flushed = line(e.offset);
    // the line written back holds every thread's stores; another thread's
    // mark is not guaranteed yet
    const unflushed = [stored, ...nt.values()].filter((lines) => lines.delete(flushed));
    const othersMarked = [...marked].filter(([by, lines]) => lines.delete(flushed) && by !== thread);
    if (e.kind !== EventKind.Clflush) own(marked, thread).add(flushed);
    return unflushed.length > 0 || othersMarked.length > 0;
  });
}

const dataEvents = (r: Recording): TraceEvent[] => {
  const keep = compared(r);
  return r.events.filter((_, i) => keep[i]);
};

function shape(e: TraceEvent): string {
  return `${e.kind} file ${e.fileId} offset ${e.offset} length ${e.length}`;
}

/** unstable -- per data event, the byte positions two exact runs disagree on. */
function unstable(a: Recording, b: Recording): Map<number, number[]> {
  const ea = dataEvents(a);
  const eb = dataEvents(b);
  expect(eb.map(shape)).toEqual(ea.map(shape));
  const out = new Map<number, number[]>();
  ea.forEach((e, i) => {
    if (!e.data) return;
    const other = eb[i].data as Uint8Array;
    const at: number[] = [];
    for (let j = 0; j < e.data.length; j++) if (e.data[j] !== other[j]) at.push(j);
    if (at.length > 0) out.set(i, at);
  });
  return out;
}

/** differences -- the byte positions where two images differ. */
function differences(x: Uint8Array, y: Uint8Array): number[] {
  const at: number[] = [];
  if (Buffer.from(x).equals(Buffer.from(y))) return at;
  for (let j = 0; j < x.length; j++) if (x[j] !== y[j]) at.push(j);
  return at;
}

/** masked -- the recording with the unstable bytes of its initial images
 *  and data events zeroed. */
function masked(r: Recording, mask: Map<number, number[]>, imageMask: number[][]): Recording {
  const images = r.images.map((image, i) => {
    if (imageMask[i].length === 0) return image;
    const copy = Uint8Array.from(image);
    for (const j of imageMask[i]) copy[j] = 0;
    return copy;
  });
  let i = 0;
  const keep = compared(r);
  const events = r.events.map((e, k) => {
    if (!keep[k]) return e;
    const at = mask.get(i++);
    if (!at || !e.data) return e;
    const data = Uint8Array.from(e.data);
    for (const j of at) data[j] = 0;
    return { ...e, data };
  });
  return { ...r, images, events };
}

/** words -- a message or warning apart from run directories and instruction
 *  numbers, which differ between runs and recorders */
function words(text: string): string {
  return text.replace(/\/[^/ ]+-[A-Za-z0-9]{6}\//g, '/RUN/').replace(/instruction \d+/g, 'instruction N');
}

/** placeOf -- where crash point k is: regions completed, and whether it is
 *  inside one (the reference states a verdict is judged against). */
function placeOf(header: TraceHeader, k: number): string {
  const done = header.regions.filter((r) => r.end <= k).length;
  const inside = header.regions.some((r) => r.begin < k && k < r.end);
  return `${done}${inside ? '+' : ''}`;
}

/** images -- the distinct crash images of one model, each with the places
 *  of the crash points that can leave it. */
function images(r: Recording, model: ModelName): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  const trace = { images: r.images, events: r.events, instructions: r.header.instructions };
  const edges = r.header.regions.flatMap((x) => [x.begin, x.begin + 1, x.end - 1, x.end]);
  for (const group of crashStates(model, trace)) {
    const points = [group.first, group.last, ...edges.filter((e) => e > group.first && e < group.last)];
    const places = new Set(points.map((k) => placeOf(r.header, k)));
    for (const state of group.states) {
      const seen = out.get(state.hash) ?? new Set<string>();
      places.forEach((p) => seen.add(p));
      out.set(state.hash, seen);
    }
  }
  return out;
}

/**
 * expectSameChecks -- the same images, judged against the same reference
 * states. The fast trace has fewer crash points inside a region (none
 * where no PM access is), so an image the exact trace also shows inside a
 * region ("c+": states c or c+1 allowed) may show only at the region's
 * edge there ("c" or "c+1": one state allowed), a stricter check that the
 * exact trace makes too. So: the fast places of an image are exact places,
 * and each exact place is a fast place or lies inside a region at whose
 * edge the fast trace shows the image.
 */
function expectSameChecks(fast: Map<string, Set<string>>, exact: Map<string, Set<string>>): void {
  expect([...fast.keys()].sort()).toEqual([...exact.keys()].sort());
  for (const [hash, places] of exact) {
    const shown = fast.get(hash) as Set<string>;
    for (const p of shown) expect({ hash, place: p, exact: places.has(p) }).toEqual({ hash, place: p, exact: true });
    for (const p of places) {
      const done = parseInt(p, 10);
      const covered = shown.has(p) || (p.endsWith('+') && (shown.has(`${done}`) || shown.has(`${done + 1}`)));
      expect({ hash, place: p, covered }).toEqual({ hash, place: p, covered: true });
    }
  }
}

/** expectSame -- frameBytes: bytes that differ between the two recorders
 *  as the program wrote them, masked like run-dependent bytes (each trace
 *  still matches its own run's file, which the cross-check makes sure of):
 *  a signal frame on a stack in PM holds the thread's last trap number and
 *  fault address and the x87 state, where the fast recorder's own faults
 *  show. */
async function expectSame(record: Recorder, frameBytes = false): Promise<TraceHeader | undefined> {
  const exact = await outcome(record, false);
  const fast = await outcome(record, true);
  if (exact.kind === 'refused') {
    // the same refusal, in the same words
    expect(fast.kind).toBe('refused');
    if (fast.kind === 'refused') expect(words(fast.message)).toBe(words(exact.message));
    return;
  }
  expect(fast.kind).toBe('trace');
  if (fast.kind !== 'trace') return;
  let a = exact.recording;
  let f = fast.recording;
  const header = f.header;
  expect(f.header.recorder).toBe('fast');
  expect(f.header.regions.length).toBe(a.header.regions.length);
  expect(f.header.exitCode).toBe(a.header.exitCode);
  expect(f.header.warnings.map(words)).toEqual(a.header.warnings.map(words));
  expect(f.images.length).toBe(a.images.length);
  expect(dataEvents(f).map(shape)).toEqual(dataEvents(a).map(shape));
  // (large images: compared as buffers, not element by element)
  const sameBytes = (x: Recording, y: Recording) =>
    x.images.every((image, i) => Buffer.from(image).equals(Buffer.from(y.images[i]))) &&
    dataEvents(x).every((e, i) => Buffer.from(e.data ?? []).equals(Buffer.from(dataEvents(y)[i].data ?? [])));
  if (!sameBytes(f, a)) {
    const again = await outcome(record, false);
    expect(again.kind).toBe('trace');
    if (again.kind !== 'trace') return undefined;
    const mask = unstable(a, again.recording);
    if (frameBytes) unstable(a, f).forEach((at, i) => mask.set(i, [...(mask.get(i) ?? []), ...at]));
    const imageMask = a.images.map((image, i) => differences(image, again.recording.images[i]));
    a = masked(a, mask, imageMask);
    f = masked(f, mask, imageMask);
    expect(sameBytes(f, a)).toBe(true);
  }
  // Every event of the fast trace names an instruction the exact trace names
  // (changes between regions name none).
  for (const e of f.events.filter((x) => x.address !== 0))
    expect(a.header.addresses[`0x${e.address.toString(16)}`]).toBeDefined();
  for (const model of modelNames) expectSameChecks(images(f, model), images(a, model));
  return header;
}

/** program -- a recorder for PROGRAM ARGS... on a fresh copy of a PM file
 *  (onFile: told its path). */
function program(
  name: string,
  args: (pm: string) => string[],
  pmSize: number,
  onFile?: (pm: string, fast: boolean) => void,
): Recorder {
  return async (fast, trace) => {
    const dir = fs.mkdtempSync(path.join(scratch, 'run-'));
    const pm = path.join(dir, 'pm.bin');
    fs.writeFileSync(pm, Buffer.alloc(pmSize));
    onFile?.(pm, fast);
    return recordTrace({
      command: resolveCommand([fixture(name), ...args(pm)]),
      pmFiles: [pm],
      output: trace,
      cwd: dir,
      stdoutFd: fs.openSync('/dev/null', 'w'),
      stderrFd: fs.openSync('/dev/null', 'w'),
      fast,
    });
  };
}

/** target -- a recorder for a built-in target's workload: the setup runs
 *  once (libpmemobj's pool has a random UUID), each run gets a copy. */
function target(spec: TargetSpec): Recorder {
  let seed: string | undefined;
  return async (fast, trace) => {
    if (!seed) {
      seed = fs.mkdtempSync(path.join(scratch, `${spec.name}-seed-`));
      const setup = await runCommands(spec.setup, seed, { timeoutMs: 60_000, env: spec.env, files: spec.pmFiles });
      if (setup.kind !== 'ok') throw new Error(`setup of ${spec.name} failed`);
    }
    const work = fs.mkdtempSync(path.join(scratch, `${spec.name}-run--`));
    for (const file of spec.pmFiles) fs.copyFileSync(path.join(seed, file), path.join(work, file));
    return recordWorkload(spec, work, { output: trace, fast });
  };
}

describe('fast and exact recording agree', () => {
  test.each(builtInSpecs().map((spec) => [spec.name, spec] as const))('built-in target %s', async (_name, spec) => {
    await expectSame(target(spec));
  });

  // Flush traps (docs/recording.md, "The fast recorder"): txmap's code is
  // compiled C whose every flush is proven, so the fast recorder stops at
  // each one, also at a flush of a line nothing stored since its last flush
  // on a page it leaves readable, which no fault could show. (The
  // record_insn regions below are assembly without CFI: their flushes are
  // unproven, and the fast recorder makes the pages of unflushed lines
  // inaccessible instead.)
  test('txmap: flush traps show every flush the exact recorder sees', async () => {
    const spec = builtInSpecs().find((s) => s.name === 'txmap') as TargetSpec;
    const record = target(spec);
    const exact = await outcome(record, false);
    const fast = await outcome(record, true);
    if (exact.kind !== 'trace' || fast.kind !== 'trace') throw new Error('txmap was not recorded');
    const flushes = (r: Recording) => r.events.filter((e) => FLUSHES.has(e.kind)).map(shape);
    const all = flushes(exact.recording);
    expect(flushes(fast.recording)).toEqual(all);
    // some of them flush clean lines: the filter of the other tests would drop them
    expect(dataEvents(exact.recording).filter((e) => FLUSHES.has(e.kind)).length).toBeLessThan(all.length);
  });

  const insnModes = ['mov', 'avx2', 'movnti', 'clflush', 'clwb', 'clflushopt', 'mfence', 'sfence', 'lock', 'xchg'];
  const insnMore = ['rep', 'movsb', 'movntdq', 'pwrite', 'write', 'msync', 'read', 'private', 'mix', 'mmap'];
  // novdso: no syscall site for the injected calls, which patch the code
  test.each([...insnModes, ...insnMore, 'outside', 'libc', 'fit', 'novdso'])('record_insn %s', async (mode) => {
    const header = await expectSame(program('record_insn', (pm) => [mode, pm], 4096));
    // its flushes are top-level asm without CFI: unproven, and the trace says so
    if (header) expect(header.flushTrapsOff).toMatch(/record_insn/);
  });

  const specialModes = ['repdown', 'bt', 'maskmov', 'smc', 'vecmask', 'compress', 'lazy', 'clzero'];
  test.each(specialModes)('record_special %s on 12 MiB', async (mode) => {
    await expectSame(program('record_special', (pm) => [mode, pm], 12 << 20));
  });

  // A scatter that page-faults part way finishes in later steps, one event
  // per step; how many steps depends on which of its pages are resident, in
  // either recorder (mprotect makes the fast recorder's pages fault again).
  // So its crash images between the elements differ from run to run; the
  // events write the same bytes, and the end image is the same.
  test('record_special scatter on 12 MiB: the same writes', async () => {
    const record = program('record_special', (pm) => ['scatter', pm], 12 << 20);
    const ends: Buffer[] = [];
    for (const fast of [false, true]) {
      const o = await outcome(record, fast);
      expect(o.kind).toBe('trace');
      if (o.kind !== 'trace') return;
      const image = Buffer.from(o.recording.images[0]);
      for (const e of dataEvents(o.recording)) Buffer.from(e.data as Uint8Array).copy(image, e.offset);
      ends.push(image);
    }
    expect(ends[1].equals(ends[0])).toBe(true);
  });

  const kernelModes = ['sigaltstack', 'madv-remove', 'transfer', 'fallocate', 'proc-mem', 'sync', 'store', 'clone'];
  test.each([...kernelModes, 'append-fd', 'grow', 'shrink'])('record_kernel %s on 9 MiB', async (mode) => {
    await expectSame(
      program('record_kernel', (pm) => [mode, pm], (9 << 20) + 512),
      mode === 'sigaltstack',
    );
  });

  // a line whose fence comes in a later region, after another thread's
  // fence or unfenced flush (Task::flush_pending_ is the running thread's);
  // other-nt: a fence orders only its own thread's non-temporal stores
  // (native/dirty_lines.h)
  test.each(['alone', 'other-fence', 'other-fence-clwb', 'other-clwb', 'other-nt'])(
    'test program nt_fence %s',
    async (mode) => {
      await expectSame(program('nt_fence', (pm) => [mode, pm], 8192));
    },
  );

  // ways to a fence the hunt follows without stopping (fence_hunt.cc):
  // a loop back into its own plan, the PLT and a RELRO function pointer,
  // a locked instruction reached by a jump
  test.each(['loop', 'plt', 'lockjump'])('test program hunt_paths %s', async (mode) => {
    const header = await expectSame(program('hunt_paths', (pm) => [mode, pm], 4096));
    // the loop's 5,000 iterations run inside one plan: a stop at the loop
    // head each time was what a node at a closed line start cost
    expect(header?.fastStops?.frontier).toBeLessThan(50);
    expect(header?.fastStops?.flushTraps).toBe(1);
    expect(header?.flushTrapsOff).toBeUndefined();
  });

  // code the program rewrites between two regions, on a page it makes
  // writable and then read and execute again (the maps as they were): the
  // hunt's copy of the page from the first region is not kept for the
  // second (FenceHunt::region_began), where the page holds the fence
  test('test program hunt_paths remap', async () => {
    const header = await expectSame(program('hunt_paths', (pm) => ['remap', pm], 4096));
    expect(header?.fastStops?.frontier).toBeGreaterThan(0);
  });

  // code in a file the program also maps shared and writable (a JIT's two
  // mappings of one memfd), rewritten through that mapping with stores
  // alone, inside a region and between two: neither recorder may trust
  // its copy or decoding of the code (the hunt steps it, no int3 goes
  // there: docs/recording.md, "Code rewritten after it was decoded"). The
  // program exits 4 when a rewrite did not run (an int3 of ours copied
  // its page), and its file is the file after a run of it alone
  test.each(['dualmap', 'dualjump'])('test program hunt_paths %s', async (mode) => {
    const files: string[] = [];
    const header = await expectSame(
      program(
        'hunt_paths',
        (pm) => [mode, pm],
        4096,
        (pm) => files.push(pm),
      ),
    );
    expect(header?.exitCode).toBe(0);
    const alone = path.join(fs.mkdtempSync(path.join(scratch, 'alone-')), 'pm.bin');
    fs.writeFileSync(alone, Buffer.alloc(4096));
    expect(spawnSync(fixture('hunt_paths'), [mode, alone]).status).toBe(0);
    const native = fs.readFileSync(alone);
    expect(files.length).toBeGreaterThanOrEqual(2);
    for (const pm of files) expect(fs.readFileSync(pm).equals(native)).toBe(true);
  });

  // calls through function pointers the hunt follows while their page is
  // write-protected (fence_hunt.cc constant_target): in .data, watched
  // (pm_protection.h), and in PM; the program rewrites the pointer between
  // two calls by a store and by a read(), after which the hunt must not
  // follow the old value past the fence
  test.each([
    // the switch's jump table and the sfence: no stop at the call
    ['data', { frontier: 2, watchFaults: 0 }],
    // the store faults once; the page is not watched again
    ['datastore', { watchFaults: 1 }],
    // the kernel writes the page, opened for the read
    ['dataread', { watchFaults: 0 }],
    // the store to the pointer faults like any store to PM: each of the 4
    // once, at full speed before it was decoded, and is made by the
    // tracer from that fault once decoded (native/store_emulation.h)
    ['pmpointer', { faults: 4, emulated: 4, mprotects: 2, watchFaults: 0 }],
  ])('test program hunt_paths %s', async (mode, stops) => {
    const header = await expectSame(program('hunt_paths', (pm) => [mode, pm], 4096));
    expect(header?.fastStops).toMatchObject(stops);
  });

  // PM the first region left protected, touched before the second
  // (native/fast_region.cc, "Between regions"): the program finds its
  // memory and its own protection as without a tracer (its exit status
  // says so), and the trace holds the same changes as the exact one;
  // dlopen: a library mapped between the regions, whose flush the second
  // region's begin must find (harness/elf/flush-sites.ts keeps the last
  // region's sites while no mapping changed)
  test.each(['none', 'store', 'many', 'read', 'fork', 'signal', 'ownsegv', 'msync', 'dlopen'])(
    'test program between_regions %s',
    async (mode) => {
      const header = await expectSame(
        program('between_regions', (pm) => [mode, pm], 128 << 10),
        mode === 'signal',
      );
      expect(header?.exitCode).toBe(0);
      // the pool protected once, each region's store made by the tracer
      // (native/store_emulation.h: no page opened), PM given back at the
      // munmap: not again at each region
      if (mode === 'none') expect(header?.fastStops).toMatchObject({ mprotects: 2, emulated: 2 });
      // each region's flush trapped: libpmem's too, proven at the second begin
      if (mode === 'dlopen') {
        expect(header?.flushTrapsOff).toBeUndefined();
        expect(header?.fastStops?.flushTraps).toBe(2);
      }
    },
  );

  // returns the hunt follows where the path's stack says (fence_hunt.h
  // Stack): three calls deep to the flush, three returns, the sfence
  test('test program hunt_paths returns', async () => {
    const header = await expectSame(program('hunt_paths', (pm) => ['returns', pm], 4096));
    // 5 when the hunt stops at each return
    expect(header?.fastStops?.frontier).toBeLessThanOrEqual(3);
  });

  // a loop of clwbs before a return: a flush changes no memory, so the
  // path still knows the return's slot and the hunt follows it
  test('test program hunt_paths flushloop', async () => {
    const header = await expectSame(program('hunt_paths', (pm) => ['flushloop', pm], 4096));
    expect(header?.fastStops?.frontier).toBeLessThanOrEqual(1);
  });

  // indirect calls further on the hunt follows where the registers at its
  // plan say (fence_hunt.h): through a register, through memory at one
  test.each(['regcall', 'basecall'])('test program hunt_paths %s', async (mode) => {
    const header = await expectSame(program('hunt_paths', (pm) => [mode, pm], 4096));
    // 2 when the hunt stops at the call
    expect(header?.fastStops?.frontier).toBeLessThanOrEqual(1);
  });

  // returns it must not follow where a wrong rsp or the slot as it was
  // at the plan would send it: each reaches an sfence that a hunt gone
  // elsewhere runs past, giving images the exact recorder never does
  // (ntslot: a non-temporal store is a write, unlike a flush); calls
  // through a register the path rewrites without naming it (lodsq)
  test.each(['delta', 'slot', 'rspslot', 'callslot', 'ntslot', 'regwrite', 'basewrite'])(
    'test program hunt_paths %s',
    async (mode) => {
      await expectSame(program('hunt_paths', (pm) => [mode, pm], 4096));
    },
  );

  // the int3s on both ways of a branch go in with one write of the bytes
  // between them (native/breakpoints.cc rewrite_frontier), which must keep
  // the flush trap there: the clwb the first way leads to is seen, and
  // both int3s stop the tracee (the node it stands on out, the other in)
  test('test program hunt_paths adjacent', async () => {
    const header = await expectSame(program('hunt_paths', (pm) => ['adjacent', pm], 4096));
    expect(header?.fastStops).toMatchObject({ flushTraps: 2, frontier: 2 });
  });

  test.each(['signal_in_region', 'segv_in_region', 'region_loop', 'pm_store'])('test program %s', async (name) => {
    await expectSame(program(name, (pm) => [pm], 1 << 20));
  });

  // stores the fast recorder makes itself (native/store_emulation.h): the
  // file holds after the fast recording what it holds after the exact one,
  // where the CPU made every store, and that is what the program stored;
  // a store straddling two pages and a store to a page the program made
  // read-only itself are stepped as before
  const rax = Buffer.from('1122334455667788', 'hex');
  const pattern = Buffer.from(Array.from({ length: 64 }, (_, i) => i + 1));
  const expected: Record<string, [number, Buffer][]> = {
    plain: [
      [0, rax],
      [8, rax.subarray(0, 4)],
      [12, rax.subarray(0, 2)],
      [14, Buffer.from([0x11, 0x22, 0x5a])],
      [24, Buffer.from('feffffffffffffff01000080' + '0180a5', 'hex')],
      [40, rax],
      [48, rax.subarray(0, 4)],
      [64, pattern],
      [128, pattern.subarray(0, 16)],
      [144, pattern.subarray(16, 20)],
      [152, pattern.subarray(32, 40)],
      [160, pattern.subarray(48, 56)],
      [192, pattern],
      [256, Buffer.from([1, 0])],
      [4088, Buffer.concat([rax.subarray(0, 4), rax])],
      [-8, rax],
    ],
    avx512: [
      [320, pattern],
      [384, pattern],
      [448, pattern.subarray(0, 32)],
      [480, pattern.subarray(0, 16)],
      [496, pattern.subarray(0, 16)],
    ],
    readonly: [[0, Buffer.from([0x2a, 0, 0, 0, 0, 0, 0, 0, 1])]],
  };
  test.each([
    ['plain', 25],
    ['avx512', 5],
    // the store is stepped; the handler's increment, made after it
    // gave the page write permission again, is emulated
    ['readonly', 1],
  ])('test program store_forms %s on 12 MiB', async (mode, emulated) => {
    const files: { pm: string; fast: boolean }[] = [];
    const header = await expectSame(
      program(
        'store_forms',
        (pm) => [mode, pm],
        12 << 20,
        (pm, fast) => files.push({ pm, fast }),
      ),
    );
    if (mode === 'avx512' && header?.exitCode === 3) return; // no AVX-512F here
    expect(header?.exitCode).toBe(0);
    expect(header?.fastStops?.emulated).toBe(emulated);
    expect([...new Set(files.map((f) => f.fast))].sort()).toEqual([false, true]);
    for (const { pm } of files) {
      const now = fs.readFileSync(pm);
      for (const [at, bytes] of expected[mode]) {
        const from = at < 0 ? now.length + at : at;
        expect(now.subarray(from, from + bytes.length).toString('hex')).toBe(bytes.toString('hex'));
      }
    }
  });

  // read-modify-writes the fast recorder makes itself, with the flags the
  // instruction leaves (store_emulation.h): every ALU operation, width and
  // source form, inc, dec, neg and not, the shifts and rotates by 1, an
  // immediate and cl (counts of 0, masked and past the width), the flags
  // after each and what branches, setcc and adc chains made of them
  // stored to PM; the file after either recording is the file after a run
  // of the program alone, where the CPU computed every result and flag.
  // All 210 stores are made
  // by the tracer (none opens its page: the pool's protection and its
  // restore are the only mprotect calls).
  test('test program store_forms rmw on 12 MiB', async () => {
    const files: string[] = [];
    const header = await expectSame(
      program(
        'store_forms',
        (pm) => ['rmw', pm],
        12 << 20,
        (pm) => files.push(pm),
      ),
    );
    expect(header?.exitCode).toBe(0);
    expect(header?.fastStops).toMatchObject({ emulated: 210, mprotects: 2 });
    const alone = path.join(fs.mkdtempSync(path.join(scratch, 'alone-')), 'pm.bin');
    fs.writeFileSync(alone, Buffer.alloc(12 << 20));
    const run = spawnSync(fixture('store_forms'), ['rmw', alone]);
    expect(run.status).toBe(0);
    const native = fs.readFileSync(alone);
    expect(files.length).toBeGreaterThanOrEqual(2);
    for (const pm of files) expect(fs.readFileSync(pm).equals(native)).toBe(true);
  });
});

// the decode memo's runs, handed to the fence hunt before the first region
// (native/fence_hunt.h FenceHunt::know), are used only where the code is
// the bytes they were made from: the function at a fixed address was a nop
// in the recording before and is an sfence now, which a hunt that used the
// old run would run past unseen
describe('a fast recording after an earlier one of the program', () => {
  useTempCacheDir();

  test('test program hunt_memo: a run the memo holds for other bytes is decoded anew', async () => {
    expect(
      (
        await outcome(
          program('hunt_memo', (pm) => ['nop', pm], 4096),
          true,
        )
      ).kind,
    ).toBe('trace');
    const memo = new DecodeMemo(`fast ${resolveCommand([fixture('hunt_memo')]).file}`);
    expect(memo.knownRuns().some((run) => run.address === 0x50000000)).toBe(true);
    await expectSame(program('hunt_memo', (pm) => ['fence', pm], 4096));
  });
});
