// image-causes -- the cause of each violating crash image, on hand-built
// traces whose bug is known: the verdicts come from the image content (as a
// recovery would judge it), the causes must name the buggy store's address
// whatever the number of operations.

import type { CrashOutcome } from '../../harness/check/runner';
import type { Verdict } from '../../harness/check/verdict';
import { crashStates, ModelName, resolveOptions } from '../../harness/persistency/model';
import { imageCauses, tolerates } from '../../harness/pipeline/image-causes';
import { EventKind, TraceEvent } from '../../harness/trace/event';
import { fence, flush } from '../persistency/reference';

const NODE = 0x401100;
const LINK = 0x401200;
const OTHER = 0x401300;
const VALUE = 0x401400;

function at(event: TraceEvent, address: number): TraceEvent {
  return { ...event, address };
}

function put(index: number, offset: number, byte: number, address: number): TraceEvent {
  return { kind: EventKind.Store, index, address, fileId: 0, offset, length: 1, data: Uint8Array.of(byte) };
}

/** ops operations; op i writes node i (line 2i+1), then links it from slot
 *  i of line 0. `earlyLink`: the link is flushed and fenced before the node
 *  (the bug); otherwise the node first. `lateValue`: each op also stores a
 *  value byte in line 2i+2 that is never flushed. 10 instructions per op. */
function program(ops: number, options: { earlyLink?: boolean; lateValue?: boolean }) {
  const events: TraceEvent[] = [];
  const regions: { begin: number; end: number }[] = [];
  for (let i = 0; i < ops; i++) {
    const base = i * 10;
    const node = (2 * i + 1) * 64;
    events.push(put(base + 1, node, 0x40 + i, NODE));
    if (options.earlyLink) {
      events.push(
        put(base + 2, i, 1, LINK),
        at(flush(EventKind.Clwb, base + 3, 0, 0), OTHER),
        at(fence(base + 4), OTHER),
      );
      events.push(at(flush(EventKind.Clwb, base + 5, 0, node), OTHER), at(fence(base + 6), OTHER));
    } else {
      events.push(at(flush(EventKind.Clwb, base + 2, 0, node), OTHER), at(fence(base + 3), OTHER));
      events.push(
        put(base + 4, i, 1, LINK),
        at(flush(EventKind.Clwb, base + 5, 0, 0), OTHER),
        at(fence(base + 6), OTHER),
      );
    }
    if (options.lateValue) events.push(put(base + 7, (2 * i + 2) * 64, 0x70 + i, VALUE));
    regions.push({ begin: base, end: base + 9 });
  }
  const image = new Uint8Array((2 * ops + 2) * 64);
  return { trace: { images: [image], events, instructions: ops * 10 }, regions };
}

/** The recovery's judgement: a link to an unwritten node is broken; after
 *  an op ended (k at or past its end), its value byte must be there. */
function judge(image: Uint8Array, k: number, ops: number, lateValue: boolean): Verdict {
  for (let i = 0; i < ops; i++) {
    if (image[i] === 1 && image[(2 * i + 1) * 64] !== 0x40 + i) {
      return { kind: 'recovery-failed', exitCode: 1, output: `dangling link ${i}`, command: 'check' };
    }
    if (lateValue && k >= i * 10 + 9 && image[(2 * i + 2) * 64] !== 0x70 + i) {
      return { kind: 'invariant', failed: [`value ${i} lost`], output: '' };
    }
  }
  return { kind: 'ok' };
}

function outcomesOf(
  model: ModelName,
  built: ReturnType<typeof program>,
  ops: number,
  lateValue = false,
): CrashOutcome[] {
  const outcomes: CrashOutcome[] = [];
  for (const group of crashStates(model, built.trace, { maxStates: 64, seed: 1 })) {
    for (const state of group.states) {
      const image = state.patch().toBytes()[0];
      // Verdicts may change inside a group only where the "value" rule's
      // windows change: split at each op's end.
      for (let k = group.first; k <= group.last; k++) {
        const verdict = judge(image, k, ops, lateValue);
        const last = outcomes[outcomes.length - 1];
        if (
          last &&
          last.hash === state.hash &&
          last.last === k - 1 &&
          last.verdict.kind === verdict.kind &&
          last.first >= group.first
        ) {
          last.last = k;
        } else {
          outcomes.push({ first: k, last: k, hash: state.hash, window: '', verdict, describe: undefined });
        }
      }
    }
  }
  return outcomes.sort((a, b) => a.first - b.first);
}

function causes(model: ModelName, ops: number, options: { earlyLink?: boolean; lateValue?: boolean }) {
  const built = program(ops, options);
  return imageCauses({
    model,
    trace: built.trace,
    regions: built.regions,
    modelOptions: resolveOptions(),
    outcomes: outcomesOf(model, built, ops, options.lateValue),
  });
}

