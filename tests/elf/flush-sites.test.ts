// flush-sites.test -- the flush sites of Debian's libpmem and of the
// project's built programs against objdump's disassembly; a library built
// here with the cases objdump cannot judge (flush bytes in an immediate,
// code without CFI, bytes that do not decode); and live processes: txmap
// waiting on its stdin, with libpmem's sites at the addresses that hold
// them, a PIE and a non-PIE program's own flush, and mappings that cannot
// be proven.

import { ChildProcess, execFileSync, spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { builtProgram } from '../../harness/_internals/paths';
import { cacheEntryPath } from '../../harness/_internals/user-cache';
import { useTempCacheDir } from '../helpers/temp-cache-dir';
import { readEhFrame } from '../../harness/elf/eh-frame';
import { findFlushSites, processFlushSites } from '../../harness/elf/flush-sites';
import { loadBias } from '../../harness/elf/load-bias';
import { MapEntry, mapsDevice, readMaps } from '../../harness/elf/proc-maps';
import { bufferBytes, ElfFile, readElf } from '../../harness/elf/read-elf';
import { decodeInstruction } from '../../harness/record/decode';
import { readProcessMemory } from './programs';

const FLUSHES = ['clflush', 'clflushopt', 'clwb'];

interface Listed {
  address: number;
  /** The function objdump puts it in. */
  symbol: string;
}

/** The flush instructions objdump's linear disassembly lists. */
function objdumpFlushes(file: string): Listed[] {
  const out = execFileSync('objdump', ['-d', '--no-show-raw-insn', file], { encoding: 'utf8', maxBuffer: 1 << 28 });
  const found: Listed[] = [];
  let symbol = '';
  for (const line of out.split('\n')) {
    const header = /^[0-9a-f]+ <(.+)>:$/.exec(line);
    if (header) symbol = header[1];
    const insn = /^\s*([0-9a-f]+):\s+(\S+)/.exec(line);
    if (insn && FLUSHES.includes(insn[2])) found.push({ address: parseInt(insn[1], 16), symbol });
  }
  return found;
}

function load(file: string): { buf: Buffer; elf: ElfFile } {
  const buf = fs.readFileSync(file);
  const read = readElf(buf);
  if (!read.ok) throw new Error(`${file}: ${read.message}`);
  return { buf, elf: read.elf };
}

function insideFdes(buf: Buffer, elf: ElfFile, address: number): boolean {
  return readEhFrame(bufferBytes(buf), elf).fdes.some((fde) => fde.begin <= address && address < fde.end);
}

function libpmemPath(): string {
  const match = /\slibpmem\.so\.1 \(libc6,x86-64\) => (\S+)/.exec(
    execFileSync('ldconfig', ['-p'], { encoding: 'utf8' }),
  );
  if (!match) throw new Error('libpmem.so.1 is not installed: run scripts/install-pmdk.sh');
  return match[1];
}

/** ELF executables among the built programs. */
function builtElfPrograms(): string[] {
  const dir = path.dirname(builtProgram('txmap'));
  return fs
    .readdirSync(dir)
    .map((name) => path.join(dir, name))
    .filter((file) => fs.statSync(file).isFile() && readElf(fs.readFileSync(file)).ok);
}

describe('findFlushSites against objdump', () => {
  const files = [libpmemPath(), ...builtElfPrograms()];

  test('the files include libpmem and programs that flush', () => {
    const flushing = files.filter((file) => objdumpFlushes(file).length > 0);
    expect(flushing).toContain(libpmemPath());
    expect(flushing.length).toBeGreaterThan(5);
  });

  test.each(files)('%s: every flush objdump lists in an FDE is a site, nothing else is', (file) => {
    const { buf, elf } = load(file);
    const listed = objdumpFlushes(file);
    const found = findFlushSites(bufferBytes(buf), elf);
    const inFde = listed.filter((flush) => insideFdes(buf, elf, flush.address));
    expect(found.sites).toEqual(inFde.map((flush) => flush.address));
    // One outside every FDE (inline assembly of code without CFI) is unproven, never dropped.
    for (const flush of listed.filter((f) => !insideFdes(buf, elf, f.address))) {
      // its 0F AE comes after at most a few prefixes (66, REX)
      const own = found.unproven.filter((u) => u.vaddr >= flush.address && u.vaddr < flush.address + 4);
      expect(own).toEqual([{ vaddr: expect.any(Number), why: 'in no FDE' }]);
    }
  });
});

const SYNTH_C = `
int immediate_only(void)
{
  int v;
  __asm__ volatile("mov $0x38ae0f00, %0" : "=r"(v));
  return v;
}

void flush_all(char *p)
{
  __asm__ volatile("clflush (%0)\\n\\tclflushopt 64(%0)\\n\\tclwb 128(%0)\\n\\txsaveopt (%0)" : : "r"(p) : "memory");
}

void flush_in_displacement(char *p)
{
  __asm__ volatile("clflush 0x38ae0f(%0)" : : "r"(p) : "memory");
}
`;

const SYNTH_S = `
	.text
	.globl no_cfi_flush
	.type no_cfi_flush, @function
no_cfi_flush:
	clflush (%rdi)
	ret
	.size no_cfi_flush, .-no_cfi_flush

	.globl undecodable_flush
	.type undecodable_flush, @function
undecodable_flush:
	.cfi_startproc
	.byte 0x06
	clflush (%rdi)
	ret
	.cfi_endproc
	.size undecodable_flush, .-undecodable_flush
	.section .note.GNU-stack,"",@progbits
`;

// A program with a flush of its own that waits; with "anon" it first maps
// anonymous executable memory holding flush bytes (0f ae 38: clflush (%rax)).
const WAITER_C = `
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

__attribute__((noinline)) void flush(char *p)
{
  __asm__ volatile("clflush (%0)" : : "r"(p) : "memory");
}

int main(int argc, char **argv)
{
  static char line[64];
  unsigned char code[] = { 0x0f, 0xae, 0x38, 0xc3 };
  unsigned char *page = NULL;
  flush(line);
  if (argc > 1 && strcmp(argv[1], "anon") == 0) {
    page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (page == MAP_FAILED)
      return 1;
    memcpy(page, code, sizeof code);
    if (mprotect(page, 4096, PROT_READ | PROT_EXEC) != 0)
      return 1;
  }
  printf("ready %p\\n", (void *)page);
  fflush(stdout);
  pause();
  return 0;
}
`;

let dir: string;
let synth: string;
let waiterPie: string;
let waiterNoPie: string;
const children: ChildProcess[] = [];

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pmfit-flush-sites-'));
  fs.writeFileSync(path.join(dir, 'synth.c'), SYNTH_C);
  fs.writeFileSync(path.join(dir, 'synth.S'), SYNTH_S);
  fs.writeFileSync(path.join(dir, 'waiter.c'), WAITER_C);
  synth = path.join(dir, 'libsynth.so');
  waiterPie = path.join(dir, 'waiter-pie');
  waiterNoPie = path.join(dir, 'waiter-nopie');
  execFileSync('gcc', ['-shared', '-fPIC', '-O1', '-o', synth, 'synth.c', 'synth.S'], { cwd: dir, stdio: 'pipe' });
  execFileSync('gcc', ['-O1', '-fPIE', '-pie', '-o', waiterPie, 'waiter.c'], { cwd: dir, stdio: 'pipe' });
  execFileSync('gcc', ['-O1', '-fno-pie', '-no-pie', '-o', waiterNoPie, 'waiter.c'], { cwd: dir, stdio: 'pipe' });
});

