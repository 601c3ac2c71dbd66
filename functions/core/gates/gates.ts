/**
 * The promotion gates / circuit breakers, one pure function each:
 * `(observation, thresholds) → GateResult`.
 *
 * Rules every gate follows:
 * - **Fail closed**: a missing (`null`/`undefined`), `NaN` or infinite input, or a value that
 *   makes the measure undefined (non-positive capital, equity or volume, a bar from the future,
 *   a crossed quote), gives `verdict: 'fail'`, `observed: null` and a reason naming the input.
 *   A gate never passes on missing data. A non-finite threshold also fails closed.
 * - **Monotone**: on valid inputs the verdict is a threshold comparison of one observed number,
 *   so a worse observation (larger drawdown, VaR, exposure, leverage, participation, spread or
 *   bar age; fewer trades) never turns a fail into a pass.
 * - Each gate reports its declared {@link GATE_BREAKER_ACTIONS} action when it fails.
 */
import { TZDate } from '@date-fns/tz';
import { type Market, marketTimeZone, NYSE_TIME_ZONE } from '../calendar/market-calendar.js';
import { StagegateError } from '../errors.js';
import { type SessionRiskMeasure, sessionRiskFromMinutes } from '../risk/strategy-pnl.js';
import {
  historicalExpectedShortfall,
  historicalVar,
  parametricExpectedShortfall,
  parametricVar,
} from '../risk/var.js';
import type { GateThresholds } from './thresholds.js';
import { GATE_BREAKER_ACTIONS, type GateName, type GateResult } from './types.js';

/** A value that may be absent or unusable at run time (JSON `null`, `NaN`, ...). */
export type Maybe<T> = T | null | undefined;

/** Exchange time zone of the US-equity promotion window (crypto: {@link promotionWindowOf}). */
export const PROMOTION_WINDOW_TIME_ZONE = NYSE_TIME_ZONE;

const isFiniteNumber = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);

/** Compact number for reasons: 6 significant digits, no trailing zeros. */
const fmt = (x: number): string => String(Number(x.toPrecision(6)));

function result(
  gate: GateName,
  pass: boolean,
  observed: number | string | null,
  threshold: number | string | null,
  unit: string,
  reason: string,
): GateResult {
  return {
    gate,
    verdict: pass ? 'pass' : 'fail',
    observed,
    threshold,
    unit,
    reason,
    breakerAction: pass ? 'none' : GATE_BREAKER_ACTIONS[gate],
  };
}

/** Fail-closed result: the observation could not be made. */
function failClosed(
  gate: GateName,
  threshold: number | string | null,
  unit: string,
  why: string,
): GateResult {
  return result(gate, false, null, threshold, unit, `${why}: failing closed`);
}

/** Pass iff `observed <= max` (both finite). */
function atMost(
  gate: GateName,
  label: string,
  observed: number,
  max: number,
  unit: string,
  detail = '',
): GateResult {
  if (!isFiniteNumber(max)) return failClosed(gate, null, unit, `threshold for ${label} missing`);
  if (!isFiniteNumber(observed)) {
    return failClosed(gate, max, unit, `${label} is not a finite number (${observed})`);
  }
  const pass = observed <= max;
  const cmp = pass ? 'within' : 'exceeds';
  return result(
    gate,
    pass,
    observed,
    max,
    unit,
    `${label} ${fmt(observed)} ${cmp} max ${fmt(max)} (${unit})${detail}`,
  );
}

/** Pass iff `observed >= min` (both finite). */
function atLeast(
  gate: GateName,
  label: string,
  observed: number,
  min: number,
  unit: string,
): GateResult {
  if (!isFiniteNumber(min)) return failClosed(gate, null, unit, `threshold for ${label} missing`);
  if (!isFiniteNumber(observed)) {
    return failClosed(gate, min, unit, `${label} is not a finite number (${observed})`);
  }
  const pass = observed >= min;
  const cmp = pass ? 'meets' : 'is below';
  return result(
    gate,
    pass,
    observed,
    min,
    unit,
    `${label} ${fmt(observed)} ${cmp} min ${fmt(min)}`,
  );
}

// ---------------------------------------------------------------------------------------------
// Kill switch

/** Kill switch flag: `on` = trading halted, `off` = trading allowed, `unknown` = unreadable. */
export type KillSwitchState = 'on' | 'off' | 'unknown';

