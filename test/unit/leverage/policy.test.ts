import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../functions/core/errors.js';
import {
  DEFAULT_LEVERAGE_POLICY,
  initialLeverage,
  type LeverageEvent,
  type LeverageRule,
  nextLeverage,
  rollingSharpe,
} from '../../../functions/core/leverage/policy.js';

const day = (
  dayPnlUsd: number,
  rollingSharpe: number | null,
  drawdownFraction: number,
): LeverageEvent => ({ kind: 'day_closed', dayPnlUsd, rollingSharpe, drawdownFraction });

describe('initialLeverage', () => {
  it('starts at 2x', () => {
    // Act
    const d = initialLeverage();
    // Assess
    expect(d).toMatchObject({ previous: null, next: 2, rule: 'initial' });
    expect(d.rationale).toContain('2x');
  });
});

describe('nextLeverage (default policy)', () => {
  it.each<[string, number, LeverageEvent, number, LeverageRule, string[]]>([
    [
      'good day steps up',
      2,
      day(5, 1.8, 0.01),
      3,
      'step_up',
      ['1.80 > 1.5', '1.00% < 3.00%', '2x -> 3x'],
    ],
    ['good day at 9x reaches the cap', 9, day(5, 2, 0.0), 10, 'step_up', ['9x -> 10x', 'cap 10x']],
    [
      'good day at the cap holds',
      10,
      day(5, 3, 0.0),
      10,
      'hold_at_cap',
      ['already at the cap 10x'],
    ],
    ['Sharpe exactly 1.5 holds', 3, day(5, 1.5, 0.01), 3, 'hold', ['1.50 <= 1.5']],
    ['drawdown exactly 3% holds', 3, day(5, 2, 0.03), 3, 'hold', ['3.00% >= 3.00%']],
    [
      'both unmet holds and names both',
      3,
      day(5, 0.4, 0.05),
      3,
      'hold',
      ['0.40 <= 1.5', '5.00% >= 3.00%'],
    ],
    ['no Sharpe yet never steps up', 2, day(5, null, 0.0), 2, 'hold', ['n/a (too few days)']],
    ['flat day with good stats steps up', 2, day(0, 2, 0.0), 3, 'step_up', ['$0.00']],
    [
      'losing day steps down',
      5,
      day(-12.3, 2.5, 0.01),
      4,
      'step_down_loss',
      ['-$12.30 < $0', '5x -> 4x'],
    ],
    [
      'losing day at 2x goes to the floor',
      2,
      day(-1, 0, 0.02),
      1,
      'step_down_loss',
      ['2x -> 1x', 'floor 1x'],
    ],
    [
      'losing day at the floor holds',
      1,
      day(-1, 0, 0.02),
      1,
      'hold_at_floor',
      ['already at the floor 1x'],
    ],
    [
      'NaN PnL fails closed',
      4,
      day(Number.NaN, 2, 0.01),
      3,
      'step_down_missing_data',
      ['day PnL NaN', '4x -> 3x'],
    ],
    [
      'NaN drawdown fails closed',
      4,
      day(5, 2, Number.NaN),
      3,
      'step_down_missing_data',
      ['drawdown NaN'],
    ],
    [
      'infinite Sharpe fails closed',
      4,
      day(5, Number.POSITIVE_INFINITY, 0),
      3,
      'step_down_missing_data',
      ['rolling Sharpe Infinity'],
    ],
    [
      'missing data at the floor stays at the floor',
      1,
      day(Number.NaN, null, 0),
      1,
      'step_down_missing_data',
      ['1x -> 1x'],
    ],
    [
      'rollback resets 7x to the start',
      7,
      { kind: 'rollback', reason: 'drawdown 6% > 5%' },
      2,
      'reset_after_rollback',
      ['drawdown 6% > 5%', '7x -> 2x'],
    ],
    [
      'rollback never raises 1x',
      1,
      { kind: 'rollback', reason: 'variance' },
      1,
      'reset_after_rollback',
      ['1x -> 1x'],
    ],
    [
      'a previous above the cap is clamped first',
      12,
      day(-1, 0, 0),
      9,
      'step_down_loss',
      ['clamped to 10x'],
    ],
  ])('%s', (_name, previous, event, next, rule, fragments) => {
    // Act
    const d = nextLeverage(previous, event);
    // Assess
    expect(d).toMatchObject({ previous, next, rule });
    for (const f of fragments) expect(d.rationale).toContain(f);
  });

  it('stays within [1x, 10x] and moves at most one step, whatever happens (property)', () => {
    const num = fc.oneof(fc.double({ noNaN: false }), fc.constant(Number.NaN));
    const event = fc.oneof(
      fc.record({
        kind: fc.constant('day_closed' as const),
        dayPnlUsd: num,
        rollingSharpe: fc.oneof(num, fc.constant(null)),
        drawdownFraction: num,
      }),
      fc.record({ kind: fc.constant('rollback' as const), reason: fc.string() }),
    );
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10 }), event, (previous, e) => {
        // Act
        const d = nextLeverage(previous, e);
        // Assess
        expect(d.next).toBeGreaterThanOrEqual(1);
        expect(d.next).toBeLessThanOrEqual(10);
        if (e.kind === 'day_closed') expect(Math.abs(d.next - previous)).toBeLessThanOrEqual(1);
        else expect(d.next).toBeLessThanOrEqual(previous);
        expect(d.rationale.length).toBeGreaterThan(0);
      }),
    );
  });

  it('climbs from 2x to the 10x cap in eight good days, then holds', () => {
    // Prepare
    let lev = initialLeverage().next;
    const rules: LeverageRule[] = [];
    // Act
    for (let i = 0; i < 9; i++) {
      const d = nextLeverage(lev, day(10, 2, 0.005));
      rules.push(d.rule);
      lev = d.next;
    }
    // Assess
    expect(lev).toBe(10);
    expect(rules.filter((r) => r === 'step_up')).toHaveLength(8);
    expect(rules.at(-1)).toBe('hold_at_cap');
  });

  it('honours a custom policy and rejects an invalid one', () => {
    // Prepare
    const policy = { ...DEFAULT_LEVERAGE_POLICY, stepLeverage: 0.5, maxLeverage: 3 };
    // Act
    const d = nextLeverage(2.8, day(1, 2, 0), policy);
    // Assess
    expect(d.next).toBe(3);
    expect(() =>
      nextLeverage(2, day(1, 2, 0), { ...DEFAULT_LEVERAGE_POLICY, startLeverage: 11 }),
    ).toThrow(ValidationError);
    expect(() => nextLeverage(Number.NaN, day(1, 2, 0))).toThrow(ValidationError);
  });
});

