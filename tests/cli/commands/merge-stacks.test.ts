// merge-stacks.test -- with libdw, a single `pmfit allcounts` unwinds call
// stacks at the sites its findings and lint name and places each site at
// its first frame in the program's own code; the shards of `--shard i/n`
// unwind their share of them and `pmfit merge` puts them together, so the
// merged results.json (findings with their stacks, frames, locations and
// excerpts; the lint; the stack replay's counts), HTML and JUnit equal the
// single run's. On docs/examples/bank, a libpmemobj program on a 16 MiB
// pool, in 2 and 3 shards, merged where the program and its source are gone.

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { spawnSync } from 'child_process';
import { renderHtml } from '../../../harness/report/html';
import { renderJunit } from '../../../harness/report/junit';
import type { FindingSite, Results } from '../../../harness/results/schema';
import type { ShardResults } from '../../../harness/results/shard-results';
import { buildExample } from '../../helpers/build-example';
import { requireDebianPackage } from '../../helpers/debian-package';
import { junitText, normalized } from '../../helpers/run-equality';
import { runPmfit } from '../../helpers/run-pmfit';

const LIBDW = '/usr/lib/x86_64-linux-gnu/libdw.so.1';
const COUNTS = [2, 3];
let dir: string;
let bank: string;
const read = (file: string): Results => JSON.parse(fs.readFileSync(file, 'utf8')) as Results;
const reports = (name: string) => path.join(dir, name, 'reports');

beforeAll(() => {
  requireDebianPackage('libdw1', LIBDW);
  requireDebianPackage('libpmemobj-dev', '/usr/include/libpmemobj.h');
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pmfit-merge-stacks-'));
  bank = buildExample(dir, 'bank', ['-lpmemobj']);
  // The pool made once: every shard starts from the same file (docs/sharding.md).
  expect(spawnSync('./bank', ['create', 'bank.pool'], { cwd: bank }).status).toBe(0);
  const run = (name: string, args: string[]) => {
    fs.mkdirSync(path.join(dir, name), { recursive: true });
    return runPmfit(['allcounts', '--config', path.join(bank, 'pmfit.config.json'), ...args], {
      cwd: path.join(dir, name),
      timeoutMs: 300_000,
    });
  };
  const single = run('single', ['-o', 'reports']);
  expect({ code: single.code, stderr: single.stderr }).toEqual({ code: 0, stderr: '' });
  for (const count of COUNTS) {
    for (let i = 1; i <= count; i++) {
      const shard = run(`shards-${count}`, ['--shard', `${i}/${count}`, '-o', `s${i}`]);
      expect({ code: shard.code, stderr: shard.stderr }).toEqual({ code: 0, stderr: '' });
    }
  }
  // As in a CI merge job that did not build the program: the stacks, their
  // source lines and excerpts come from the shards.
  fs.rmSync(path.join(bank, 'bank'));
  fs.rmSync(path.join(bank, 'bank.c'));
  for (const count of COUNTS) {
    fs.mkdirSync(path.join(dir, `merged-${count}`));
    const dirs = Array.from({ length: count }, (_, i) => path.join(dir, `shards-${count}`, `s${i + 1}`));
    const merge = runPmfit(['merge', ...dirs, '-o', 'reports'], { cwd: path.join(dir, `merged-${count}`) });
    expect({ code: merge.code, stderr: merge.stderr }).toEqual({ code: 0, stderr: '' });
  }
}, 900_000);

afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

const sites = (results: Results): FindingSite[] =>
  results.runs.flatMap((run) => (run.findings ?? []).flatMap((finding) => finding.sites));

describe('the single run with libdw', () => {
  it('has stacks at every site, and sites inside the libraries placed at bank.c', () => {
    const results = read(path.join(reports('single'), 'results.json'));
    const bug = results.targets.find((target) => target.name === 'bank-bug')!;
    expect(bug.stacks).toMatchObject({ kind: 'unwound' });
    const { sites: named, unwound } = bug.stacks as { sites: number; unwound: number };
    expect(unwound).toBe(named);
    const all = sites(results);
    expect(all.length).toBeGreaterThan(0);
    expect(all.every((site) => site.stack !== undefined && path.basename(site.file ?? '') === 'bank.c')).toBe(true);
    // A store libpmemobj (or libc for it) made, shown at the line of bank.c that called it.
    const inside = all.filter((site) => /^\/(usr\/)?lib/.test(site.module ?? ''));
    expect(inside.length).toBeGreaterThan(0);
    for (const site of inside) {
      expect(site.frame).toBeGreaterThan(0);
      expect(site.stack![site.frame!]).toMatchObject({ file: site.file, line: site.line });
      expect(site.excerpt!.length).toBeGreaterThan(0);
    }
  });
});

describe.each(COUNTS)('pmfit merge of allcounts --shard i/%i with libdw', (count) => {
  it('gives the single run results.json: findings with their stacks, frames and excerpts, the lint', () => {
    const single = read(path.join(reports('single'), 'results.json'));
    const merged = read(path.join(reports(`merged-${count}`), 'results.json'));
    expect(normalized(merged)).toEqual(normalized(single));
    expect(sites(merged).every((site) => site.stack !== undefined)).toBe(true);
  });

  it('gives the single run HTML and JUnit', () => {
    const single = read(path.join(reports('single'), 'results.json'));
    const merged = read(path.join(reports(`merged-${count}`), 'results.json'));
    const html = fs.readFileSync(path.join(reports(`merged-${count}`), 'index.html'), 'utf8');
    expect(html).toBe(renderHtml(merged));
    expect(fs.readFileSync(path.join(reports(`merged-${count}`), 'junit.xml'), 'utf8')).toBe(renderJunit(merged));
    expect(renderHtml(normalized(merged))).toBe(renderHtml(normalized(single)));
    expect(junitText(path.join(reports(`merged-${count}`), 'junit.xml'))).toBe(
      junitText(path.join(reports('single'), 'junit.xml')),
    );
  });

  it("splits the stores' stacks between the shards, each unwound by one", () => {
    const shards = Array.from(
      { length: count },
      (_, i) =>
        JSON.parse(
          fs.readFileSync(path.join(dir, `shards-${count}`, `s${i + 1}`, 'pmfit-shard.json'), 'utf8'),
        ) as ShardResults,
    );
    for (const name of ['bank', 'bank-bug']) {
      const parts = shards.map((shard) => shard.targets.find((target) => target.record.name === name)!.stacks!);
      const lint = new Set(parts[0].kind === 'unwound' ? parts[0].lint : []);
      const unwound = parts.map((part) =>
        part.kind === 'unwound' ? part.at.map(([index]) => index).filter((index) => !lint.has(index)) : [],
      );
      for (const own of unwound) expect(own.length).toBeGreaterThan(0);
      const all = unwound.flat();
      expect(new Set(all).size).toBe(all.length);
    }
  });
});