/** Observation of the kill switch flag. */
export interface KillSwitchObservation {
  readonly state: Maybe<KillSwitchState>;
}

/**
 * Kill switch gate: passes only when the flag reads `off`. `on` fails; `unknown` (the flag
 * store could not be read) or a missing/unrecognised value fails closed. Action: `flatten`.
 */
export function killSwitchGate(input: Maybe<KillSwitchObservation>): GateResult {
  const gate = 'kill_switch';
  const state = input?.state;
  if (state === 'off') return result(gate, true, 'off', 'off', 'state', 'kill switch is off');
  if (state === 'on') return result(gate, false, 'on', 'off', 'state', 'kill switch is on');
  if (state === 'unknown') {
    return result(
      gate,
      false,
      'unknown',
      'off',
      'state',
      'kill switch state unknown (flag unreadable): failing closed',
    );
  }
  return failClosed(
    gate,
    'off',
    'state',
    `kill switch state missing or invalid (${String(state)})`,
  );
}

// ---------------------------------------------------------------------------------------------
// Drawdown circuit breakers

/** Current drawdowns from peak equity, fractions of the peak (see `risk/drawdown.ts`). */
export interface DrawdownObservation {
  /** Parent wallet (bankroll) drawdown, fraction of its peak equity. */
  readonly parentDrawdownFraction: Maybe<number>;
  /** Candidate agent drawdown, fraction of its peak equity. */
  readonly agentDrawdownFraction: Maybe<number>;
}

const FRACTION_OF_PEAK = 'fraction of peak equity';

/**
 * Parent wallet drawdown breaker: passes iff `parentDrawdownFraction ≤
 * maxParentDrawdownFraction`. Action: `flatten`.
 */
export function parentDrawdownGate(
  input: Maybe<Pick<DrawdownObservation, 'parentDrawdownFraction'>>,
  t: Pick<GateThresholds, 'maxParentDrawdownFraction'>,
): GateResult {
  const dd = input?.parentDrawdownFraction;
  if (!isFiniteNumber(dd)) {
    return failClosed(
      'drawdown_parent',
      t.maxParentDrawdownFraction,
      FRACTION_OF_PEAK,
      'parent drawdown missing',
    );
  }
  return atMost(
    'drawdown_parent',
    'parent drawdown',
    dd,
    t.maxParentDrawdownFraction,
    FRACTION_OF_PEAK,
  );
}

/**
 * Agent drawdown breaker: passes iff `agentDrawdownFraction ≤ maxAgentDrawdownFraction`.
 * Action: `reduce_only`.
 */
export function agentDrawdownGate(
  input: Maybe<Pick<DrawdownObservation, 'agentDrawdownFraction'>>,
  t: Pick<GateThresholds, 'maxAgentDrawdownFraction'>,
): GateResult {
  const dd = input?.agentDrawdownFraction;
  if (!isFiniteNumber(dd)) {
    return failClosed(
      'drawdown_agent',
      t.maxAgentDrawdownFraction,
      FRACTION_OF_PEAK,
      'agent drawdown missing',
    );
  }
  return atMost(
    'drawdown_agent',
    'agent drawdown',
    dd,
    t.maxAgentDrawdownFraction,
    FRACTION_OF_PEAK,
  );
}

// ---------------------------------------------------------------------------------------------
// VaR and expected shortfall

/**
 * What the VaR / ES gates measure: the candidate strategy's OWN P&L, over the capital slice it
 * will trade (see `risk/strategy-pnl.ts`), and the underlying's intraday history as a second,
 * labelled view reported beside the verdict.
 */
