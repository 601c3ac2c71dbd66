/**
 * The CLI's money figures (local/format.ts `usd`): two decimals, thousands separators, the sign
 * before the dollar sign, from one shared formatter.
 */
import { describe, expect, it } from 'vitest';
import { usd } from '../../../local/format.js';

describe('usd', () => {
  it('writes dollars with two decimals, thousands separators and a leading minus', () => {
    expect(usd(1234.5)).toBe('$1,234.50');
    expect(usd(-1234567.891)).toBe('-$1,234,567.89');
    expect(usd(0)).toBe('$0.00');
    expect(usd(-0.004)).toBe('-$0.00');
  });
});
