import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { evaluateGates, type GateInput } from '../../../functions/core/gates/evaluate.js';
import { DEFAULT_GATE_THRESHOLDS } from '../../../functions/core/gates/thresholds.js';
import { type GateName, ORDER_GATE_NAMES } from '../../../functions/core/gates/types.js';
import { type FullGateInput, passingInput } from './fixtures.js';

type Mutation = readonly [
  string,
  (input: FullGateInput, bad: never) => GateInput,
  readonly GateName[],
];

const RISK: readonly GateName[] = [
  'var_historical',
  'var_parametric',
  'es_historical',
  'es_parametric',
];
const EXPOSURE: readonly GateName[] = ['exposure_symbol', 'exposure_aggregate'];
const PARTICIPATION: readonly GateName[] = [
  'liquidity_minute_participation',
  'liquidity_daily_participation',
];
const LIQUIDITY: readonly GateName[] = [...PARTICIPATION, 'liquidity_spread'];

/** Every observed input, how to spoil it, and the gates that must then fail closed. */
const MUTATIONS: readonly Mutation[] = [
  ['nowMs', (i, b) => ({ ...i, nowMs: b }), ['data_staleness', 'promotion_window']],
  ['capitalUsd', (i, b) => ({ ...i, capitalUsd: b }), EXPOSURE],
  ['killSwitch', (i, b) => ({ ...i, killSwitch: b }), ['kill_switch']],
  ['killSwitch.state', (i, b) => ({ ...i, killSwitch: { state: b } }), ['kill_switch']],
  ['drawdown', (i, b) => ({ ...i, drawdown: b }), ['drawdown_parent', 'drawdown_agent']],
  [
    'drawdown.parent',
    (i, b) => ({
      ...i,
      drawdown: { ...i.drawdown, parentDrawdownFraction: b, agentDrawdownFraction: 0 },
    }),
    ['drawdown_parent'],
  ],
  [
    'drawdown.agent',
    (i, b) => ({ ...i, drawdown: { parentDrawdownFraction: 0, agentDrawdownFraction: b } }),
    ['drawdown_agent'],
  ],
  ['risk', (i, b) => ({ ...i, risk: b }), RISK],
  ['risk.minuteReturns', (i, b) => ({ ...i, risk: { ...i.risk, minuteReturns: b } }), RISK],
  [
    'risk.minuteReturns[200]',
    (i, b) => {
      const returns = [...(i.risk.minuteReturns ?? [])];
      returns[200] = b;
      return { ...i, risk: { ...i.risk, minuteReturns: returns } };
    },
    RISK,
  ],
  ['risk.minutesPerSession', (i, b) => ({ ...i, risk: { ...i.risk, minutesPerSession: b } }), RISK],
  ['risk.capitalSliceUsd', (i, b) => ({ ...i, risk: { ...i.risk, capitalSliceUsd: b } }), RISK],
  ['positionsAfterTrade', (i, b) => ({ ...i, positionsAfterTrade: b }), EXPOSURE],
  [
    'positionsAfterTrade[0].notionalUsd',
    (i, b) => ({ ...i, positionsAfterTrade: [{ symbol: 'SPY', notionalUsd: b }] }),
    EXPOSURE,
  ],
  ['leverage', (i, b) => ({ ...i, leverage: b }), ['leverage']],
  [
    'leverage.grossNotionalUsd',
    (i, b) => ({ ...i, leverage: { equityUsd: 1000, grossNotionalUsd: b } }),
    ['leverage'],
  ],
  [
    'leverage.equityUsd',
    (i, b) => ({ ...i, leverage: { grossNotionalUsd: 1000, equityUsd: b } }),
    ['leverage'],
  ],
  ['trades', (i, b) => ({ ...i, trades: b }), ['min_trade_count']],
  ['trades.tradeCount', (i, b) => ({ ...i, trades: { tradeCount: b } }), ['min_trade_count']],
  ['liquidity', (i, b) => ({ ...i, liquidity: b }), LIQUIDITY],
  [
    'liquidity.orderQty',
    (i, b) => ({ ...i, liquidity: { ...i.liquidity, orderQty: b } }),
    PARTICIPATION,
  ],
  [
    'liquidity.minuteVolume',
    (i, b) => ({ ...i, liquidity: { ...i.liquidity, minuteVolume: b } }),
    ['liquidity_minute_participation'],
  ],
  [
    'liquidity.dailyVolume',
    (i, b) => ({ ...i, liquidity: { ...i.liquidity, dailyVolume: b } }),
    ['liquidity_daily_participation'],
  ],
  [
    'liquidity.bidUsd',
    (i, b) => ({ ...i, liquidity: { ...i.liquidity, bidUsd: b } }),
    ['liquidity_spread'],
  ],
  [
    'liquidity.askUsd',
    (i, b) => ({ ...i, liquidity: { ...i.liquidity, askUsd: b } }),
    ['liquidity_spread'],
  ],
  ['staleness', (i, b) => ({ ...i, staleness: b }), ['data_staleness']],
  ['staleness.lastBarMs', (i, b) => ({ ...i, staleness: { lastBarMs: b } }), ['data_staleness']],
  ['window', (i, b) => ({ ...i, window: b }), ['promotion_window']],
  ['window.isTradingDay', (i, b) => ({ ...i, window: { isTradingDay: b } }), ['promotion_window']],
];