export interface RiskObservation {
  /**
   * The candidate's minute P&L in its own session(s), per USD of its allocation, oldest first
   * (`risk/strategy-pnl.ts#minutePnlReturns`); 0 on a flat minute. With several sessions
   * (`lookbackSessions` > 1) the lookback's minutes pooled, the latest session included.
   */
  readonly minuteReturns: Maybe<readonly number[]>;
  /**
   * Sessions pooled in `minuteReturns` (the lookback), count ≥ 1; absent: one session. Above 1
   * the gate also judges `latestSessionMinuteReturns` and takes the worse of the two.
   */
  readonly lookbackSessions?: Maybe<number>;
  /**
   * The latest session's minute P&L alone (the current regime), same units; required when
   * `lookbackSessions` > 1 (missing: the gate fails closed).
   */
  readonly latestSessionMinuteReturns?: Maybe<readonly number[]>;
  /** m: minutes in one session of the candidate (390 on a full US equity day), ≥ 1. */
  readonly minutesPerSession: Maybe<number>;
  /** The capital slice the candidate will trade, USD, > 0: the limit is a fraction of it. */
  readonly capitalSliceUsd: Maybe<number>;
  /**
   * Second view: the underlying's adjusted daily OPEN-to-close returns (no overnight gap),
   * fractions, oldest first (`risk/strategy-pnl.ts#intradayReturns`); null without history.
   */
  readonly underlyingIntradayReturns?: Maybe<readonly number[]>;
  /** The candidate's largest intraday gross exposure / its allocation, fraction (≥ 0). */
  readonly maxIntradayExposureFraction?: Maybe<number>;
  /**
   * What the underlying's history is ("history adjusted for split and dividend", "history
   * unadjusted (...)", "no history: ..."), in the second view of the reason.
   */
  readonly historyNote?: Maybe<string>;
}

const FRACTION_OF_SLICE = 'fraction of capital slice';
const FRACTION_OF_CAPITAL = 'fraction of capital';

/** Same measure on the underlying's open-to-close history at the maximum intraday exposure. */
function underlyingView(
  input: RiskObservation,
  measure: SessionRiskMeasure,
  confidence: number,
  minObservations: number,
  sliceUsd: number,
): string {
  const returns = input.underlyingIntradayReturns;
  const exposure = input.maxIntradayExposureFraction;
  const note = input.historyNote ? `, ${input.historyNote}` : '';
  if (!Array.isArray(returns) || returns.some((r) => !isFiniteNumber(r))) {
    return `underlying view: no usable history${note}`;
  }
  if (!isFiniteNumber(exposure) || exposure < 0) {
    return 'underlying view: maximum intraday exposure missing';
  }
  if (returns.length < Math.max(2, minObservations)) {
    return `underlying view: only ${returns.length} sessions of open-to-close history, need ${minObservations}${note}`;
  }
  const notional = exposure * sliceUsd;
  const input1 = { returns, positionNotionalUsd: notional, confidence };
  const usd =
    measure === 'historical_var'
      ? historicalVar(input1)
      : measure === 'parametric_var'
        ? parametricVar(input1)
        : measure === 'historical_es'
          ? historicalExpectedShortfall(input1)
          : parametricExpectedShortfall(input1);
  const worst = Math.max(0, -Math.min(...returns)) * notional;
  return `underlying view (open-to-close, ${returns.length} sessions${note}, at the max intraday exposure ${fmt(notional)} USD): ${fmt(usd / sliceUsd)} of the slice (${fmt(usd)} USD); stressed (worst session of the history): ${fmt(worst)} USD`;
}

/** One sample's one-session risk, fraction of the capital slice, or why it cannot be measured. */
function sampleRisk(
  measure: SessionRiskMeasure,
  returns: Maybe<readonly number[]>,
  m: number,
  confidence: number,
  need: number,
): { fraction: number } | { why: string } {
  if (!Array.isArray(returns)) return { why: "the strategy's minute P&L is missing" };
  if (!(returns.length >= need)) {
    return { why: `only ${returns.length} minute P&L observations, need ${need}` };
  }
  const bad = returns.findIndex((r) => !isFiniteNumber(r));
  if (bad >= 0) return { why: `minute P&L #${bad} is missing or non-finite` };
  try {
    return { fraction: sessionRiskFromMinutes(measure, returns, m, confidence) };
  } catch (err) {
    if (err instanceof StagegateError) return { why: err.message };
    throw err;
  }
}

/**
 * The lookback-and-latest rule (docs/evidence.md, "Risk on the strategy's own P&L"): with
 * several sessions pooled, the measure on the pool AND on the latest session alone, the worse
 * one judged; either unmeasurable fails closed. With one session, that session.
 */