afterEach(async () => {
  for (const child of children.splice(0)) {
    if (child.exitCode !== null || child.signalCode !== null) continue;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }
});

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('findFlushSites on a library built here', () => {
  function symbolRange(elf: ElfFile, name: string): [number, number] {
    const symbol = elf.symbols.find((s) => s.name === name);
    if (!symbol) throw new Error(`no ${name}`);
    return [symbol.value, symbol.value + symbol.size];
  }

  test('flushes in CFI-covered functions are sites; bytes inside other instructions are not', () => {
    const { buf, elf } = load(synth);
    const found = findFlushSites(bufferBytes(buf), elf);
    const listed = objdumpFlushes(synth);
    const expected = listed
      .filter((flush) => flush.symbol === 'flush_all' || flush.symbol === 'flush_in_displacement')
      .map((flush) => flush.address);
    expect(expected).toHaveLength(4);
    expect(found.sites).toEqual(expected);
    // the flush bytes in immediate_only's immediate are there, and no site nor unproven
    const [begin, end] = symbolRange(elf, 'immediate_only');
    const text = elf.sections.find((s) => s.name === '.text')!;
    const code = buf.subarray(text.offset + begin - text.addr, text.offset + end - text.addr);
    expect(code.includes(Buffer.from([0x0f, 0xae, 0x38]))).toBe(true);
    const inRange = (address: number) => address >= begin && address < end;
    expect(found.sites.filter(inRange)).toEqual([]);
    expect(found.unproven.map((u) => u.vaddr).filter(inRange)).toEqual([]);
  });

  test('a flush without CFI and one behind bytes that do not decode are unproven, with why', () => {
    const { buf, elf } = load(synth);
    const found = findFlushSites(bufferBytes(buf), elf);
    const [noCfi] = symbolRange(elf, 'no_cfi_flush');
    const [undecodable] = symbolRange(elf, 'undecodable_flush');
    expect(found.unproven).toEqual([
      { vaddr: noCfi, why: 'in no FDE' },
      {
        vaddr: undecodable + 1,
        why: `in FDE 0x${undecodable.toString(16)}-0x${(undecodable + 5).toString(16)}, whose linear decoding fails at 0x${undecodable.toString(16)} before reaching it`,
      },
    ]);
    expect(found.sites).not.toContain(noCfi);
    expect(found.sites).not.toContain(undecodable + 1);
  });
});

