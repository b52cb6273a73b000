// px86 -- the persistency model of x86 with ADR (power failure).
//
// docs/models.md:
//   `px86`: x86 with ADR (power failure): per line, any version between its
//   last *guaranteed* durable version and its current version (cache eviction
//   can write a line back at any moment). States per crash point: product
//   over unsettled lines.
//
//   px86 rules (Intel SDM; PMDK uses the same):
//   - a store makes a new version of each line it touches; a store that spans
//     two lines may tear between them, never inside one line;
//   - `clflush` makes the line durable at once (it carries its own ordering);
//   - `clflushopt` / `clwb` mark the line's current version pending; pending
//     versions become guaranteed at the next `sfence`, `mfence`, locked
//     read-modify-write, or serializing instruction;
//   - non-temporal stores (`movnti`, `movntdq`, `vmovntdq`, `maskmovdqu`, …)
//     write a pending version that becomes guaranteed at the next fence;
//   - `msync`/`fsync`/`fdatasync` on a PM file make its current content
//     guaranteed; write syscalls on a PM file are guaranteed at once.
//
//   px86 enumeration at a crash point with unsettled lines: all of them when
//   the product of choices is at most `--max-states` (default 64); otherwise a
//   reproducible selection (seeded): all-oldest, all-newest, each line alone
//   newest, each line alone oldest, and random combinations up to the cap.
//   Every image is identified by a content hash kept incrementally (per-line
//   hashes combined), so identical images from any crash point and any model
//   are checked once.
//
// How it is kept:
// - `guaranteed` is the image of every line's last guaranteed version (an
//   ImageSet over the initial images, hash kept incrementally).
// - A line is unsettled when it has versions newer than its guaranteed one.
//   Only unsettled lines have an entry: versions[0] is the guaranteed version
//   (same bytes as in `guaranteed`), versions[last] the current one; each
//   version is an immutable line copy with its line hash. `pending` maps each
//   thread with a mark on the line to the index of the version it most
//   recently marked pending (clflushopt / clwb mark the current version; a
//   non-temporal store's new version is pending).
// - Threads (docs/models.md, "Threads"): the versions are in the order of
//   the recorded interleaving, which is each thread's program order and a
//   store order x86-TSO allows; a fence completes only its own thread's
//   marks, so that a flush by one thread is guaranteed by that thread's
//   fence and not by another's. Events without a thread are thread 0.
// - Making version p guaranteed (fence for the pending one; clflush, sync and
//   write syscalls for the current one) writes it into `guaranteed` and drops
//   versions[0..p-1]; a line whose current version is guaranteed is settled
//   and loses its entry.
// - `delta` = sum over unsettled lines of H(current) - H(guaranteed), so the
//   all-newest hash is guaranteed + delta, and every selected state's hash
//   costs O(lines that differ from all-oldest or all-newest).
// - Unsettled lines are also kept in a most-recently-changed-first list: the
//   "each line alone" states of the seeded selection go through lines in that
//   order (the lines the latest instructions touched come first).
// A version is never merged with an equal one: a line stored N times since
// its last guaranteed version has N+1 choices, even when some are equal
// (the exhaustive enumeration then repeats hashes; the selection does not),
// except for the version merge (docs/models.md, "Version merge"): a plain
// store replaces the line's newest version when that one was made by a plain
// store of the same thread in the same epoch (no fence of the thread has
// guaranteed anything since) and no flush marked it (`mergeVersions`,
// default on).

import { BaseImage, ImageSet } from '../image/image';
import { HashLanes, addLanes, hashLine, lanesToString, newLanes, subLanes } from '../image/line-hash';
import { EventKind, LINE, TraceEvent } from '../trace/event';
import { Prng } from './prng';
import {
  CrashGroup,
  CrashState,
  LineChoice,
  PersistencyTrace,
  ResolvedCrashStateOptions,
  resolveOptions,
  CrashStateOptions,
} from './types';
import { Lease, ModelMachine, eventLines, walkGroups } from './walk';