function lookbackAndLatest(
  measure: SessionRiskMeasure,
  input: RiskObservation,
  m: number,
  confidence: number,
  need: number,
): { fraction: number; detail: string } | { why: string } {
  const returns = input.minuteReturns;
  const sessions = input.lookbackSessions ?? 1;
  if (!isFiniteNumber(sessions) || !Number.isInteger(sessions) || sessions < 1) {
    return { why: `lookback sessions missing or invalid (${String(sessions)})` };
  }
  const pooled = sampleRisk(measure, returns, m, confidence, need);
  if ('why' in pooled) return sessions > 1 ? { why: `lookback: ${pooled.why}` } : pooled;
  const n = (returns as readonly number[]).length;
  if (sessions === 1) {
    return { fraction: pooled.fraction, detail: `from ${n} minute P&L observations` };
  }
  const latestReturns = input.latestSessionMinuteReturns;
  const latest = sampleRisk(measure, latestReturns, m, confidence, need);
  if ('why' in latest) return { why: `latest session: ${latest.why}` };
  const worse = latest.fraction > pooled.fraction ? 'the latest session' : 'the lookback';
  return {
    fraction: Math.max(pooled.fraction, latest.fraction),
    detail: `the worse of the lookback (${sessions} sessions pooled, ${n} minute P&L observations): ${fmt(pooled.fraction)} and the latest session (${(latestReturns as readonly number[]).length} observations): ${fmt(latest.fraction)}; ${worse} judged`,
  };
}

function riskGate(
  gate: GateName,
  label: string,
  measure: SessionRiskMeasure,
  input: Maybe<RiskObservation>,
  confidence: number,
  minObservations: number,
  max: number,
): GateResult {
  const unit = FRACTION_OF_SLICE;
  const m = input?.minutesPerSession;
  const slice = input?.capitalSliceUsd;
  if (!input || !Array.isArray(input.minuteReturns))
    return failClosed(gate, max, unit, "the strategy's minute P&L is missing");
  if (!isFiniteNumber(m) || !Number.isInteger(m) || m < 1)
    return failClosed(gate, max, unit, `minutes per session missing or invalid (${String(m)})`);
  // A full session's minutes, or varMinObservations of them (an early close has fewer).
  const need = isFiniteNumber(minObservations) ? Math.max(2, Math.min(minObservations, m)) : NaN;
  const measured = lookbackAndLatest(measure, input, m, confidence, need);
  if ('why' in measured) return failClosed(gate, max, unit, measured.why);
  if (!isFiniteNumber(slice) || slice <= 0) {
    return failClosed(gate, max, unit, `capital slice missing or not positive (${String(slice)})`);
  }
  const { fraction } = measured;
  const second = underlyingView(input, measure, confidence, minObservations, slice);
  return atMost(
    gate,
    `1-session ${label} of the strategy's own P&L at ${fmt(confidence)}`,
    fraction,
    max,
    unit,
    `; ${fmt(fraction * slice)} USD on the ${fmt(slice)} USD slice, ${measured.detail}, √${m} scaling; ${second}`,
  );
}

type VarThresholds = Pick<
  GateThresholds,
  'varConfidence' | 'varMinObservations' | 'maxVar1dFraction'
>;
type EsThresholds = Pick<
  GateThresholds,
  'esConfidence' | 'varMinObservations' | 'maxExpectedShortfall1dFraction'
>;

/**
 * Historical-simulation one-session VaR gate on the strategy's own P&L
 * (`risk/strategy-pnl.ts#sessionRiskFromMinutes`, √m × the empirical minute VaR): passes iff
 * VaR_α ≤ `maxVar1dFraction` of the capital slice, α = `varConfidence`; fewer than
 * min(`varMinObservations`, m) minute observations fails closed. The reason also states the
 * underlying's open-to-close view and its stressed figure (labelled, not the verdict).
 * Action: `pause_entries`.
 */
export function historicalVarGate(input: Maybe<RiskObservation>, t: VarThresholds): GateResult {
  return riskGate(
    'var_historical',
    'historical VaR',
    'historical_var',
    input,
    t.varConfidence,
    t.varMinObservations,
    t.maxVar1dFraction,
  );
}

/**
 * Parametric (Gaussian) one-session VaR gate on the strategy's own P&L (m·μ, √m·σ of its
 * minute P&L; `risk/strategy-pnl.ts`): passes iff VaR_α ≤ `maxVar1dFraction` of the capital
 * slice. Action: `pause_entries`.
 */
export function parametricVarGate(input: Maybe<RiskObservation>, t: VarThresholds): GateResult {
  return riskGate(
    'var_parametric',
    'parametric VaR',
    'parametric_var',
    input,
    t.varConfidence,
    t.varMinObservations,
    t.maxVar1dFraction,
  );
}

/**
 * Historical one-session expected-shortfall gate on the strategy's own P&L (√m × the
 * empirical minute ES, Acerbi & Tasche 2002): passes iff ES_α ≤
 * `maxExpectedShortfall1dFraction` of the capital slice, α = `esConfidence`.
 * Action: `pause_entries`.
 */
