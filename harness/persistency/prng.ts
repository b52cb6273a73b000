// prng -- a small seeded generator for reproducible px86 selections.
//
// A 32-bit Weyl sequence passed through a bijective finalizer: cheap, and the
// same (seed, stream) always gives the same numbers.

import { mix32 } from '../image/line-hash';

function low(x: number): number {
  return x >>> 0;
}

function high(x: number): number {
  return Math.floor(x / 0x100000000) >>> 0;
}

export class Prng {
  private state: number;

  /** `seed` is the user's seed, `stream` picks an independent sequence (the
   *  crash group's first point); both are safe integers. */
  constructor(seed: number, stream: number) {
    let s = mix32(low(seed) ^ 0x2545f491);
    s = mix32(s ^ high(seed));
    s = mix32(s ^ low(stream) ^ 0x6c078965);
    s = mix32(s ^ high(stream));
    this.state = s;
  }

  /** next -- a uniform 32-bit unsigned integer. */
  next(): number {
    this.state = (this.state + 0x9e3779b9) >>> 0;
    return mix32(this.state);
  }

  /** below -- a uniform integer in [0, n), for 0 < n <= 2^32. */
  below(n: number): number {
    return Math.floor((this.next() / 0x100000000) * n);
  }
}
