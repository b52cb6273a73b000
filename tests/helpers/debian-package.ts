// debian-package -- a test's Debian package, installed when missing by
// scripts/install-debian-package.sh (the README's promise: nothing the tests
// need is installed by hand).

import { spawnSync } from 'child_process';
import * as path from 'path';
import { projectRoot } from '../../harness/_internals/paths';

/** Installs PACKAGE unless PROGRAM exists; throws with apt's tail on failure. */
export function requireDebianPackage(pkg: string, program: string): void {
  const script = path.join(projectRoot, 'scripts', 'install-debian-package.sh');
  const install = spawnSync('bash', [script, pkg, program], { encoding: 'utf8', timeout: 15 * 60_000 });
  if (install.status !== 0) {
    const why = `${install.stderr}${install.error?.message ?? ''}`.trim();
    throw new Error(`scripts/install-debian-package.sh ${pkg} failed (${install.status ?? install.signal}): ${why}`);
  }
}