export function historicalEsGate(input: Maybe<RiskObservation>, t: EsThresholds): GateResult {
  return riskGate(
    'es_historical',
    'historical ES',
    'historical_es',
    input,
    t.esConfidence,
    t.varMinObservations,
    t.maxExpectedShortfall1dFraction,
  );
}

/**
 * Parametric (Gaussian) one-session expected-shortfall gate on the strategy's own P&L
 * (`risk/strategy-pnl.ts`), fraction of the capital slice. Action: `pause_entries`.
 */
export function parametricEsGate(input: Maybe<RiskObservation>, t: EsThresholds): GateResult {
  return riskGate(
    'es_parametric',
    'parametric ES',
    'parametric_es',
    input,
    t.esConfidence,
    t.varMinObservations,
    t.maxExpectedShortfall1dFraction,
  );
}

// ---------------------------------------------------------------------------------------------
// Exposure and leverage

/** One position after the candidate trade: signed notional, USD (long > 0, short < 0). */
export interface PositionExposure {
  readonly symbol: string;
  readonly notionalUsd: number;
}

/** Positions of the account after the candidate trade, and the capital limits refer to. */
export interface ExposureObservation {
  /** Post-trade positions; several rows for one symbol are netted. Empty = flat. */
  readonly positions: Maybe<readonly PositionExposure[]>;
  /** Parent wallet equity, USD, > 0. */
  readonly capitalUsd: Maybe<number>;
}

/** Net |notional| per symbol, or a fail-closed reason. */
function netExposures(
  input: Maybe<ExposureObservation>,
): { bySymbol: Map<string, number>; capital: number } | string {
  const positions = input?.positions;
  const capital = input?.capitalUsd;
  if (!Array.isArray(positions)) return 'positions missing';
  if (!isFiniteNumber(capital) || capital <= 0)
    return `capital missing or not positive (${String(capital)})`;
  const bySymbol = new Map<string, number>();
  for (const [i, p] of positions.entries()) {
    if (typeof p?.symbol !== 'string' || !isFiniteNumber(p.notionalUsd)) {
      return `position #${i} has a missing symbol or non-finite notional`;
    }
    bySymbol.set(p.symbol, (bySymbol.get(p.symbol) ?? 0) + p.notionalUsd);
  }
  return { bySymbol, capital };
}

/**
 * Per-symbol exposure gate: passes iff max over symbols of |net notional| / capital ≤
 * `maxSymbolExposureFraction`. Action: `reduce_only`.
 */
export function symbolExposureGate(
  input: Maybe<ExposureObservation>,
  t: Pick<GateThresholds, 'maxSymbolExposureFraction'>,
): GateResult {
  const gate = 'exposure_symbol';
  const net = netExposures(input);
  if (typeof net === 'string')
    return failClosed(gate, t.maxSymbolExposureFraction, FRACTION_OF_CAPITAL, net);
  let worst = 0;
  let worstSymbol = '(none)';
  for (const [symbol, n] of net.bySymbol) {
    if (Math.abs(n) > worst) {
      worst = Math.abs(n);
      worstSymbol = symbol;
    }
  }
  return atMost(
    gate,
    `largest symbol exposure (${worstSymbol})`,
    worst / net.capital,
    t.maxSymbolExposureFraction,
    FRACTION_OF_CAPITAL,
  );
}

/**
 * Aggregate (gross) exposure gate: passes iff Σ |net notional per symbol| / capital ≤
 * `maxAggregateExposureFraction`. Action: `reduce_only`.
 */
export function aggregateExposureGate(
  input: Maybe<ExposureObservation>,
  t: Pick<GateThresholds, 'maxAggregateExposureFraction'>,
): GateResult {
  const gate = 'exposure_aggregate';
  const net = netExposures(input);
  if (typeof net === 'string')
    return failClosed(gate, t.maxAggregateExposureFraction, FRACTION_OF_CAPITAL, net);
  let gross = 0;
  for (const n of net.bySymbol.values()) gross += Math.abs(n);
  return atMost(
    gate,
    'gross exposure',
    gross / net.capital,
    t.maxAggregateExposureFraction,
    FRACTION_OF_CAPITAL,
  );
}

