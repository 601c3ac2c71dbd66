import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../functions/core/errors.js';
import { createRandom } from '../../../functions/core/random.js';

describe('createRandom (sfc32)', () => {
  it('repeats the same sequence for the same seed', () => {
    // Prepare
    const a = createRandom(42);
    const b = createRandom(42);

    // Act
    const first = Array.from({ length: 100 }, () => a.next());
    const second = Array.from({ length: 100 }, () => b.next());

    // Assess
    expect(second).toEqual(first);
  });

  it('gives different sequences for neighbouring seeds', () => {
    // Prepare
    const a = createRandom(1);
    const b = createRandom(2);

    // Act
    const first = Array.from({ length: 10 }, () => a.next());
    const second = Array.from({ length: 10 }, () => b.next());

    // Assess
    expect(second).not.toEqual(first);
  });

  it('draws next() in [0, 1) and int(min, max) inclusive of both ends', () => {
    // Prepare
    const rng = createRandom(7);

    // Act
    const floats = Array.from({ length: 10_000 }, () => rng.next());
    const ints = Array.from({ length: 10_000 }, () => rng.int(-2, 3));

    // Assess
    expect(Math.min(...floats)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...floats)).toBeLessThan(1);
    expect(new Set(ints)).toEqual(new Set([-2, -1, 0, 1, 2, 3]));
  });

  it('draws normal() with mean about 0 and variance about 1', () => {
    // Prepare
    const rng = createRandom(3);

    // Act
    const xs = Array.from({ length: 50_000 }, () => rng.normal());
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
    const variance = xs.reduce((s, x) => s + (x - mean) ** 2, 0) / (xs.length - 1);

    // Assess (standard error of the mean is 1/√50000 ≈ 0.0045)
    expect(Math.abs(mean)).toBeLessThan(0.02);
    expect(Math.abs(variance - 1)).toBeLessThan(0.03);
  });

  it('picks only elements of the list', () => {
    // Prepare
    const rng = createRandom(9);
    const items = ['SPY', 'BAC', 'AIG'] as const;

    // Act
    const picked = Array.from({ length: 300 }, () => rng.pick(items));

    // Assess
    expect(new Set(picked)).toEqual(new Set(items));
  });

  it('keeps int(min, max) inside its bounds for any seed and range', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 ** 32 - 1 }),
        fc.integer({ min: -1_000, max: 1_000 }),
        fc.integer({ min: 0, max: 1_000 }),
        (seed, min, width) => {
          // Prepare
          const rng = createRandom(seed);

          // Act
          const v = rng.int(min, min + width);

          // Assess
          expect(v).toBeGreaterThanOrEqual(min);
          expect(v).toBeLessThanOrEqual(min + width);
          expect(Number.isInteger(v)).toBe(true);
        },
      ),
    );
  });

  it('rejects a non-integer seed, an empty pick and an inverted range', () => {
    // Prepare
    const rng = createRandom(1);

    // Act / Assess
    expect(() => createRandom(1.5)).toThrow(ValidationError);
    expect(() => rng.pick([])).toThrow(ValidationError);
    expect(() => rng.int(3, 1)).toThrow(ValidationError);
  });
});
