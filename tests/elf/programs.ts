// programs -- tiny programs built with the machine's gcc for the ELF tests,
// in a temporary directory the caller removes (removePrograms).

import { ChildProcess, execFileSync, spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

/** Line of `main` in MAIN_C (1-based), checked against addr2line. */
export const MAIN_LINE = 14;

const MAIN_C = `#include <stdio.h>
#include <string.h>
#include <unistd.h>

int twin_a(int);
int twin_b(int);

__attribute__((noinline)) int helper(int v)
{
  return v * 3 + 1;
}

int main(int argc, char **argv)
{
  if (argc > 1 && strcmp(argv[1], "wait") == 0) {
    printf("ready %p %p\\n", (void *)&main, (void *)&sleep);
    fflush(stdout);
    sleep(60);
  }
  return helper(argc) + twin_a(argc) + twin_b(argc) > 1000;
}
`;

// Two static functions called "twin": two LOCAL symbols with one name.
const TWIN_A_C = `__attribute__((noinline)) static int twin(int v) { return v + 1; }
int twin_a(int v) { return twin(v) * 2; }
`;
const TWIN_B_C = `__attribute__((noinline)) static int twin(int v) { return v - 1; }
int twin_b(int v) { return twin(v) * 5; }
`;

export interface Programs {
  dir: string;
  pie: string;
  nopie: string;
  static: string;
  stripped: string;
  /** A 32-bit program, or a 32-bit object file marked executable when there
   *  is no 32-bit libc to link with; undefined when gcc has no -m32 at all. */
  m32?: string;
  object: string;
  script: string;
  text: string;
  empty: string;
  notExecutable: string;
}

function gcc(dir: string, args: string[]): void {
  execFileSync('gcc', args, { cwd: dir, stdio: 'pipe' });
}

function tryGcc(dir: string, args: string[]): boolean {
  try {
    gcc(dir, args);
    return true;
  } catch {
    return false;
  }
}

export function buildPrograms(): Programs {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pmfit-elf-test-'));
  fs.writeFileSync(path.join(dir, 'main.c'), MAIN_C);
  fs.writeFileSync(path.join(dir, 'twin_a.c'), TWIN_A_C);
  fs.writeFileSync(path.join(dir, 'twin_b.c'), TWIN_B_C);
  const sources = ['main.c', 'twin_a.c', 'twin_b.c'];
  const at = (name: string) => path.join(dir, name);

  gcc(dir, ['-g', '-O1', '-fPIE', '-pie', '-o', 'pie', ...sources]);
  gcc(dir, ['-g', '-O1', '-fno-pie', '-no-pie', '-o', 'nopie', ...sources]);
  gcc(dir, ['-g', '-O1', '-static', '-o', 'static', ...sources]);
  fs.copyFileSync(at('pie'), at('stripped'));
  execFileSync('strip', [at('stripped')]);
  gcc(dir, ['-c', '-o', 'object.o', 'twin_a.c']);
  fs.chmodSync(at('object.o'), 0o755);

  let m32: string | undefined;
  if (tryGcc(dir, ['-m32', '-o', 'm32', 'twin_a.c', '-nostdlib', '-e', 'twin_a'])) {
    m32 = at('m32');
  } else if (tryGcc(dir, ['-m32', '-c', '-o', 'm32.o', 'twin_a.c'])) {
    fs.chmodSync(at('m32.o'), 0o755);
    m32 = at('m32.o');
  }

  fs.writeFileSync(at('script.sh'), '#!/bin/sh -e\necho hello\n', { mode: 0o755 });
  fs.writeFileSync(at('notes.txt'), 'hello, world\nnot a program\n', { mode: 0o755 });
  fs.writeFileSync(at('empty'), '', { mode: 0o755 });
  fs.copyFileSync(at('pie'), at('noexec'));
  fs.chmodSync(at('noexec'), 0o644);

  return {
    dir,
    pie: at('pie'),
    nopie: at('nopie'),
    static: at('static'),
    stripped: at('stripped'),
    m32,
    object: at('object.o'),
    script: at('script.sh'),
    text: at('notes.txt'),
    empty: at('empty'),
    notExecutable: at('noexec'),
  };
}

export function removePrograms(programs: Programs | undefined): void {
  if (programs) fs.rmSync(programs.dir, { recursive: true, force: true });
}

export interface Waiting {
  child: ChildProcess;
  pid: number;
  /** Run-time addresses the program printed: main, and sleep in libc. */
  main: number;
  sleep: number;
}

/** startWaiting -- run a program built from MAIN_C with "wait": it prints
 *  its addresses and sleeps until killed. */
export function startWaiting(file: string): Promise<Waiting> {
  const child = spawn(file, ['wait'], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${file} did not report ready`));
    }, 10_000);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /ready (0x[0-9a-f]+) (0x[0-9a-f]+)/.exec(out);
      if (match) {
        clearTimeout(timer);
        resolve({ child, pid: child.pid!, main: parseInt(match[1], 16), sleep: parseInt(match[2], 16) });
      }
    });
  });
}

/** stopWaiting -- kill and reap. */
export async function stopWaiting(waiting: Waiting | undefined): Promise<void> {
  if (!waiting || waiting.child.exitCode !== null || waiting.child.signalCode !== null) return;
  const exited = new Promise((resolve) => waiting.child.once('exit', resolve));
  waiting.child.kill('SIGKILL');
  await exited;
}

/** Bytes of a live process's memory. */
export function readProcessMemory(pid: number, address: number, length: number): Buffer {
  const fd = fs.openSync(`/proc/${pid}/mem`, 'r');
  try {
    const buf = Buffer.alloc(length);
    fs.readSync(fd, buf, 0, length, address);
    return buf;
  } finally {
    fs.closeSync(fd);
  }
}