describe('rollingSharpe', () => {
  it('annualizes the last window of daily returns with sqrt(252)', () => {
    // Prepare
    const returns = [0.01, -0.005, 0.02, 0.0, 0.004];
    const m = returns.reduce((a, b) => a + b, 0) / returns.length;
    const sd = Math.sqrt(returns.reduce((a, r) => a + (r - m) ** 2, 0) / (returns.length - 1));
    // Act
    const s = rollingSharpe([0.5, -0.5, ...returns], 5, 5);
    // Assess
    expect(s).toBeCloseTo((m / sd) * Math.sqrt(252), 10);
  });

  it('is null with too few or non-finite returns', () => {
    // Act / Assess
    expect(rollingSharpe([0.01, 0.02], 20, 2)).not.toBeNull();
    expect(rollingSharpe([0.01, 0.02, 0.03], 20, 3.5)).toBeNull();
    expect(rollingSharpe([0.01, Number.NaN, 0.02, 0.03], 20, 2)).toBeNull();
  });

  it('is not annualized below 20 daily returns by default, and uses 20 once they exist', () => {
    // Prepare
    const days = Array.from({ length: 25 }, (_, i) => (i % 3 === 0 ? -0.002 : 0.004));
    const last20 = days.slice(-20);
    const m = last20.reduce((a, b) => a + b, 0) / 20;
    const sd = Math.sqrt(last20.reduce((a, r) => a + (r - m) ** 2, 0) / 19);
    // Act / Assess
    expect(rollingSharpe(days.slice(0, 19))).toBeNull();
    expect(rollingSharpe(days)).toBeCloseTo((m / sd) * Math.sqrt(252), 10);
    expect(DEFAULT_LEVERAGE_POLICY.minSharpeSessions).toBe(20);
  });
});
