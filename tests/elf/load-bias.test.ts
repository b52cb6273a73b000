// load-bias.test -- live programs (PIE with ASLR, non-PIE, static): the
// address computed from symbol + bias holds the symbol's bytes, and the
// Symbolizer names it.

import * as fs from 'fs';
import { findFunction } from '../../harness/elf/find-symbol';
import { loadBias } from '../../harness/elf/load-bias';
import { readMaps } from '../../harness/elf/proc-maps';
import { ElfFile, readElf } from '../../harness/elf/read-elf';
import { Symbolizer } from '../../harness/elf/symbolizer';
import {
  buildPrograms,
  Programs,
  readProcessMemory,
  removePrograms,
  startWaiting,
  stopWaiting,
  Waiting,
} from './programs';

let programs: Programs;
const running: Waiting[] = [];

beforeAll(() => {
  programs = buildPrograms();
});

afterEach(async () => {
  while (running.length > 0) await stopWaiting(running.pop());
});

afterAll(() => removePrograms(programs));

function elfOf(file: string): ElfFile {
  const result = readElf(fs.readFileSync(file));
  if (!result.ok) throw new Error(result.message);
  return result.elf;
}

/** File bytes at a link-time address. */
function fileBytes(file: string, elf: ElfFile, address: number, length: number): Buffer {
  const segment = elf.segments.find((s) => s.vaddr <= address && address + length <= s.vaddr + s.filesz)!;
  const offset = segment.offset + (address - segment.vaddr);
  return fs.readFileSync(file).subarray(offset, offset + length);
}

async function start(file: string): Promise<Waiting> {
  const waiting = await startWaiting(file);
  running.push(waiting);
  return waiting;
}

describe.each(['pie', 'nopie', 'static'] as const)('%s', (kind) => {
  test("main + bias is where main runs, and holds main's bytes", async () => {
    const file = programs[kind];
    const elf = elfOf(file);
    const waiting = await start(file);
    const bias = loadBias(readMaps(waiting.pid), file, elf);
    if (kind === 'pie') expect(bias).toBeGreaterThan(0);
    else expect(bias).toBe(0);
    const [main] = findFunction(elf, 'main');
    expect(main + bias).toBe(waiting.main);
    const size = elf.symbols.find((symbol) => symbol.name === 'main')!.size;
    expect(readProcessMemory(waiting.pid, main + bias, size)).toEqual(fileBytes(file, elf, main, size));
  });

  test('Symbolizer names main and helper in the executable', async () => {
    const file = programs[kind];
    const elf = elfOf(file);
    const waiting = await start(file);
    const symbolizer = new Symbolizer(readMaps(waiting.pid));
    const [main] = findFunction(elf, 'main');
    expect(symbolizer.covers(waiting.main)).toBe(true);
    expect(symbolizer.describe(waiting.main + 5)).toEqual({
      module: fs.realpathSync(file),
      offset: main + 5,
      symbol: 'main',
      symbolOffset: 5,
    });
    const [helper] = findFunction(elf, 'helper');
    expect(symbolizer.describe(waiting.main - main + helper)).toMatchObject({ symbol: 'helper', symbolOffset: 0 });
    // &sleep: in libc for the PIE, in the executable for the static one, and
    // the canonical PLT stub of the non-PIE executable
    const where = symbolizer.describe(waiting.sleep);
    expect(where.symbolOffset).toBe(0);
    if (kind === 'pie')
      expect(where).toMatchObject({
        module: expect.stringMatching(/libc\.so/),
        symbol: expect.stringMatching(/sleep$/),
      });
    if (kind === 'static')
      expect(where).toMatchObject({ module: fs.realpathSync(file), symbol: expect.stringMatching(/sleep$/) });
    if (kind === 'nopie') expect(where).toMatchObject({ module: fs.realpathSync(file), symbol: 'sleep@plt' });
  });
});

describe('Symbolizer without symbols', () => {
  test('stripped executable: module and offset only', async () => {
    const waiting = await start(programs.stripped);
    const symbolizer = new Symbolizer(readMaps(waiting.pid));
    const pieMain = findFunction(elfOf(programs.pie), 'main')[0];
    // stripped is a byte copy of pie minus symbols: same layout
    expect(symbolizer.describe(waiting.main)).toEqual({ module: fs.realpathSync(programs.stripped), offset: pieMain });
  });

  test('unmapped, anonymous and pseudo mappings', async () => {
    const waiting = await start(programs.pie);
    const maps = readMaps(waiting.pid);
    const symbolizer = new Symbolizer(maps);
    expect(symbolizer.covers(16)).toBe(false);
    expect(symbolizer.describe(16)).toEqual({ module: '[unmapped]', offset: 16 });
    const stack = maps.find((entry) => entry.path === '[stack]')!;
    expect(symbolizer.describe(stack.start + 8)).toEqual({ module: '[stack]', offset: 8 });
  });

  test('loadBias throws for an executable the process does not run', async () => {
    const waiting = await start(programs.pie);
    expect(() => loadBias(readMaps(waiting.pid), programs.stripped, elfOf(programs.stripped))).toThrow(
      /is not mapped in the process/,
    );
  });
});
