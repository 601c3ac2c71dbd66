import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../functions/core/errors.js';
import {
  downsampleIndices,
  MAX_POINTS_PER_SERIES,
} from '../../../functions/core/report/downsample.js';

const finite = fc.double({ min: -1e6, max: 1e6, noNaN: true, noDefaultInfinity: true });

describe('downsampleIndices', () => {
  it('keeps every point of a series that already fits', () => {
    // Prepare
    const values = [3, 1, 4, 1, 5];

    // Act
    const keep = downsampleIndices(values, 5);

    // Assess
    expect(keep).toEqual([0, 1, 2, 3, 4]);
  });

  it('cuts a 1,440-minute curve to at most 400 points, keeping both ends and the extremes', () => {
    // Prepare
    const values = Array.from(
      { length: 1_440 },
      (_, t) => 1_000 + 50 * Math.sin(t / 90) + (t === 700 ? 500 : 0),
    );
    values[901] = -2_000;

    // Act
    const keep = downsampleIndices(values);

    // Assess
    expect(MAX_POINTS_PER_SERIES).toBe(400);
    expect(keep.length).toBeLessThanOrEqual(400);
    expect(keep.length).toBeGreaterThan(300);
    expect(keep[0]).toBe(0);
    expect(keep.at(-1)).toBe(1_439);
    expect(keep).toContain(700);
    expect(keep).toContain(901);
  });

  it('for any series: <= maxPoints ascending unique indices, first, last, min and max kept', () => {
    fc.assert(
      fc.property(
        fc.array(finite, { minLength: 1, maxLength: 3_000 }),
        fc.integer({ min: 4, max: 500 }),
        (values, maxPoints) => {
          // Act
          const keep = downsampleIndices(values, maxPoints);

          // Assess
          expect(keep.length).toBeLessThanOrEqual(maxPoints);
          for (let i = 1; i < keep.length; i++) {
            expect(keep[i] as number).toBeGreaterThan(keep[i - 1] as number);
          }
          expect(keep[0]).toBe(0);
          expect(keep.at(-1)).toBe(values.length - 1);
          const kept = keep.map((i) => values[i] as number);
          expect(Math.min(...kept)).toBe(Math.min(...values));
          expect(Math.max(...kept)).toBe(Math.max(...values));
        },
      ),
      { numRuns: 200 },
    );
  });

  it('never picks a NaN as a bucket minimum or maximum', () => {
    // Prepare
    const values = Array.from({ length: 1_000 }, (_, t) => (t % 3 === 0 ? Number.NaN : t));

    // Act
    const keep = downsampleIndices(values, 100);

    // Assess
    const interior = keep.slice(1, -1).map((i) => values[i] as number);
    expect(interior.every(Number.isFinite)).toBe(true);
    expect(keep).toContain(998);
  });

  it('rejects a maxPoints below 4 with a ValidationError', () => {
    // Act / Assess
    expect(() => downsampleIndices([1, 2, 3], 3)).toThrow(ValidationError);
    expect(() => downsampleIndices([1, 2, 3], 10.5)).toThrow(/maxPoints/);
  });
});
