/**
 * Runs every gate for one promotion candidate.
 */
import {
  agentDrawdownGate,
  aggregateExposureGate,
  type DrawdownObservation,
  dailyParticipationGate,
  dataStalenessGate,
  historicalEsGate,
  historicalVarGate,
  type KillSwitchObservation,
  killSwitchGate,
  type LeverageObservation,
  type LiquidityObservation,
  leverageGate,
  type Maybe,
  minTradeCountGate,
  minuteParticipationGate,
  type PositionExposure,
  parametricEsGate,
  parametricVarGate,
  parentDrawdownGate,
  promotionWindowGate,
  type RiskObservation,
  type StalenessObservation,
  spreadGate,
  symbolExposureGate,
  type TradeCountObservation,
  type WindowObservation,
} from './gates.js';
import type { GateThresholds } from './thresholds.js';
import { type BreakerAction, type GateResult, strongestAction } from './types.js';

/**
 * Everything the gates observe about one candidate. Any field may be missing or `NaN` at run
 * time: the gate that needs it then fails closed. Units: USD, fractions, shares, epoch ms UTC.
 */
export interface GateInput {
  /** Injected current time, epoch ms UTC (from the `Clock` port; never `Date.now()`). */
  readonly nowMs: number;
  /**
   * Parent wallet (bankroll) equity, USD: the capital the exposure limits are fractions of
   * (the VaR / ES limits are fractions of the candidate's capital slice, in `risk`).
   */
  readonly capitalUsd: Maybe<number>;
  readonly killSwitch: Maybe<KillSwitchObservation>;
  readonly drawdown: Maybe<DrawdownObservation>;
  /**
   * The candidate strategy's own minute P&L over the capital slice it will trade (VaR / ES),
   * and the underlying's open-to-close history as a labelled second view (see
   * {@link RiskObservation}).
   */
  readonly risk: Maybe<RiskObservation>;
  /** Account positions after the candidate trade (signed notional per symbol, USD). */
  readonly positionsAfterTrade: Maybe<readonly PositionExposure[]>;
  readonly leverage: Maybe<LeverageObservation>;
  readonly trades: Maybe<TradeCountObservation>;
  readonly liquidity: Maybe<LiquidityObservation>;
  readonly staleness: Maybe<StalenessObservation>;
  readonly window: Maybe<WindowObservation>;
}

/** Outcome of {@link evaluateGates}. */
export interface GateEvaluation {
  /** One result per gate, in `GATE_NAMES` order. */
  readonly results: readonly GateResult[];
  /**
   * True iff no gate failed (`noGateFailed`, types.ts): every gate passed, or was `not_judged`
   * (the daily `baseline` gate without enough paper sessions), which does not block.
   */
  readonly passed: boolean;
  /** Strongest breaker action among failed gates (`'none'` when all pass). */
  readonly strongestAction: BreakerAction;
}

/**
 * Evaluates all gates (kill switch, drawdowns, historical and parametric VaR and ES,
 * exposures, leverage, trade count, liquidity, staleness, promotion window) for one candidate.
 * Pure: no I/O, time only from `input.nowMs`. Never throws on bad observations (they fail
 * closed); `thresholds` must already be validated with `GateThresholdsSchema` at the edge.
 */
export function evaluateGates(input: GateInput, thresholds: GateThresholds): GateEvaluation {
  const risk = input.risk;
  const exposure = { positions: input.positionsAfterTrade, capitalUsd: input.capitalUsd };
  const results: GateResult[] = [
    killSwitchGate(input.killSwitch),
    parentDrawdownGate(input.drawdown, thresholds),
    agentDrawdownGate(input.drawdown, thresholds),
    historicalVarGate(risk, thresholds),
    parametricVarGate(risk, thresholds),
    historicalEsGate(risk, thresholds),
    parametricEsGate(risk, thresholds),
    symbolExposureGate(exposure, thresholds),
    aggregateExposureGate(exposure, thresholds),
    leverageGate(input.leverage, thresholds),
    minTradeCountGate(input.trades, thresholds),
    minuteParticipationGate(input.liquidity, thresholds),
    dailyParticipationGate(input.liquidity, thresholds),
    spreadGate(input.liquidity, thresholds),
    dataStalenessGate(input.staleness, input.nowMs, thresholds),
    promotionWindowGate(input.window, input.nowMs, thresholds),
  ];
  return {
    results,
    passed: results.every((r) => r.verdict === 'pass'),
    strongestAction: strongestAction(results),
  };
}