/** Events that count toward the selection's seed (Px86State.applied). */
const COUNTED: ReadonlySet<EventKind> = new Set([EventKind.Store, EventKind.NtStore, EventKind.Write, EventKind.Sync]);

interface Version {
  /** The whole line (64 bytes, or less for a file's short last line). Never modified. */
  readonly bytes: Uint8Array;
  /** H(fileId, line, bytes). */
  readonly hash: HashLanes;
  /** The thread whose plain store made it and that thread's fence epoch
   *  then (absent for a guaranteed or non-temporal version): what the
   *  version merge compares. */
  readonly made?: { thread: number; epoch: number };
}

class Unsettled {
  /** [0] = last guaranteed version ... [length-1] = current version; length >= 2. */
  versions: Version[];
  /** Thread -> index of the version it marked pending. */
  readonly pending = new Map<number, number>();
  /** Most-recently-changed list links. */
  newer: Unsettled | null = null;
  older: Unsettled | null = null;

  constructor(
    readonly fileId: number,
    readonly line: number,
    guaranteed: Version,
  ) {
    this.versions = [guaranteed];
  }

  get current(): Version {
    return this.versions[this.versions.length - 1];
  }
}

/** Which version each unsettled line takes in one crash state. */
type Pick =
  | { kind: 'all'; newest: boolean }
  /** This line alone newest (others oldest), or alone oldest (others newest). */
  | { kind: 'alone'; entry: Unsettled; newest: boolean }
  | { kind: 'each'; lines: Unsettled[]; choice: Int32Array };

/** copyOf -- a copy as a plain Uint8Array (a Buffer's own slice would be a view). */
function copyOf(bytes: Uint8Array): Uint8Array {
  return Uint8Array.prototype.slice.call(bytes);
}

function addDelta(sum: HashLanes, to: Version, from: Version): void {
  addLanes(sum, to.hash);
  subLanes(sum, from.hash);
}

export class Px86Machine implements ModelMachine {
  private readonly guaranteed: ImageSet;
  private readonly unsettled: Map<number, Unsettled>[];
  /** Per thread, the lines it marked pending. */
  private readonly pending = new Map<number, Set<Unsettled>>();
  private readonly delta = newLanes();
  private newest: Unsettled | null = null;
  private count = 0;
  /** Stores, writes and syncs applied so far (the seed of the selection):
   *  the events both recorders record alike. Fences and flushes are not
   *  counted: the fast recorder keeps only the fences that order something
   *  and does not see flushes of lines nothing stored since their last
   *  flush (docs/recording.md), which change no state. */
  private applied = 0;
  /** Per thread, the fences that guaranteed something (the version merge's epochs). */
  private readonly epochs = new Map<number, number>();

  constructor(
    base: BaseImage,
    private readonly options: ResolvedCrashStateOptions,
  ) {
    this.guaranteed = new ImageSet(base, { hashed: true });
    this.unsettled = base.files.map(() => new Map<number, Unsettled>());
  }

  /** unsettledLines -- number of lines with versions newer than their guaranteed one. */
  get unsettledLines(): number {
    return this.count;
  }

  affects(event: TraceEvent): boolean {
    switch (event.kind) {
      case EventKind.Store:
      case EventKind.NtStore:
      case EventKind.Write:
        return event.length > 0;
      case EventKind.Clflush:
      case EventKind.Sync:
        return this.anyUnsettled(event);
      case EventKind.Fence:
        return (this.pending.get(event.thread ?? 0)?.size ?? 0) > 0;
      default:
        // clflushopt / clwb only mark a version pending: the possible states
        // do not change until the fence.
        return false;
    }
  }