/** The candidate's gross notional and equity. */
export interface LeverageObservation {
  /** Gross notional (Σ |position notional|) of the candidate, USD, ≥ 0. */
  readonly grossNotionalUsd: Maybe<number>;
  /** Candidate equity (its capital slice plus P&L), USD, > 0. */
  readonly equityUsd: Maybe<number>;
}

/**
 * Leverage cap: passes iff grossNotionalUsd / equityUsd ≤ `maxLeverage` (ratio, "x").
 * Non-positive equity or negative gross notional fails closed. Action: `reduce_only`.
 */
export function leverageGate(
  input: Maybe<LeverageObservation>,
  t: Pick<GateThresholds, 'maxLeverage'>,
): GateResult {
  const gate = 'leverage';
  const unit = 'ratio (gross notional / equity)';
  const gross = input?.grossNotionalUsd;
  const equity = input?.equityUsd;
  if (!isFiniteNumber(gross) || gross < 0) {
    return failClosed(
      gate,
      t.maxLeverage,
      unit,
      `gross notional missing or negative (${String(gross)})`,
    );
  }
  if (!isFiniteNumber(equity) || equity <= 0) {
    return failClosed(
      gate,
      t.maxLeverage,
      unit,
      `equity missing or not positive (${String(equity)})`,
    );
  }
  return atMost(gate, 'leverage', gross / equity, t.maxLeverage, unit);
}

// ---------------------------------------------------------------------------------------------
// Trade count

/** Trades the candidate made in its evaluation window. */
export interface TradeCountObservation {
  /** Round trips (a position opened from flat and closed back to flat), count. */
  readonly tradeCount: Maybe<number>;
  /** Fills behind those round trips, count: reported in the reason, never compared. */
  readonly fillCount?: Maybe<number>;
}

/**
 * Minimum trade count (statistical significance of the candidate's record): passes iff its
 * round trips ≥ `minTradeCount`; the reason states the fills beside them. Action: `none`.
 */
export function minTradeCountGate(
  input: Maybe<TradeCountObservation>,
  t: Pick<GateThresholds, 'minTradeCount'>,
): GateResult {
  const count = input?.tradeCount;
  const unit = 'round trips';
  if (!isFiniteNumber(count))
    return failClosed('min_trade_count', t.minTradeCount, unit, 'round-trip count missing');
  const r = atLeast('min_trade_count', 'round trips', count, t.minTradeCount, unit);
  const fills = input?.fillCount;
  return isFiniteNumber(fills) ? { ...r, reason: `${r.reason} (${fmt(fills)} fills)` } : r;
}

// ---------------------------------------------------------------------------------------------
// Liquidity

/** Size of the candidate order against the market's volume and quote. */
export interface LiquidityObservation {
  /** Order size, shares (sign ignored). */
  readonly orderQty: Maybe<number>;
  /** Volume of the last complete minute bar, shares. */
  readonly minuteVolume: Maybe<number>;
  /** Volume of the last complete session (daily bar), shares. */
  readonly dailyVolume: Maybe<number>;
  /** Best bid, USD. */
  readonly bidUsd: Maybe<number>;
  /** Best ask, USD. */
  readonly askUsd: Maybe<number>;
}

function participationGate(
  gate: GateName,
  label: string,
  qty: Maybe<number>,
  volume: Maybe<number>,
  max: number,
): GateResult {
  const unit = 'fraction of volume';
  if (!isFiniteNumber(qty)) return failClosed(gate, max, unit, 'order quantity missing');
  if (!isFiniteNumber(volume) || volume < 0)
    return failClosed(gate, max, unit, `${label} volume missing`);
  if (volume === 0) {
    return result(
      gate,
      false,
      null,
      max,
      unit,
      `${label} volume is zero: no liquidity to participate in`,
    );
  }
  return atMost(
    gate,
    `${label} participation`,
    Math.abs(qty) / volume,
    max,
    unit,
    `; ${fmt(Math.abs(qty))} of ${fmt(volume)} shares`,
  );
}

/**
 * Minute-volume participation: passes iff |orderQty| / minuteVolume ≤
 * `maxMinuteVolumeParticipationFraction`; zero volume fails. Action: `pause_entries`.
 */
export function minuteParticipationGate(
  input: Maybe<Pick<LiquidityObservation, 'orderQty' | 'minuteVolume'>>,
  t: Pick<GateThresholds, 'maxMinuteVolumeParticipationFraction'>,
): GateResult {
  return participationGate(
    'liquidity_minute_participation',
    'minute',
    input?.orderQty,
    input?.minuteVolume,
    t.maxMinuteVolumeParticipationFraction,
  );
}

