/**
 * The CLI's money figures (local/format.ts `usd`): two decimals, thousands separators, the sign
 * before the dollar sign, from one shared formatter; the gate table's verdicts and counts.
 */
import { describe, expect, it } from 'vitest';
import { gatesTable, usd } from '../../../local/format.js';

describe('usd', () => {
  it('writes dollars with two decimals, thousands separators and a leading minus', () => {
    expect(usd(1234.5)).toBe('$1,234.50');
    expect(usd(-1234567.891)).toBe('-$1,234,567.89');
    expect(usd(0)).toBe('$0.00');
    expect(usd(-0.004)).toBe('-$0.00');
  });
});

describe('gatesTable', () => {
  const row = (gate: string, verdict: string) => ({
    gate,
    verdict,
    observed: 1,
    threshold: 2,
    unit: 'x',
    breakerAction: 'none',
  });

  it('prints a gate not judged yet as NOT JUDGED and counts it apart, never as a pass', () => {
    const text = gatesTable([
      row('kill_switch', 'pass'),
      row('leverage', 'fail'),
      row('baseline', 'not_judged'),
    ]);
    expect(text).toMatch(/baseline\s+NOT JUDGED/);
    expect(text).toMatch(/leverage\s+FAIL/);
    expect(text).toContain(
      'gates: 1 passed, 1 failed, 1 not judged (a gate not judged yet does not block)',
    );
  });

  it('says nothing of "not judged" when every gate was judged', () => {
    const text = gatesTable([row('kill_switch', 'pass'), row('leverage', 'pass')]);
    expect(text).toContain('gates: 2 passed, 0 failed');
    expect(text).not.toContain('not judged');
  });
});
