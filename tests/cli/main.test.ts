// main.test -- the command line as commander parses it: `allcounts
// --merge-versions` and `--no-merge-versions` give a boolean, undefined when
// neither is given so that pmfit.config.json can set it (allcounts-plan).

import { buildProgram } from '../../harness/cli/main';

/** The options commander gives allcounts for `pmfit allcounts ARGS`. */
function allcountsOptions(args: string[]): Record<string, unknown> {
  const program = buildProgram(() => undefined, ['allcounts', ...args]);
  program.parse(['node', 'pmfit', 'allcounts', ...args]);
  const command = program.commands.find((c) => c.name() === 'allcounts');
  if (!command) throw new Error('no allcounts command');
  return command.opts();
}

describe('pmfit allcounts --merge-versions', () => {
  it('is on with the flag, off with --no-merge-versions, unset without either', () => {
    expect(allcountsOptions(['--merge-versions']).mergeVersions).toBe(true);
    expect(allcountsOptions(['--no-merge-versions']).mergeVersions).toBe(false);
    expect(allcountsOptions([]).mergeVersions).toBeUndefined();
  });

  it('says in its help what the merge drops and where it is described', () => {
    const program = buildProgram(() => undefined, ['allcounts', '--help']);
    const command = program.commands.find((c) => c.name() === 'allcounts');
    const help = command?.helpInformation().replace(/\s+/g, ' ') ?? '';
    expect(help).toContain('--merge-versions');
    expect(help).toMatch(/drops some a real crash can leave/);
    expect(help).toContain('docs/models.md');
  });
});