/**
 * Daily-volume participation: passes iff |orderQty| / dailyVolume ≤
 * `maxDailyVolumeParticipationFraction`; zero volume fails. Action: `pause_entries`.
 */
export function dailyParticipationGate(
  input: Maybe<Pick<LiquidityObservation, 'orderQty' | 'dailyVolume'>>,
  t: Pick<GateThresholds, 'maxDailyVolumeParticipationFraction'>,
): GateResult {
  return participationGate(
    'liquidity_daily_participation',
    'daily',
    input?.orderQty,
    input?.dailyVolume,
    t.maxDailyVolumeParticipationFraction,
  );
}

/**
 * Quoted spread gate: spread = (ask − bid) / mid × 10,000 bps, mid = (ask + bid) / 2; passes
 * iff spread ≤ `maxQuotedSpreadBps`. Non-positive prices or a crossed quote (ask < bid) fail
 * closed as bad data. Action: `pause_entries`.
 */
export function spreadGate(
  input: Maybe<Pick<LiquidityObservation, 'bidUsd' | 'askUsd'>>,
  t: Pick<GateThresholds, 'maxQuotedSpreadBps'>,
): GateResult {
  const gate = 'liquidity_spread';
  const bid = input?.bidUsd;
  const ask = input?.askUsd;
  if (!isFiniteNumber(bid) || !isFiniteNumber(ask) || bid <= 0 || ask <= 0) {
    return failClosed(
      gate,
      t.maxQuotedSpreadBps,
      'bps',
      `quote missing or not positive (bid ${String(bid)}, ask ${String(ask)})`,
    );
  }
  if (ask < bid) {
    return failClosed(
      gate,
      t.maxQuotedSpreadBps,
      'bps',
      `crossed quote (bid ${fmt(bid)} > ask ${fmt(ask)})`,
    );
  }
  const spreadBps = ((ask - bid) / ((ask + bid) / 2)) * 10_000;
  return atMost(
    gate,
    'quoted spread',
    spreadBps,
    t.maxQuotedSpreadBps,
    'bps',
    `; bid ${fmt(bid)}, ask ${fmt(ask)} USD`,
  );
}

// ---------------------------------------------------------------------------------------------
// Data staleness

/** When the last bar the decision relies on was observed. */
export interface StalenessObservation {
  /**
   * Timestamp of the last bar, epoch ms UTC. Pass the bar's end (`t + 60_000` for a minute
   * bar) to measure age from when its data was complete.
   */
  readonly lastBarMs: Maybe<number>;
}

/**
 * Data staleness gate: age = (nowMs − lastBarMs) / 1000 seconds; passes iff age ≤
 * `maxBarAgeSeconds`. A bar from the future (clock skew or a bad timestamp) fails closed.
 * Action: `pause_entries`.
 *
 * @param nowMs injected current time, epoch ms UTC (from the `Clock` port).
 */
export function dataStalenessGate(
  input: Maybe<StalenessObservation>,
  nowMs: number,
  t: Pick<GateThresholds, 'maxBarAgeSeconds'>,
): GateResult {
  const gate = 'data_staleness';
  const last = input?.lastBarMs;
  if (!isFiniteNumber(last))
    return failClosed(gate, t.maxBarAgeSeconds, 'seconds', 'last bar time missing');
  if (!isFiniteNumber(nowMs))
    return failClosed(gate, t.maxBarAgeSeconds, 'seconds', 'current time missing');
  const ageSeconds = (nowMs - last) / 1000;
  if (ageSeconds < 0) {
    return failClosed(
      gate,
      t.maxBarAgeSeconds,
      'seconds',
      `last bar is ${fmt(-ageSeconds)} s in the future`,
    );
  }
  return atMost(gate, 'last bar age', ageSeconds, t.maxBarAgeSeconds, 'seconds');
}

// ---------------------------------------------------------------------------------------------
// Promotion window

/**
 * Whether the market's session date of "now" is a trading session, from the market calendar,
 * and which market's window applies (`equity-usa` when absent).
 */
export interface WindowObservation {
  readonly isTradingDay: Maybe<boolean>;
  readonly market?: Market;
}

const minutesOf = (hhmm: string): number => {
  const m = /^(\d\d):(\d\d)$/.exec(hhmm);
  return m ? Number(m[1]) * 60 + Number(m[2]) : Number.NaN;
};
const pad2 = (n: number): string => String(n).padStart(2, '0');

