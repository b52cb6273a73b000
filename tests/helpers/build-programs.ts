// build-programs -- jest's global setup of the system tier: builds the C
// programs the tests run (targets, fixtures, benchmark programs) with
// `npm run build:programs` before the first system test. npm's install step
// builds only the tracer addon; make rebuilds only what changed, so this is
// about 2 s when everything is up to date.

import { spawnSync } from 'child_process';
import { projectRoot } from '../../harness/_internals/paths';

export default function buildPrograms(): void {
  const result = spawnSync('npm', ['run', '--silent', 'build:programs'], {
    cwd: projectRoot,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (result.status !== 0) {
    const output = `${result.stdout ?? ''}${result.stderr ?? ''}`.trim().split('\n').slice(-30).join('\n');
    throw new Error(
      `npm run build:programs failed (${result.error?.message ?? `status ${result.status}`}):\n${output}`,
    );
  }
}
