// trace-image.test -- the trace image as whole-file comparisons read it: the
// initial image with the recorded writes on top, into the caller's buffer,
// whatever that buffer held before.

import { PAGE, TraceImage } from '../../harness/record/trace-image';

/** An initial image of `size` bytes, byte i = i mod 251, zeros past it. */
function image(size: number): TraceImage {
  return new TraceImage([size], (_fileId, offset, into) => {
    for (let i = 0; i < into.length; i += 1) into[i] = offset + i < size ? (offset + i) % 251 : 0;
  });
}

function expected(size: number, offset: number, length: number, writes: [number, number[]][]): Buffer {
  const bytes = Buffer.alloc(length);
  for (let i = 0; i < length; i += 1) bytes[i] = offset + i < size ? (offset + i) % 251 : 0;
  for (const [at, data] of writes)
    data.forEach((byte, i) => {
      if (at + i >= offset && at + i < offset + length && at + i < size) bytes[at + i - offset] = byte;
    });
  return bytes;
}

test('read fills a reused buffer with the initial image and the writes, zeros past the size', () => {
  const size = 3 * PAGE + 100;
  const trace = image(size);
  const writes: [number, number[]][] = [
    [PAGE - 2, [1, 2, 3, 4]], // across a page boundary
    [3 * PAGE + 98, [5, 6, 7]], // past the file's size: dropped
  ];
  for (const [at, data] of writes) trace.apply(0, at, Uint8Array.from(data), { index: 1, address: 0 });
  const into = Buffer.alloc(2 * PAGE, 0xee);
  for (const offset of [0, 2 * PAGE]) {
    trace.read(0, offset, into);
    expect(into.equals(expected(size, offset, into.length, writes))).toBe(true);
  }
  // a shorter view of the same buffer, as the last chunk of a file
  trace.read(0, PAGE - 4, into.subarray(0, 8));
  expect(into.subarray(0, 8).equals(expected(size, PAGE - 4, 8, writes))).toBe(true);
});

test('read keeps no page that no write touched', () => {
  const trace = image(4 * PAGE);
  trace.apply(0, 10, Uint8Array.from([9]), { index: 1, address: 0 });
  trace.read(0, 0, Buffer.alloc(4 * PAGE));
  expect(trace.heldPages()).toBe(1);
});
