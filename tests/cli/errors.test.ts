// errors -- every way a traced run can go wrong ends in one line on stderr,
// exit status 2, and no tracee left behind (nor any process pmfit started,
// nor a temporary file: tests/helpers/leftovers.ts checks after each case).

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { fixture } from '../fixtures';
import { oneLineError, runPmfit } from '../helpers/run-pmfit';
import { useLeftovers } from '../helpers/leftovers';

let scratch: string;
const leftovers = useLeftovers();

beforeAll(() => {
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'pmfit-errors-'));
});

afterAll(() => {
  fs.rmSync(scratch, { recursive: true, force: true });
});

function expectError(args: string[], pattern: RegExp): void {
  const result = runPmfit(args, leftovers.current());
  expect(result.code).toBe(2);
  expect(oneLineError(result)).toMatch(pattern);
}

describe('pmfit errors', () => {
  it('command not found', () => {
    expectError(['count', '--', 'no-such-program-pmfit'], /no-such-program-pmfit: command not found/);
  });

  it('not executable', () => {
    const file = path.join(scratch, 'data.bin');
    fs.copyFileSync(fixture('count_asm'), file);
    fs.chmodSync(file, 0o644);
    expectError(['count', '--', file], /not executable/);
  });

  it('not ELF', () => {
    const file = path.join(scratch, 'text.txt');
    fs.writeFileSync(file, 'hello, this is not a program\n');
    fs.chmodSync(file, 0o755);
    expectError(['count', '--', file], /not an ELF/);
  });

  it('no region markers and no --function names the symbol and the fix', () => {
    expectError(['count', '--', fixture('no_markers')], /no region markers \(pmfit_region_begin\).*--function NAME/);
  });

  it('--function that does not exist', () => {
    expectError(
      ['count', '--function', 'no_such_function', '--', fixture('count_asm')],
      /function no_such_function not found/,
    );
  });

  it('crash point past the end says the total', () => {
    expectError(
      ['crash', '1000', '--', fixture('count_asm')],
      /crash point 1000 is past the end: .* runs 48 instructions/,
    );
  });

  it('a signal inside a region names signal, address and symbol', () => {
    expectError(
      ['count', '--', fixture('segv_in_region')],
      /killed by SIGSEGV inside a region at 0x[0-9a-f]+ in \w+\+0x[0-9a-f]+/,
    );
    expectError(['count', '--', fixture('abort_in_region')], /killed by SIGABRT inside a region/);
  });

  it.each([
    ['fork_in_region', /fork inside a region .*not supported/],
    ['exec_in_region', /exec inside a region .*not supported/],
  ])('%s is not supported', (name, pattern) => {
    expectError(['count', '--', fixture(name)], pattern);
    expect(leftovers.current().running(fixture(name))).toEqual([]);
  });

  it('a runaway region stops at --max-steps', () => {
    expectError(
      ['count', '--max-steps', '5000', '--', fixture('loop_forever')],
      /runaway region: .* more than 5000 instructions \(--max-steps\)/,
    );
    expect(leftovers.current().running(fixture('loop_forever'))).toEqual([]);
  });

  it('missing -- before the command', () => {
    expectError(['count', fixture('count_asm')], /missing -- before the command/);
  });

  it('N that is not a number', () => {
    expectError(['crash', 'abc', '--', fixture('count_asm')], /N must be a non-negative integer, not 'abc'/);
  });
});
