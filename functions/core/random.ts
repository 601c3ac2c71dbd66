/**
 * Seeded pseudo-random numbers for the core. Everything random in the domain (genome seeding,
 * mutation, synthetic fixtures) draws from a {@link Random} built from an explicit seed, so a
 * run is reproducible bit for bit; the core never calls `Math.random()`.
 *
 * Generator: sfc32 ("Small Fast Counting", 32-bit) by Chris Doty-Humphrey, from the PractRand
 * suite (http://pracrand.sourceforge.net/), as transcribed for JavaScript in bryc's
 * "PRNGs.md" (https://github.com/bryc/code/blob/master/jshash/PRNGs.md). 128-bit state with a
 * 32-bit counter (minimum period 2^32, average about 2^127); passes PractRand and TestU01
 * BigCrush. Not cryptographic.
 */
import { ValidationError } from './errors.js';

/** A deterministic random source. */
export interface Random {
  /** Uniform float in [0, 1) with 32 bits of resolution. */
  next(): number;
  /** Uniform integer in [min, max], both inclusive. @throws ValidationError if not integers or min > max. */
  int(min: number, max: number): number;
  /** Uniform float in [min, max). @throws ValidationError if min > max or not finite. */
  uniform(min: number, max: number): number;
  /** A uniformly chosen element. @throws ValidationError when `items` is empty. */
  pick<T>(items: readonly T[]): T;
  /** Standard normal draw (mean 0, variance 1), Box-Muller transform (Box & Muller, 1958). */
  normal(): number;
}

const TWO_POW_32 = 4_294_967_296;

/**
 * sfc32 seeded from one 32-bit integer. The state is initialised with fixed constants
 * (fractional digits of φ, π and e) plus the seed, then 15 outputs are discarded so nearby
 * seeds decorrelate, as bryc's notes recommend.
 *
 * @param seed any safe integer; it is reduced modulo 2^32.
 * @throws ValidationError('seed') when `seed` is not a safe integer.
 */
export function createRandom(seed: number): Random {
  if (!Number.isSafeInteger(seed)) {
    throw new ValidationError('seed', `must be an integer, got ${seed}`);
  }
  let a = 0x9e3779b9 | 0;
  let b = 0x243f6a88 | 0;
  let c = 0xb7e15162 | 0;
  let d = Number(BigInt.asUintN(32, BigInt(seed))) | 0;

  const nextUint32 = (): number => {
    a |= 0;
    b |= 0;
    c |= 0;
    d |= 0;
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return t >>> 0;
  };
  for (let i = 0; i < 15; i++) nextUint32();

  const next = (): number => nextUint32() / TWO_POW_32;

  return {
    next,
    int(min: number, max: number): number {
      if (!Number.isSafeInteger(min) || !Number.isSafeInteger(max) || min > max) {
        throw new ValidationError(
          'min',
          `int(min, max) needs integers with min <= max, got [${min}, ${max}]`,
        );
      }
      return min + Math.floor(next() * (max - min + 1));
    },
    uniform(min: number, max: number): number {
      if (!Number.isFinite(min) || !Number.isFinite(max) || min > max) {
        throw new ValidationError(
          'min',
          `uniform(min, max) needs finite min <= max, got [${min}, ${max}]`,
        );
      }
      return min + next() * (max - min);
    },
    pick<T>(items: readonly T[]): T {
      if (items.length === 0) throw new ValidationError('items', 'cannot pick from an empty list');
      return items[Math.floor(next() * items.length)] as T;
    },
    normal(): number {
      // 1 - next() lies in (0, 1], so the logarithm is finite.
      const u1 = 1 - next();
      const u2 = next();
      return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
    },
  };
}
