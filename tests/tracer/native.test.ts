// native.test -- instruction infos packed (packInsns) cross into the tracer by
// the same rules as the objects they pack: what setInstruction takes as an
// object, setFlows and knowRun take packed, and what it refuses they refuse
// with the same one-line message, also when the packing is cut short.

import { fixture } from '../fixtures';
import { InsnFlow, type NativeInsnInfo, packInsns } from '../../harness/tracer/native';
import { resolveCommand } from '../../harness/tracer/resolve-command';
import { Tracee } from '../../harness/tracer/tracee';

const AT = 0x401000;
const plain = { base: 1, index: 0, scale: 1, disp: -8, size: 8, seg: 0 };

/** Every field there is: a vector write, rspAdd, gprWrites, each flow with
 *  its target, register or memory operand. */
const GOOD: NativeInsnInfo[] = [
  { length: 4, flags: 0, writes: [plain, { ...plain, kind: 1, reg: 2, vec: 3, elem: 4, count: 5, indexElem: 6 }] },
  { length: 1, flags: 0, writes: [], rspAdd: -8, gprWrites: 1 << 4, flow: InsnFlow.Next },
  { length: 2, flags: 0, writes: [], flow: InsnFlow.Branch, target: 0x7ffff7d6be80 },
  { length: 3, flags: 0, writes: [], flow: InsnFlow.Indirect, viaReg: 3 },
  { length: 6, flags: 0, writes: [], flow: InsnFlow.Indirect, via: { ...plain, disp: 0x7ffff7ff0000 } },
];

const BAD: [NativeInsnInfo, string][] = [
  [{ length: 1, flags: 0.5, writes: [] }, 'instruction flags must be an integer'],
  [{ length: 1, flags: 0, writes: [], flow: 9 as InsnFlow }, 'instruction flow is out of range'],
  [{ length: 1, flags: 0, writes: [], flow: InsnFlow.Jump }, 'instruction target must be a number'],
  [{ length: 1, flags: 0, writes: [], gprWrites: 1 << 16 }, 'instruction gprWrites is out of range'],
  [{ length: 1, flags: 0, writes: [{ ...plain, kind: 1, reg: 256 }] }, 'operand reg is out of range'],
  [
    { length: 1, flags: 0, writes: [], flow: InsnFlow.Indirect, via: { ...plain, size: 4 } },
    'instruction via must be a plain 8-byte operand',
  ],
];

let tracee: Tracee;
beforeAll(() => {
  tracee = Tracee.start({ command: resolveCommand([fixture('counter'), 'show', '/nonexistent']) });
});
afterAll(() => tracee.kill());

test('packed infos of every field are taken, as their objects are', () => {
  const packed = packInsns(GOOD);
  expect(() => tracee.task.setFlows(AT, packed)).not.toThrow();
  expect(() => tracee.task.knowRun(AT, Buffer.alloc(16, 0x90), packed)).not.toThrow();
  for (const info of GOOD) expect(() => tracee.task.setInstruction(AT, info)).not.toThrow();
});

test('a packed info is refused where its object is, with the same message', () => {
  for (const [info, message] of BAD) {
    expect(() => tracee.task.setInstruction(AT, info)).toThrow(message);
    expect(() => tracee.task.setFlows(AT, packInsns([info]))).toThrow(message);
  }
});

test('packings cut short, or with fields or operands that are not there, are refused', () => {
  const packed = packInsns(GOOD);
  const floats = (numbers: number[]) => Buffer.from(new Float64Array(numbers).buffer) as typeof packed;
  for (const [bad, message] of [
    [packed.subarray(0, packed.length - 8), 'packed instruction infos end before'],
    [packed.subarray(0, packed.length - 3), 'packed instruction infos must be whole numbers of 8 bytes'],
    [floats([2 ** 9]), 'packed field mask is out of range'], // a field past the table's
    [floats([0b11, 1]), 'packed instruction infos end before flags'],
    [floats([0b111, 1, 0, 2]), 'packed instruction infos end before'], // two writes, none there
  ] as const)
    expect(() => tracee.task.setFlows(AT, bad as typeof packed)).toThrow(message);
  expect(() => tracee.task.knowRun(AT, Buffer.alloc(1), floats([0b111, 1, 0, 0.5]))).toThrow(/must be an integer/);
});
