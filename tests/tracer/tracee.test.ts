// tracee.test -- the work a run does while the program runs free to its
// first region (RunHooks.whileFree): done only before that region, with the
// tracer thread off the tracee's CPU, and the run the same with it.

import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { fixture } from '../fixtures';
import { decodeInstruction } from '../../harness/record/decode';
import { resolveCommand } from '../../harness/tracer/resolve-command';
import { type RunEnd, Tracee } from '../../harness/tracer/tracee';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pmfit-tracee-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

/** The CPUs the calling thread may run on, as the kernel lists them. */
function allowedCpus(): string {
  return /Cpus_allowed_list:\s*(\S+)/.exec(fs.readFileSync('/proc/thread-self/status', 'utf8'))![1];
}

interface Seen {
  end: RunEnd;
  /** What happened, in order: each piece of free work with the CPUs it
   *  could run on, each region begin with the tracer's CPUs then. */
  log: string[];
}

/** counter incr on a fresh file, three regions recorded, with `pieces`
 *  pieces of free work (0: no whileFree; Infinity: one more every time). */
async function run(pieces: number): Promise<Seen> {
  const pm = path.join(dir, `pm-${pieces}`);
  expect(spawnSync(fixture('counter'), ['init', pm]).status).toBe(0);
  const tracee = Tracee.start({ command: resolveCommand([fixture('counter'), 'incr', pm, '3']) });
  const log: string[] = [];
  let left = pieces;
  try {
    const end = await tracee.run(
      { record: true },
      {
        onDecode: (stop) => tracee.task.setInstruction(stop.address, decodeInstruction(stop.bytes, stop.address).info),
        onSyscall: () => tracee.stepSyscall(false),
        onEvents: () => {},
        onRegionBegin: () => {
          log.push(`region ${allowedCpus()}`);
        },
        ...(pieces > 0
          ? {
              whileFree: () => {
                log.push(`free ${allowedCpus()}`);
                left -= 1;
                return left > 0;
              },
            }
          : {}),
      },
    );
    return { end, log };
  } finally {
    tracee.kill();
  }
}

test('free work runs before the first region only, off the CPU the tracer shares with the tracee in regions', async () => {
  const process = allowedCpus();
  const { end, log } = await run(Infinity);
  expect(end).toMatchObject({ kind: 'exited', code: 0, regions: 3 });
  const regions = log.filter((line) => line.startsWith('region'));
  const free = log.filter((line) => line.startsWith('free'));
  expect(regions).toHaveLength(3);
  // asked at least once: the program cannot reach main in the microseconds
  // between its start and the first look at it
  expect(free.length).toBeGreaterThan(0);
  expect(log.slice(0, free.length)).toEqual(free);
  // free: the process's own CPUs; in regions pinned to the tracee's one
  // (where the machine has more than one to choose from)
  expect(new Set(free)).toEqual(new Set([`free ${process}`]));
  if (os.cpus().length > 1) for (const line of regions) expect(line).toMatch(/^region \d+$/);
  expect(allowedCpus()).toBe(process);
});

test('a run ends the same whether its free work is done, cut short or absent', async () => {
  const [none, one, endless] = [await run(0), await run(1), await run(Infinity)];
  expect(one.end).toEqual(none.end);
  expect(endless.end).toEqual(none.end);
  expect(one.log.filter((line) => line.startsWith('free'))).toHaveLength(1);
});