/** Wait (polling, bounded) until `ready` holds. */
async function waitFor(what: string, ready: () => boolean): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!ready()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** txmap's check server, blocked reading its stdin with every library loaded. */
async function startTxmap(): Promise<number> {
  const txmap = builtProgram('txmap');
  if (!fs.existsSync(txmap))
    throw new Error(`${txmap} is missing: it needs Debian's libpmemobj-dev (scripts/install-pmdk.sh)`);
  const child = spawn(txmap, ['check-server'], { stdio: ['pipe', 'ignore', 'inherit'] });
  children.push(child);
  const pid = child.pid!;
  // /proc/PID/syscall starts with the number of the call it blocks in: 0, read.
  await waitFor('txmap to block in read', () => {
    try {
      return fs.readFileSync(`/proc/${pid}/syscall`, 'utf8').startsWith('0 ');
    } catch {
      return false;
    }
  });
  return pid;
}

describe('processFlushSites', () => {
  test("txmap: complete, libpmem's sites at its load bias, each address holding a flush", async () => {
    const pid = await startTxmap();
    const maps = readMaps(pid);
    const result = processFlushSites(pid, maps);
    expect(result).toEqual({ addresses: expect.any(Array), complete: true });
    expect(result.addresses).toEqual([...new Set(result.addresses)].sort((a, b) => a - b));

    const library = libpmemPath();
    const { buf, elf } = load(library);
    const bias = loadBias(maps, library, elf);
    const expected = objdumpFlushes(library)
      .filter((flush) => insideFdes(buf, elf, flush.address))
      .map((flush) => flush.address + bias);
    expect(expected.length).toBeGreaterThan(100);
    const real = fs.realpathSync(library);
    const code = maps.filter((entry) => entry.path === real && entry.perms[2] === 'x');
    expect(code).toHaveLength(1);
    expect(result.addresses.filter((address) => address >= code[0].start && address < code[0].end)).toEqual(expected);
    for (const address of expected) {
      const bytes = readProcessMemory(pid, address, 16);
      // prefixes (66 for clflushopt and clwb, a REX for r8-r15), then 0F AE
      expect(bytes.indexOf(Buffer.from([0x0f, 0xae]))).toBeLessThan(3);
      expect(FLUSHES).toContain(decodeInstruction(bytes, address).mnemonic);
    }
  });

  /** Start a waiter; the address of its anonymous code page, if any. */
  async function startWaiter(file: string, args: string[]): Promise<{ pid: number; page: number }> {
    const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    children.push(child);
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
    await waitFor(`${file} to be ready`, () => /ready (\S+)/.test(out));
    const page = /ready (\S+)/.exec(out)![1];
    return { pid: child.pid!, page: page === '(nil)' ? 0 : parseInt(page, 16) };
  }

  test.each([
    ['PIE', () => waiterPie],
    ['non-PIE', () => waiterNoPie],
  ])('%s program: its own flush at its run-time address, complete', async (_kind, file) => {
    const { pid } = await startWaiter(file(), []);
    const maps = readMaps(pid);
    const result = processFlushSites(pid, maps);
    expect(result.complete).toBe(true);
    const { elf } = load(file());
    const bias = loadBias(maps, file(), elf);
    if (elf.type === 'exec') expect(bias).toBe(0);
    const listed = objdumpFlushes(file()).filter((flush) => flush.symbol === 'flush');
    expect(listed).toHaveLength(1);
    const own = maps.find((entry) => entry.path === file() && entry.perms[2] === 'x')!;
    expect(result.addresses.filter((address) => address >= own.start && address < own.end)).toEqual([
      listed[0].address + bias,
    ]);
    expect(decodeInstruction(readProcessMemory(pid, listed[0].address + bias, 16), 0).mnemonic).toBe('clflush');
  });

  test('anonymous executable memory with flush bytes is not complete', async () => {
    const { pid, page } = await startWaiter(waiterPie, ['anon']);
    const result = processFlushSites(pid, readMaps(pid));
    expect(result.complete).toBe(false);
    expect(result.why).toBe(
      `[anonymous] at 0x${page.toString(16)}-0x${(page + 4096).toString(16)}: possible flush at 0x${page.toString(16)} in code without an ELF file to prove it`,
    );
  });

  describe('mappings that cannot be proven (made-up maps of this process)', () => {
    function fileEntry(file: string, perms = 'r-xp'): MapEntry {
      const stat = fs.statSync(file);
      return {
        start: 0x7f0000000000,
        end: 0x7f0000000000 + Math.ceil(stat.size / 4096) * 4096,
        perms,
        offset: 0,
        dev: mapsDevice(stat.dev),
        inode: stat.ino,
        path: file,
      };
    }
    const vdso = () => readMaps(process.pid).filter((entry) => entry.path === '[vdso]');

    test('[vsyscall] is ignored and [vdso] has no flush: complete', () => {
      const maps = [
        ...vdso(),
        { ...fileEntry(synth, '--xp'), path: '[vsyscall]', start: 0xffffffffff600000, end: 0xffffffffff601000 },
      ];
      expect(vdso()).toHaveLength(1);
      expect(processFlushSites(process.pid, maps)).toEqual({ addresses: [], complete: true });
    });

    test.each([
      ['writable code', (e: MapEntry) => ({ ...e, perms: 'rwxp' }), /is writable and executable/],
      ['shared code', (e: MapEntry) => ({ ...e, perms: 'r-xs' }), /is a shared executable mapping/],
      ['a deleted file', (e: MapEntry) => ({ ...e, path: `${e.path} (deleted)` }), /was deleted or replaced/],
      ['another file at the path', (e: MapEntry) => ({ ...e, inode: e.inode + 1 }), /no longer the one mapped/],
    ])('%s', (_name, change, why) => {
      const entry = change(fileEntry(libpmemPath()));
      const result = processFlushSites(process.pid, [entry]);
      expect(result.complete).toBe(false);
      expect(result.why).toMatch(why);
      expect(result.why).toContain(entry.path);
    });

    // a JIT's two mappings of one file: a store through the shared one
    // rewrites the code, and an int3 would part the private page from it
    test('code in a file also mapped shared', () => {
      const entry = fileEntry(libpmemPath());
      const alias = { ...entry, start: 0x7e0000000000, end: 0x7e0000001000, perms: 'rw-s' };
      expect(processFlushSites(process.pid, [entry]).complete).toBe(true);
      for (const other of [alias, { ...alias, perms: 'r--s' }]) {
        const result = processFlushSites(process.pid, [other, entry]);
        expect(result).toMatchObject({ addresses: [], complete: false });
        expect(result.why).toBe(
          `${entry.path} at 0x7f0000000000-0x${entry.end.toString(16)} maps a file the program also maps shared: its code can change without a system call`,
        );
      }
    });

    test('a file that is not ELF', () => {
      const text = path.join(dir, 'notes.txt');
      fs.writeFileSync(text, 'not code\n');
      expect(processFlushSites(process.pid, [fileEntry(text)])).toEqual({
        addresses: [],
        complete: false,
        why: `${text} at 0x7f0000000000-0x7f0000001000: not an ELF file (text starting with "not code\\n")`,
      });
    });

    // the recorder asks at every region's begin, and keeps the last
    // region's sites while each mapping gives what it gave then: a file
    // rewritten in place (same path, device and inode, the same maps
    // line) must give its new sites
    test('a mapped file rewritten between two calls: its new sites', () => {
      const copy = path.join(dir, 'rewritten.so');
      fs.copyFileSync(libpmemPath(), copy);
      const entry = fileEntry(copy);
      const before = processFlushSites(process.pid, [entry]);
      expect(before.addresses.length).toBeGreaterThan(100);
      fs.writeFileSync(copy, fs.readFileSync(synth));
      expect(fs.statSync(copy).ino).toBe(entry.inode);
      const { buf, elf } = load(synth);
      const after = processFlushSites(process.pid, [entry]);
      expect(after.addresses).toEqual(findFlushSites(bufferBytes(buf), elf).sites.map((site) => site + entry.start));
      expect(after.complete).toBe(false);
      expect(processFlushSites(process.pid, [entry])).toEqual(after);
    });

    test('unproven candidates: the sites that are proven, and the first unproven one named', () => {
      const entry = fileEntry(synth);
      const { buf, elf } = load(synth);
      const sites = findFlushSites(bufferBytes(buf), elf).sites;
      const bias = entry.start; // offset 0 at start, and the library's first segment at 0
      expect(elf.segments[0]).toMatchObject({ vaddr: 0, offset: 0 });
      const result = processFlushSites(process.pid, [entry]);
      expect(result.addresses).toEqual(sites.map((site) => site + bias));
      expect(result.complete).toBe(false);
      expect(result.why).toMatch(
        new RegExp(
          `^${synth.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} at 0x7f0000000000-0x[0-9a-f]+: possible flush at link-time 0x[0-9a-f]+ unproven: in no FDE \\(and 1 more\\)$`,
        ),
      );
    });
  });
});