const BAD_VALUES = [
  null,
  undefined,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  Number.NEGATIVE_INFINITY,
];

describe('evaluateGates', () => {
  it('passes a healthy candidate on every order-time gate, in GATE_NAMES order', () => {
    // Act
    const out = evaluateGates(passingInput(), DEFAULT_GATE_THRESHOLDS);
    // Assess
    expect(out.results.map((r) => r.gate)).toEqual([...ORDER_GATE_NAMES]);
    expect(out.results.filter((r) => r.verdict === 'fail')).toEqual([]);
    expect(out.passed).toBe(true);
    expect(out.strongestAction).toBe('none');
  });

  it('fails closed with flatten when the kill switch is unreadable', () => {
    // Prepare
    const input = { ...passingInput(), killSwitch: { state: 'unknown' as const } };
    // Act
    const out = evaluateGates(input, DEFAULT_GATE_THRESHOLDS);
    // Assess
    expect(out.passed).toBe(false);
    expect(out.strongestAction).toBe('flatten');
    expect(out.results.find((r) => r.gate === 'kill_switch')).toMatchObject({
      verdict: 'fail',
      observed: 'unknown',
    });
  });

  it('reports the strongest action among several failures', () => {
    // Prepare: stale data (pause_entries) and too much leverage (reduce_only)
    const base = passingInput();
    const input: GateInput = {
      ...base,
      staleness: { lastBarMs: base.nowMs - 3_600_000 },
      leverage: { grossNotionalUsd: 100_000, equityUsd: 5_000 },
    };
    // Act
    const out = evaluateGates(input, DEFAULT_GATE_THRESHOLDS);
    // Assess
    expect(out.results.filter((r) => r.verdict === 'fail').map((r) => r.gate)).toEqual([
      'leverage',
      'data_staleness',
    ]);
    expect(out.strongestAction).toBe('reduce_only');
  });

  it('never passes on missing or non-finite data: the gates that need it fail closed (property)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...MUTATIONS),
        fc.constantFrom(...BAD_VALUES),
        ([, spoil, affected], bad) => {
          // Prepare
          const input = spoil(passingInput(), bad as never);
          // Act
          const out = evaluateGates(input, DEFAULT_GATE_THRESHOLDS);
          // Assess
          expect(out.passed).toBe(false);
          for (const r of out.results) {
            if (affected.includes(r.gate)) {
              expect(r).toMatchObject({ verdict: 'fail', observed: null });
              expect(r.reason.length).toBeGreaterThan(0);
            } else {
              expect(r.verdict).toBe('pass');
            }
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
