// The checker on real crash states from the persistency models: one
// operation writes "abc" to a PM file; with clwb + sfence every model is
// consistent, without them px86 and flushed find the lost write.

import { removeTempRoot } from '../../harness/_internals/temp-root';
import { collateOutcomes } from '../../harness/check/outcome-groups';
import { RecoveryCache, checkCrashStates } from '../../harness/check/runner';
import { crashStates, ModelName } from '../../harness/persistency/model';
import { EventKind, NO_FILE, TraceEvent } from '../../harness/trace/event';
import { makeSpec } from './helpers';

function trace(flush: boolean) {
  const events: TraceEvent[] = [
    { kind: EventKind.Store, index: 2, address: 0x1000, fileId: 0, offset: 0, length: 3, data: Buffer.from('abc') },
  ];
  if (flush) {
    events.push({ kind: EventKind.Clwb, index: 3, address: 0x1004, fileId: 0, offset: 0, length: 64 });
    events.push({ kind: EventKind.Fence, index: 4, address: 0x1008, fileId: NO_FILE, offset: 0, length: 0 });
  }
  return { images: [new Uint8Array(128)], events, instructions: 6 };
}

const spec = makeSpec(
  [{ shell: "head -c 3 {file} | tr -d '\\000'" }],
  (input) =>
    input.allowed.includes(input.recoveryOutput)
      ? []
      : [`found "${input.recoveryOutput}", allowed ${JSON.stringify(input.allowed)}`],
  { states: ['', 'abc'] },
);
const regions = [{ begin: 1, end: 5 }];

async function violations(model: ModelName, flush: boolean, cache: RecoveryCache): Promise<string> {
  const report = await checkCrashStates({ groups: crashStates(model, trace(flush)), regions, spec, cache, jobs: 2 });
  return collateOutcomes(report.outcomes)
    .filter((g) => g.kind !== 'ok')
    .map((g) => `${g.label} ${g.ranges}`)
    .join('; ');
}

test('a flushed and fenced write is consistent under every model; images are shared between models', async () => {
  const cache = new RecoveryCache();
  for (const model of ['sequential', 'flushed', 'px86'] as const) expect(await violations(model, true, cache)).toBe('');
  expect(cache.recoveryRuns).toBe(2); // the empty image and "abc"
});

test('an unflushed write is lost at the end of the operation under px86 and flushed only', async () => {
  const cache = new RecoveryCache();
  expect(await violations('sequential', false, cache)).toBe('');
  expect(await violations('flushed', false, cache)).toBe('invariant 5-6');
  expect(await violations('px86', false, cache)).toBe('invariant 5-6');
});

// Jest workers do not run process 'exit' handlers reliably.
afterAll(() => removeTempRoot());