  apply(event: TraceEvent): void {
    if (COUNTED.has(event.kind)) this.applied += 1;
    switch (event.kind) {
      case EventKind.Store:
      case EventKind.NtStore:
        this.store(event, event.kind === EventKind.NtStore);
        return;
      case EventKind.Write:
        this.writeSyscall(event);
        return;
      case EventKind.Clflush:
        for (const entry of this.unsettledIn(event)) this.guarantee(entry, entry.versions.length - 1);
        return;
      case EventKind.Clflushopt:
      case EventKind.Clwb:
        for (const entry of this.unsettledIn(event)) this.markPending(entry, event.thread ?? 0);
        return;
      case EventKind.Fence: {
        const thread = event.thread ?? 0;
        if ((this.pending.get(thread)?.size ?? 0) > 0) this.epochs.set(thread, (this.epochs.get(thread) ?? 0) + 1);
        for (const entry of [...(this.pending.get(thread) ?? [])])
          this.guarantee(entry, entry.pending.get(thread) as number);
        return;
      }
      case EventKind.Sync:
        for (const entry of [...this.unsettledIn(event)]) this.guarantee(entry, entry.versions.length - 1);
        return;
      default:
        return;
    }
  }

  states(_first: number, lease: Lease): CrashState[] {
    if (this.count === 0) return [this.state(lease, this.guaranteed.hash(), { kind: 'all', newest: false })];
    const { maxStates } = this.options;
    const lines: Unsettled[] = [];
    let product = 1;
    for (let entry = this.newest; entry && product <= maxStates; entry = entry.older) {
      lines.push(entry);
      product *= entry.versions.length;
    }
    return product <= maxStates ? this.allCombinations(lease, lines, product) : this.selection(lease);
  }

  // --- events -------------------------------------------------------------

  /** store -- a new version of each line the store touches (pending for a non-temporal store). */
  private store(event: TraceEvent, nonTemporal: boolean): void {
    const data = event.data as Uint8Array;
    for (let done = 0; done < event.length;) {
      const at = event.offset + done;
      const line = Math.floor(at / LINE);
      const inLine = at - line * LINE;
      const n = Math.min(event.length - done, LINE - inLine);
      const thread = event.thread ?? 0;
      const made = nonTemporal ? undefined : { thread, epoch: this.epochs.get(thread) ?? 0 };
      const entry = this.newVersion(event.fileId, line, data, done, inLine, n, made);
      if (nonTemporal) this.markPending(entry, thread);
      done += n;
    }
  }

  /** writeSyscall -- the lines it touches take their new content, guaranteed at once. */
  private writeSyscall(event: TraceEvent): void {
    const data = event.data as Uint8Array;
    const lines = this.unsettled[event.fileId];
    for (let done = 0; done < event.length;) {
      const at = event.offset + done;
      const line = Math.floor(at / LINE);
      const inLine = at - line * LINE;
      const n = Math.min(event.length - done, LINE - inLine);
      if (lines.has(line)) {
        const entry = this.newVersion(event.fileId, line, data, done, inLine, n);
        this.guarantee(entry, entry.versions.length - 1);
      } else {
        this.guaranteed.write(event.fileId, at, data, done, n);
      }
      done += n;
    }
  }

  private newVersion(
    fileId: number,
    line: number,
    data: Uint8Array,
    dataStart: number,
    inLine: number,
    n: number,
    made?: { thread: number; epoch: number },
  ): Unsettled {
    const lines = this.unsettled[fileId];
    let entry = lines.get(line);
    if (!entry) {
      const bytes = copyOf(this.guaranteed.line(fileId, line));
      const hash = newLanes();
      hashLine(fileId, line, bytes, 0, bytes.length, hash);
      entry = new Unsettled(fileId, line, { bytes, hash });
      lines.set(line, entry);
      this.count += 1;
    } else {
      this.unlink(entry);
    }
    const previous = entry.current;
    const bytes = copyOf(previous.bytes);
    bytes.set(data.subarray(dataStart, dataStart + n), inLine);
    const hash = newLanes();
    hashLine(fileId, line, bytes, 0, bytes.length, hash);
    const version: Version = made ? { bytes, hash, made } : { bytes, hash };
    if (this.options.mergeVersions && this.mergesInto(entry, made)) entry.versions[entry.versions.length - 1] = version;
    else entry.versions.push(version);
    addDelta(this.delta, version, previous);
    this.pushNewest(entry);
    return entry;
  }