/** A market's promotion window: wall-clock open (inclusive) and close (exclusive) in its zone. */
export interface PromotionWindow {
  readonly market: Market;
  /** IANA zone of `opensAt` / `closesAt` ({@link marketTimeZone}). */
  readonly timeZone: string;
  /** `HH:MM`, 24 h, in `timeZone`. */
  readonly opensAt: string;
  /** `HH:MM`, 24 h, in `timeZone`. */
  readonly closesAt: string;
}

/**
 * The promotion window of `market` from the thresholds: `equity-usa` reads
 * `promotionWindowOpenNy`/`CloseNy` (America/New_York), `crypto` reads
 * `cryptoPromotionWindowOpenUtc`/`CloseUtc` (UTC). Null when the market has none configured.
 */
export function promotionWindowOf(
  market: Market,
  t: Pick<
    GateThresholds,
    | 'promotionWindowOpenNy'
    | 'promotionWindowCloseNy'
    | 'cryptoPromotionWindowOpenUtc'
    | 'cryptoPromotionWindowCloseUtc'
  >,
): PromotionWindow | null {
  const timeZone = marketTimeZone(market);
  if (market === 'equity-usa') {
    return {
      market,
      timeZone,
      opensAt: t.promotionWindowOpenNy,
      closesAt: t.promotionWindowCloseNy,
    };
  }
  const opensAt = t.cryptoPromotionWindowOpenUtc;
  const closesAt = t.cryptoPromotionWindowCloseUtc;
  return opensAt && closesAt ? { market, timeZone, opensAt, closesAt } : null;
}

/**
 * Promotion window gate: passes iff `isTradingDay` is true and the local time of `nowMs` in
 * the market's zone is inside its window ({@link promotionWindowOf}; open inclusive, close
 * exclusive): New York time for `equity-usa`, UTC for `crypto` (24 h sessions). The zone
 * conversion uses `@date-fns/tz` (IANA rules, so EST/EDT changes are handled). `observed` is
 * the local `YYYY-MM-DD HH:MM`. A market without a configured window fails closed. Action:
 * `none` (wait or expire).
 *
 * @param nowMs injected current time, epoch ms UTC (from the `Clock` port).
 */
export function promotionWindowGate(
  input: Maybe<WindowObservation>,
  nowMs: number,
  t: Pick<
    GateThresholds,
    | 'promotionWindowOpenNy'
    | 'promotionWindowCloseNy'
    | 'cryptoPromotionWindowOpenUtc'
    | 'cryptoPromotionWindowCloseUtc'
  >,
): GateResult {
  const gate = 'promotion_window';
  const market = input?.market ?? 'equity-usa';
  const window = promotionWindowOf(market, t);
  const zone = marketTimeZone(market);
  const unit = `${zone} local time`;
  if (!window) {
    return failClosed(gate, 'n/a', unit, `no promotion window configured for ${market}`);
  }
  const threshold = `${window.opensAt}-${window.closesAt}`;
  const open = minutesOf(window.opensAt);
  const close = minutesOf(window.closesAt);
  if (!Number.isFinite(open) || !Number.isFinite(close)) {
    return failClosed(gate, threshold, unit, 'promotion window thresholds malformed');
  }
  if (!isFiniteNumber(nowMs)) return failClosed(gate, threshold, unit, 'current time missing');
  const isTradingDay = input?.isTradingDay;
  if (typeof isTradingDay !== 'boolean')
    return failClosed(gate, threshold, unit, 'trading-day flag missing');
  const local = new TZDate(nowMs, zone);
  const minute = local.getHours() * 60 + local.getMinutes();
  const observed = `${local.getFullYear()}-${pad2(local.getMonth() + 1)}-${pad2(local.getDate())} ${pad2(local.getHours())}:${pad2(local.getMinutes())}`;
  const where = market === 'crypto' ? 'UTC' : 'New York';
  if (!isTradingDay) {
    return result(
      gate,
      false,
      observed,
      threshold,
      unit,
      `${observed} ${where} is not a trading day`,
    );
  }
  const pass = minute >= open && minute < close;
  return result(
    gate,
    pass,
    observed,
    threshold,
    unit,
    `${observed} ${where} is ${pass ? 'inside' : 'outside'} the promotion window ${threshold}`,
  );
}
