import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../functions/core/errors.js';
import { drawdownFraction, maxDrawdownFraction } from '../../../functions/core/risk/drawdown.js';

describe('drawdown', () => {
  it('is the fall from the peak as a fraction of the peak', () => {
    expect(drawdownFraction(10_000, 9_000)).toBeCloseTo(0.1, 12);
    expect(drawdownFraction(10_000, 11_000)).toBe(0);
  });

  it('finds the maximum drawdown of an equity curve', () => {
    // Prepare: peak 120 -> trough 90 is 25 %; later 130 -> 117 is 10 %
    const curve = [100, 120, 90, 130, 117];
    // Act / Assess
    expect(maxDrawdownFraction(curve)).toBeCloseTo(0.25, 12);
    expect(maxDrawdownFraction([])).toBe(0);
  });

  it('rejects a non-positive peak and non-finite points', () => {
    expect(() => drawdownFraction(0, 1)).toThrow(ValidationError);
    expect(() => maxDrawdownFraction([100, Number.NaN])).toThrow(ValidationError);
  });
});