  /** mergesInto -- whether a plain store's new version replaces the line's
   *  current one instead of adding a choice (docs/models.md, "Version
   *  merge"): the current version is not the guaranteed one, was made by a
   *  plain store of the same thread in the same epoch (no fence of that
   *  thread has guaranteed anything since), and no flush has marked it. */
  private mergesInto(entry: Unsettled, made: { thread: number; epoch: number } | undefined): boolean {
    if (!made || entry.versions.length < 2) return false;
    const last = entry.versions.length - 1;
    const previous = entry.versions[last].made;
    if (!previous || previous.thread !== made.thread || previous.epoch !== made.epoch) return false;
    for (const mark of entry.pending.values()) if (mark === last) return false;
    return true;
  }

  /** markPending -- the line's current version is pending for `thread`. */
  private markPending(entry: Unsettled, thread: number): void {
    entry.pending.set(thread, entry.versions.length - 1);
    let lines = this.pending.get(thread);
    if (!lines) {
      lines = new Set<Unsettled>();
      this.pending.set(thread, lines);
    }
    lines.add(entry);
  }

  /** guarantee -- make versions[p] the line's guaranteed version; settle the
   *  line when that is its current version. Clears the pending marks at or
   *  before p (with one thread, every mark is); later marks of other threads
   *  move with the versions. */
  private guarantee(entry: Unsettled, p: number): void {
    if (p > 0) {
      const oldest = entry.versions[0];
      const version = entry.versions[p];
      addDelta(this.delta, oldest, version);
      this.guaranteed.setLine(entry.fileId, entry.line, version.bytes, version.hash);
      entry.versions = entry.versions.slice(p);
    }
    for (const [thread, mark] of [...entry.pending]) {
      if (mark <= p) {
        entry.pending.delete(thread);
        this.pending.get(thread)?.delete(entry);
      } else {
        entry.pending.set(thread, mark - p);
      }
    }
    if (entry.versions.length === 1) {
      this.unlink(entry);
      this.unsettled[entry.fileId].delete(entry.line);
      this.count -= 1;
    }
  }

  private pushNewest(entry: Unsettled): void {
    entry.newer = null;
    entry.older = this.newest;
    if (this.newest) this.newest.newer = entry;
    this.newest = entry;
  }

  private unlink(entry: Unsettled): void {
    if (entry.newer) entry.newer.older = entry.older;
    else this.newest = entry.older;
    if (entry.older) entry.older.newer = entry.newer;
    entry.newer = null;
    entry.older = null;
  }

  private anyUnsettled(event: TraceEvent): boolean {
    for (const _ of this.unsettledIn(event)) return true;
    return false;
  }

  /** unsettledIn -- the unsettled lines a flush or sync names (by lookup for
   *  small ranges, by scanning the file's entries for large ones). */
  private *unsettledIn(event: TraceEvent): Generator<Unsettled> {
    const lines = this.unsettled[event.fileId];
    const { first, end } = eventLines(event, this.guaranteed.size(event.fileId));
    if (end - first <= lines.size) {
      for (let line = first; line < end; line++) {
        const entry = lines.get(line);
        if (entry) yield entry;
      }
    } else {
      for (const entry of [...lines.values()]) if (entry.line >= first && entry.line < end) yield entry;
    }
  }

  // --- crash states ---------------------------------------------------------

  /** allCombinations -- every combination of versions: exactly `product` states. */
  private allCombinations(lease: Lease, lines: Unsettled[], product: number): CrashState[] {
    const states: CrashState[] = [];
    const choice = new Int32Array(lines.length);
    const sum = newLanes();
    for (let s = 0; s < product; s++) {
      sum.set(this.guaranteed.hashLanes());
      lines.forEach((entry, i) => addDelta(sum, entry.versions[choice[i]], entry.versions[0]));
      states.push(this.state(lease, lanesToString(sum), { kind: 'each', lines, choice: choice.slice() }));
      for (let i = 0; i < lines.length; i++) {
        choice[i] += 1;
        if (choice[i] < lines[i].versions.length) break;
        choice[i] = 0;
      }
    }
    return states;
  }