describe('imageCauses', () => {
  test.each([3, 30])('an early link under px86 is one ordering cause at the link (%i operations)', (ops) => {
    const found = causes('px86', ops, { earlyLink: true });
    expect(found.unexamined).toBe(0);
    expect(found.causes).toHaveLength(1);
    const [cause] = found.causes;
    expect(cause.kind).toBe('ordering');
    expect(cause.sites.map((site) => [site.role, site.address])).toEqual([
      ['durable-first', LINK],
      ['not-yet-durable', NODE],
    ]);
    expect(cause.hashes.size).toBeGreaterThanOrEqual(ops);
  });

  test('the correct order has no violating image, hence no cause', () => {
    expect(causes('px86', 5, {}).causes).toEqual([]);
  });

  test('a value never persisted is not-durable at its store under flushed and px86', () => {
    for (const model of ['flushed', 'px86'] as const) {
      const found = causes(model, 4, { lateValue: true });
      expect(found.causes.map((cause) => [cause.kind, cause.sites.map((site) => site.address)])).toEqual([
        ['not-durable', [VALUE]],
      ]);
    }
  });

  test('under sequential, an atomicity cause opened by the link and closed by the node', () => {
    // sequential: a crash between the link (k = 10i+2) and the node's
    // persist never violates here (the node store came first); make the link
    // come before the node store instead.
    const ops = 6;
    const built = program(ops, { earlyLink: true });
    built.trace.events = built.trace.events.map((event) =>
      event.address === NODE
        ? { ...event, index: event.index + 2 }
        : event.address === LINK
          ? { ...event, index: event.index - 1 }
          : event,
    );
    built.trace.events.sort((a, b) => a.index - b.index);
    const found = imageCauses({
      model: 'sequential',
      trace: built.trace,
      regions: built.regions,
      modelOptions: resolveOptions(),
      outcomes: outcomesOf('sequential', built, ops),
    });
    expect(found.causes.map((cause) => [cause.kind, cause.sites.map((site) => [site.role, site.address])])).toEqual([
      [
        'atomicity',
        [
          ['opens', LINK],
          ['closes', NODE],
        ],
      ],
    ]);
  });
});

describe('imageCauses, operations of two threads in flight at once', () => {
  // thread 1's operation spans 0..30 and stores a value (line 1) at 15 that
  // it never persists; thread 2's operation 10..20 runs inside it and
  // persists its own store (line 2), then runs an empty one (22..28). The check wants the value once thread
  // 2's operation has returned (k > 20): thread 1's store is lost for good
  // only from thread 1's own end (30), not from thread 2's.
  const on = (thread: number, event: TraceEvent): TraceEvent => ({ ...event, thread });
  const trace = {
    images: [new Uint8Array(4 * 64)],
    instructions: 40,
    events: [
      on(2, put(12, 128, 2, OTHER)),
      on(2, at(flush(EventKind.Clflush, 13, 0, 128), OTHER)),
      on(1, put(15, 64, 1, VALUE)),
    ],
  };
  const regions = [
    { begin: 0, end: 30, thread: 1 },
    { begin: 10, end: 20, thread: 2 },
    { begin: 22, end: 28, thread: 2 },
  ];

  test.each(['flushed', 'px86'] as const)(
    '%s: the never-durable store is blamed from its own operation end',
    (model) => {
      const outcomes: CrashOutcome[] = [];
      for (const group of crashStates(model, trace, { maxStates: 64, seed: 1 })) {
        for (const state of group.states) {
          const lost = state.patch().toBytes()[0][64] !== 1;
          for (let k = group.first; k <= Math.min(group.last, 40); k++) {
            const verdict: Verdict =
              lost && k > 20 ? { kind: 'invariant', failed: ['value lost'], output: '' } : { kind: 'ok' };
            outcomes.push({ first: k, last: k, hash: state.hash, window: '', verdict, describe: undefined });
          }
        }
      }
      outcomes.sort((a, b) => a.first - b.first);
      const found = imageCauses({ model, trace, regions, modelOptions: resolveOptions(), outcomes });
      const notDurable = found.causes.filter((cause) => cause.kind === 'not-durable');
      expect(notDurable.map((cause) => [cause.sites.map((site) => site.address), cause.spans])).toEqual([
        [[VALUE], [{ first: 30, last: 40 }]],
      ]);
    },
  );
});

describe('tolerates', () => {
  function tolerated(model: ModelName, ops: number, valueFlush?: EventKind.Clflush) {
    const built = program(ops, { lateValue: true });
    if (valueFlush !== undefined) {
      // each value's line flushed right after its store, and no fence after
      built.trace.events = built.trace.events.flatMap((event) =>
        event.address === VALUE ? [event, at(flush(valueFlush, event.index + 1, 0, event.offset), OTHER)] : [event],
      );
    }
    // The recovery never reads the values: every image is accepted.
    const input = { model, trace: built.trace, regions: built.regions, modelOptions: resolveOptions() };
    const outcomes = outcomesOf(model, built, ops, false);
    expect(outcomes.every((outcome) => outcome.verdict.kind === 'ok')).toBe(true);
    return [...tolerates({ ...input, outcomes }, outcomes, 100_000)];
  }

  test.each(['flushed', 'px86'] as const)(
    '%s: a store its operation left unpersisted, in accepted images, is tolerated',
    (model) => {
      expect(tolerated(model, 5)).toEqual([VALUE]);
    },
  );

  test('sequential: an image is always the prefix, so nothing is missing', () => {
    expect(tolerated('sequential', 5)).toEqual([]);
  });

  test.each(['flushed', 'px86'] as const)('%s: a store flushed with clflush is durable, fence or not', (model) => {
    expect(tolerated(model, 5, EventKind.Clflush)).toEqual([]);
  });
});