describe("the cache across runs (pmfit's cache directory)", () => {
  type FlushSitesModule = typeof import('../../harness/elf/flush-sites');
  const tempCache = useTempCacheDir();

  /** A fresh copy of the module: nothing proven in this process yet. */
  function fresh(): FlushSitesModule {
    let module: FlushSitesModule | undefined;
    jest.isolateModules(() => {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      module = require('../../harness/elf/flush-sites') as FlushSitesModule;
    });
    return module!;
  }
  const statOf = (file: string) => fs.statSync(file, { bigint: true });
  const entryOf = (file: string) => cacheEntryPath('flush-sites', file)!;

  /** libpmem proven with the cache off: what every cached answer must equal. */
  function proven(): ReturnType<FlushSitesModule['fileFlushSites']> {
    process.env.PMFIT_CACHE_DIR = 'off';
    const result = fresh().fileFlushSites(libpmemPath(), statOf(libpmemPath()));
    process.env.PMFIT_CACHE_DIR = tempCache();
    return result;
  }

  test('libpmem: the same sites with the cache off, proven into it, and read from it', () => {
    const expected = proven();
    expect(expected).toMatchObject({ ok: true, unproven: [] });
    expect(fs.readdirSync(tempCache())).toEqual([]);
    expect(fresh().fileFlushSites(libpmemPath(), statOf(libpmemPath()))).toEqual(expected);
    expect(fs.existsSync(entryOf(libpmemPath()))).toBe(true);
    expect(fresh().fileFlushSites(libpmemPath(), statOf(libpmemPath()))).toEqual(expected);
  });

  test('an entry is used only for the file as it was: any other device, inode, size or time proves again', () => {
    const expected = proven();
    fresh().fileFlushSites(libpmemPath(), statOf(libpmemPath()));
    // An entry that says something else, under the file's present key.
    const entry = JSON.parse(fs.readFileSync(entryOf(libpmemPath()), 'utf8'));
    entry.result.sites = [1, 2, 3];
    fs.writeFileSync(entryOf(libpmemPath()), JSON.stringify(entry));
    expect(fresh().fileFlushSites(libpmemPath(), statOf(libpmemPath()))).toMatchObject({ sites: [1, 2, 3] });
    const stat = statOf(libpmemPath());
    for (const changed of [
      { dev: stat.dev + 1n },
      { ino: stat.ino + 1n },
      { size: stat.size + 1n },
      { mtimeNs: stat.mtimeNs + 1n },
      { ctimeNs: stat.ctimeNs + 1n },
    ]) {
      const result = fresh().fileFlushSites(libpmemPath(), { ...stat, ...changed } as fs.BigIntStats);
      expect([changed, result]).toEqual([changed, expected]);
    }
  });

  test('a corrupt or foreign entry is proven again and replaced', () => {
    const expected = proven();
    fresh().fileFlushSites(libpmemPath(), statOf(libpmemPath()));
    const good = fs.readFileSync(entryOf(libpmemPath()), 'utf8');
    for (const bad of [good.slice(0, good.length / 2), '[]', JSON.stringify({ key: 'another', result: {} })]) {
      fs.writeFileSync(entryOf(libpmemPath()), bad);
      expect(fresh().fileFlushSites(libpmemPath(), statOf(libpmemPath()))).toEqual(expected);
      expect(fs.readFileSync(entryOf(libpmemPath()), 'utf8')).toBe(good);
    }
  });

  test('a file changed in the last seconds is proven but not kept (its ctime may not show a change to come)', () => {
    const copy = path.join(dir, 'libpmem-copy.so');
    fs.copyFileSync(libpmemPath(), copy);
    const { segments, sites, unproven } = proven() as Extract<
      ReturnType<FlushSitesModule['fileFlushSites']>,
      { ok: true }
    >;
    expect(fresh().fileFlushSites(copy, statOf(copy))).toEqual({ ok: true, segments, sites, unproven });
    expect(fs.existsSync(entryOf(copy))).toBe(false);
  });

  test('a cache directory that cannot be made changes nothing', () => {
    const expected = proven();
    const file = path.join(tempCache(), 'a-file');
    fs.writeFileSync(file, '');
    process.env.PMFIT_CACHE_DIR = path.join(file, 'cache');
    expect(fresh().fileFlushSites(libpmemPath(), statOf(libpmemPath()))).toEqual(expected);
    expect(fs.readdirSync(tempCache())).toEqual(['a-file']);
  });
});