  /** selection -- the seeded selection, deduplicated by hash, at most maxStates. */
  private selection(lease: Lease): CrashState[] {
    const { maxStates, seed } = this.options;
    const states: CrashState[] = [];
    const seen = new Set<string>();
    const base = this.guaranteed.hashLanes();
    const sum = newLanes();
    const offer = (pick: Pick): boolean => {
      const hash = lanesToString(sum);
      if (!seen.has(hash)) {
        seen.add(hash);
        states.push(this.state(lease, hash, pick));
      }
      return states.length >= maxStates;
    };
    sum.set(base);
    if (offer({ kind: 'all', newest: false })) return states;
    addLanes(sum, this.delta);
    if (offer({ kind: 'all', newest: true })) return states;
    for (let entry = this.newest; entry; entry = entry.older) {
      sum.set(base);
      addDelta(sum, entry.current, entry.versions[0]);
      if (offer({ kind: 'alone', entry, newest: true })) return states;
    }
    for (let entry = this.newest; entry; entry = entry.older) {
      sum.set(base);
      addLanes(sum, this.delta);
      addDelta(sum, entry.versions[0], entry.current);
      if (offer({ kind: 'alone', entry, newest: false })) return states;
    }
    const lines: Unsettled[] = [];
    for (let entry = this.newest; entry; entry = entry.older) lines.push(entry);
    // Keyed by the stores, writes and syncs so far, not by the crash point:
    // the fast recorder numbers crash points differently and must sample
    // the same images.
    const prng = new Prng(seed, this.applied);
    // Equal versions can leave fewer distinct images than the cap: stop trying after a while.
    for (let tries = 0; tries < 16 * maxStates + 64; tries++) {
      const choice = new Int32Array(lines.length);
      sum.set(base);
      lines.forEach((entry, i) => {
        const c = prng.below(entry.versions.length);
        choice[i] = c;
        if (c > 0) addDelta(sum, entry.versions[c], entry.versions[0]);
      });
      if (offer({ kind: 'each', lines, choice })) return states;
    }
    return states;
  }

  private state(lease: Lease, hash: string, pick: Pick): CrashState {
    return {
      hash,
      patch: () => {
        lease.check();
        const patch = this.guaranteed.patch();
        this.forEachChoice(pick, (entry, version) => {
          if (version > 0) patch.setLine(entry.fileId, entry.line, entry.versions[version].bytes);
        });
        return patch;
      },
      describe: () => {
        lease.check();
        const choices: LineChoice[] = [];
        this.forEachChoice(pick, (entry, version) => {
          choices.push({ fileId: entry.fileId, offset: entry.line * LINE, version, of: entry.versions.length });
        });
        return choices.sort((a, b) => a.fileId - b.fileId || a.offset - b.offset);
      },
    };
  }

  private forEachChoice(pick: Pick, visit: (entry: Unsettled, version: number) => void): void {
    if (pick.kind === 'each') {
      pick.lines.forEach((entry, i) => visit(entry, pick.choice[i]));
      return;
    }
    for (let entry = this.newest; entry; entry = entry.older) {
      const last = entry.versions.length - 1;
      if (pick.kind === 'all') visit(entry, pick.newest ? last : 0);
      else if (entry === pick.entry) visit(entry, pick.newest ? last : 0);
      else visit(entry, pick.newest ? 0 : last);
    }
  }
}

/** px86CrashStates -- per crash point, the states a power failure on x86 with ADR can leave. */
export function px86CrashStates(
  trace: PersistencyTrace,
  options?: CrashStateOptions | ResolvedCrashStateOptions,
): Generator<CrashGroup, void, undefined> {
  return walkGroups(trace, new Px86Machine(BaseImage.of(trace.images), resolveOptions(options)));
}
