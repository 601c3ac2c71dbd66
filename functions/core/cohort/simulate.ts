/**
 * The cohort simulation: one agent per genome trades its symbol over one session's 1-minute
 * bars, inside the parent wallet's bankroll, under the risk ceilings of the cohort config.
 *
 * Per minute `t` (bar-major, so the aggregate ceiling sees every agent's state at `t`):
 * 1. marks: each symbol's mark is the quote mid when both sides are quoted, else the bar's
 *    close, else the previous mark;
 * 2. execution: orders decided in EARLIER minutes fill at this minute's closing quote through
 *    the shared fill model (`fill-model.ts`) when the symbol traded (volume > 0) and the
 *    order's side is quoted; otherwise they wait for such a minute. This is the exchange
 *    model's timing (`exchange/exchange-model.ts`, docs/execution.md): a decision known at the
 *    end of minute t never fills in minute t;
 * 3. strategies: every agent whose symbol traded in the minute steps its strategy on the bar
 *    (close/high/low/volume); a changed target becomes the agent's pending target;
 * 4. decisions, agents in an order rotated by one each minute (so no agent always comes first
 *    to the aggregate headroom): a pending target becomes an order sized by THE sizing rule
 *    (`sizing.ts`: capital, risk fraction, agent leverage and aggregate ceilings, whole shares
 *    for a short, no crypto short) at this minute's mark and quote, replacing any unfilled
 *    order; an agent whose gross exposure drifted above its ceiling (prices moved) decides a
 *    forced reduction;
 * 5. aggregate drift: if the marks pushed the cohort's gross exposure above its ceiling, every
 *    quoted position is reduced pro rata until it is back under;
 * 6. flatten: with `flattenAtClose`, each agent decides to close its position on the bar that
 *    starts two minutes before the session close (13:00 on early-close days), so the order
 *    fills in the session's last minute ({@link flattenDecisionMinute}), and trades no more;
 * 7. curves: each agent's equity and gross exposure, and the parent's, are recorded; after
 *    the session's last minute each agent pays the day's regulatory-fee rounding first (each
 *    fee type's day total rounded up to the cent, as Alpaca charges each account:
 *    `exchange/regulatory-fees.ts`), so the last point and the final cash include it.
 *
 * The simulation draws no random numbers: same inputs → same result, bit for bit.
 */
import { TZDate } from '@date-fns/tz';
import { NYSE_TIME_ZONE, sessionHours } from '../calendar/market-calendar.js';
import { ValidationError } from '../errors.js';
import type { AssetRules } from '../exchange/exchange-model.js';
import { costsForMarket } from '../exchange/fee-schedules.js';
import { DUST_QTY } from '../exchange/position-book.js';
import { regulatoryRoundingUsd } from '../exchange/regulatory-fees.js';
import type { MarketSession, SymbolSeries } from '../market/types.js';
import { type Allocation, allocateBankroll, unallocatedUsd } from './allocation.js';
import { type CohortConfig, parseCohortConfig } from './config.js';
import {
  type FillCosts,
  feesOfFill,
  fillPriceWithImpactUsd,
  NO_REGULATORY_FEES,
  qtyStep,
  roundQtyUp,
  type Side,
} from './fill-model.js';
import type { Genome } from './genome.js';
import { BASELINE_FAMILIES, STRATEGY_FAMILIES, validateGenome } from './genome.js';
import { AgentLedgers } from './ledger.js';
import { forcedReductionQty, RISK_REDUCTION_TARGET, sizeOrder } from './sizing.js';
import { createStrategy, type Strategy } from './strategies.js';
import { ParentWallet } from './wallet.js';

/** Why a fill happened. */
export type FillReason =
  /** The agent's strategy changed its target. */
  | 'signal'
  /** A forced reduction: agent leverage or aggregate exposure drifted above its ceiling. */
  | 'risk'
  /** End-of-session flatten (`flattenAtClose`). */
  | 'flatten';

const REASONS: readonly FillReason[] = ['signal', 'risk', 'flatten'];

/** One simulated fill. */
export interface Fill {
  /**
   * Start of the minute whose closing quote priced the fill, epoch ms UTC (an entry of
   * `timestamps`; the fill happens at that minute's end). Always after `decidedAt`.
   */
  readonly t: number;
  /** Start of the minute on whose bar the order was decided, epoch ms UTC (known at its end). */
  readonly decidedAt: number;
  readonly symbol: string;
  readonly side: Side;
  /** Shares, > 0. */
  readonly qty: number;
  /** Price per share, USD, slippage included. */
  readonly priceUsd: number;
  /** Commission, USD. */
  readonly feeUsd: number;
  readonly reason: FillReason;
}

/** An open position at the end of the session. */
export interface PositionSnapshot {
  readonly symbol: string;
  /** Signed shares (short < 0). */
  readonly qty: number;
  readonly avgPriceUsd: number;
  /** Last mark (quote mid, else last close), USD. */
  readonly markPriceUsd: number;
}

/** One agent's simulated session. Curves have one entry per `timestamps` entry. */
export interface AgentResult {
  /** `a0001`, `a0002`, ... in genome order. */
  readonly agentId: string;
  readonly genome: Genome;
  readonly allocationUsd: number;
  /** Equity (cash + position × mark) after each minute's trades, USD. */
  readonly equityCurve: number[];
  /** Gross exposure |position| × mark after each minute's trades, USD. */
  readonly grossExposureCurve: number[];
  readonly finalCashUsd: number;
  /** Open positions at the end (empty when flat). */
  readonly positions: PositionSnapshot[];
  /** Realized PnL, gross of fees, USD. */
  readonly realizedPnlUsd: number;
  /** Unrealized PnL at the last mark, USD. */
  readonly unrealizedPnlUsd: number;
  readonly feesUsd: number;
  readonly fills: Fill[];
  /** Orders clipped by the agent leverage ceiling (attempts). */
  readonly leverageBreaches: number;
  /** Orders clipped by the aggregate exposure ceiling (attempts). */
  readonly exposureBreaches: number;
  /** Fills forced by a ceiling after prices moved (subset of `tradeCount`). */
  readonly forcedReductions: number;
  /**
   * Decisions whose opening buy was not sent because Alpaca refuses it: a fractional buy worth
   * less than USD 1 (`exchange-model.ts`, `belowFractionalMinimum`). Absent in older results.
   */
  readonly belowMinimumBuys?: number;
  /**
   * The day's regulatory-fee rounding the agent's account paid after the session's last minute
   * (each fee type's day total rounded up to the cent, less what its fills accrued:
   * `exchange/regulatory-fees.ts`), USD, included in `feesUsd` and `finalCashUsd` but in no
   * fill's fee: an account-day charge, not an order's. Absent in older results (none charged).
   */
  readonly regulatoryRoundingUsd?: number;
  /** Number of fills. */
  readonly tradeCount: number;
}

/** The simulated session of a whole cohort. Plain JSON (stored as an artifact, then scored). */
export interface SimulationResult {
  readonly cohortId: string;
  /** Exchange-local session date, `YYYY-MM-DD`. */
  readonly sessionDate: string;
  readonly market: MarketSession['market'];
  /** Session open, epoch ms UTC (09:30 America/New_York for US equities, 00:00 UTC for crypto). */
  readonly sessionOpenMs: number;
  readonly bankrollUsd: number;
  readonly config: CohortConfig;
  /** The allocation policy applied (`risk-weighted` may fall back to `equal`). */
  readonly allocationPolicyApplied: CohortConfig['allocation'];
  readonly symbols: string[];
  /** Minute starts, epoch ms UTC. */
  readonly timestamps: number[];
  readonly parent: {
    /** Bankroll minus Σ allocations, USD (constant over the session). */
    readonly unallocatedCashUsd: number;
    /** Unallocated cash + Σ agent equity, per minute, USD. */
    readonly equityCurve: number[];
    /** Σ agent gross exposure, per minute, USD. */
    readonly grossExposureCurve: number[];
  };
  readonly agents: AgentResult[];
}

/** Input of {@link simulateCohort}. */
export interface SimulateCohortInput {
  readonly cohortId: string;
  readonly session: MarketSession;
  /** One agent per genome; exactly `config.agentCount` of them. */
  readonly genomes: readonly Genome[];
  readonly config: CohortConfig;
  /** Daily return standard deviation per symbol, fraction (for `risk-weighted`). */
  readonly riskEstimates?: Readonly<Record<string, number>>;
  /**
   * Allocations decided by the caller, USD, one per genome, used instead of splitting the
   * bankroll with `config.allocation`: a shard of a cohort that was allocated once as a whole
   * (see `shard.ts`). Each must be finite and >= 0, and together at most the bankroll.
   */
  readonly allocationsUsd?: readonly number[];
}

const MINUTE_MS = 60_000;

export { RISK_REDUCTION_TARGET } from './sizing.js';

/**
 * Session open of `session`, epoch ms UTC: 09:30 America/New_York on the session date for US
 * equities, 00:00 UTC for crypto.
 *
 * @throws ValidationError('session.date') when the date is not `YYYY-MM-DD`.
 */
export function sessionOpenMs(session: Pick<MarketSession, 'date' | 'market'>): number {
  const key = `${session.market}/${session.date}`;
  const cached = openCache.get(key);
  if (cached !== undefined) return cached;
  const open = computeSessionOpen(session);
  if (openCache.size >= 4_096) openCache.clear();
  openCache.set(key, open);
  return open;
}

/** Memo of {@link sessionOpenMs}: time-zone resolution goes through Intl and is slow. */
const openCache = new Map<string, number>();

function computeSessionOpen(session: Pick<MarketSession, 'date' | 'market'>): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(session.date);
  if (!m) throw new ValidationError('session.date', `must be YYYY-MM-DD, got ${session.date}`);
  const [y, mo, d] = [Number(m[1]), Number(m[2]) - 1, Number(m[3])];
  if (session.market === 'crypto') return Date.UTC(y, mo, d);
  return new TZDate(y, mo, d, 9, 30, NYSE_TIME_ZONE).getTime();
}

/**
 * `length` entries of `src` from `offset` as a plain array (JSON-serializable). An index loop
 * into a preallocated array is about 20× faster than `Array.from(typedArray)` on V8.
 */
function toArray(src: Float64Array, offset: number, length: number): number[] {
  const out = new Array<number>(length);
  for (let j = 0; j < length; j++) out[j] = src[offset + j] as number;
  return out;
}

function agentId(i: number): string {
  return `a${String(i + 1).padStart(4, '0')}`;
}

/** The strategies of one family and the agents they belong to (monomorphic step loops). */
interface StrategyGroup {
  readonly strategies: Strategy[];
  readonly agents: Int32Array;
}

/**
 * Mutable state of one simulation. Hot loops read fields into locals; order handling (rare)
 * lives in methods.
 *
 * Orders are decided at the end of a minute (sizing on that minute's mark and quote) and kept
 * as the agent's open order (`orderQty`, signed shares); they execute in a LATER minute, the
 * first one with volume and a quote on their side, at its closing quote (the timing of the
 * exchange model, `exchange/exchange-model.ts`). A new decision replaces an unfilled order.
 */
class CohortEngine {
  readonly n: number;
  readonly symbolCount: number;
  readonly ledgers: AgentLedgers;
  readonly sym: Int32Array;
  /** Strategy targets not yet turned into an order (NaN: none). */
  readonly pending: Float64Array;
  /** Open order of each agent, signed shares (0: none), its reason and decision minute. */
  readonly orderQty: Float64Array;
  readonly orderReason: Uint8Array;
  readonly orderDecidedAt: Float64Array;
  readonly leverageBreaches: Int32Array;
  readonly exposureBreaches: Int32Array;
  readonly forced: Int32Array;
  /** Opening buys not sent: fractional and worth less than USD 1 (Alpaca's minimum). */
  readonly belowMinimum: Int32Array;
  readonly fills: Fill[][];
  /** Per symbol: mark, end-of-minute bid/ask and volume of the current minute, Σ|qty| over agents. */
  readonly mark: Float64Array;
  readonly bid: Float64Array;
  readonly ask: Float64Array;
  readonly volume: Float64Array;
  readonly absQty: Float64Array;
  /** Gross exposure of all agents at the current marks plus decided orders, USD. */
  aggregate = 0;
  readonly aggregateCap: number;
  readonly leverageCap: number;
  readonly step: number;
  readonly costs: FillCosts;
  readonly asset: AssetRules;
  /** Current minute's start, epoch ms UTC. */
  now = 0;
  /** Regulatory fees each agent's fills accrued in the session, by type, USD (unrounded). */
  readonly secUsd: Float64Array;
  readonly tafUsd: Float64Array;
  readonly catUsd: Float64Array;
  /** The day's regulatory-fee rounding each agent paid ({@link chargeDailyRegulatoryFees}), USD. */
  readonly roundingUsd: Float64Array;

  constructor(
    readonly symbols: readonly string[],
    allocations: readonly number[],
    sym: Int32Array,
    config: CohortConfig,
    market: MarketSession['market'],
  ) {
    const n = allocations.length;
    this.n = n;
    this.symbolCount = symbols.length;
    this.ledgers = new AgentLedgers(allocations);
    this.sym = sym;
    this.pending = new Float64Array(n).fill(Number.NaN);
    this.orderQty = new Float64Array(n);
    this.orderReason = new Uint8Array(n);
    this.orderDecidedAt = new Float64Array(n);
    this.leverageBreaches = new Int32Array(n);
    this.exposureBreaches = new Int32Array(n);
    this.forced = new Int32Array(n);
    this.belowMinimum = new Int32Array(n);
    this.fills = Array.from({ length: n }, () => []);
    this.secUsd = new Float64Array(n);
    this.tafUsd = new Float64Array(n);
    this.catUsd = new Float64Array(n);
    this.roundingUsd = new Float64Array(n);
    this.mark = new Float64Array(symbols.length).fill(Number.NaN);
    this.bid = new Float64Array(symbols.length).fill(Number.NaN);
    this.ask = new Float64Array(symbols.length).fill(Number.NaN);
    this.volume = new Float64Array(symbols.length);
    this.absQty = new Float64Array(symbols.length);
    this.aggregateCap = config.maxAggregateExposure * config.bankrollUsd;
    this.leverageCap = config.maxAgentLeverage;
    this.step = qtyStep(config.fractionalShares);
    this.costs = config;
    // Every asset of the shared data is fractionable at Alpaca; crypto cannot be shorted.
    this.asset = { market, fractionable: true };
  }

  /** Books a fill and keeps Σ|qty| and the aggregate exposure exact. */
  fill(i: number, side: Side, qty: number, priceUsd: number, reason: FillReason): void {
    const s = this.sym[i] as number;
    const led = this.ledgers;
    const before = Math.abs(led.qty[i] as number);
    // Each order of the cohort fills at once (a crossing order is two orders): no prior fill.
    const { feeUsd, regulatoryFeesUsd: reg } = feesOfFill(qty, priceUsd, this.costs, side);
    led.applyFill(i, side === 'buy' ? qty : -qty, priceUsd, feeUsd);
    if (reg !== NO_REGULATORY_FEES) {
      this.secUsd[i] = (this.secUsd[i] as number) + reg.secUsd;
      this.tafUsd[i] = (this.tafUsd[i] as number) + reg.tafUsd;
      this.catUsd[i] = (this.catUsd[i] as number) + reg.catUsd;
    }
    const change = Math.abs(led.qty[i] as number) - before;
    this.absQty[s] = (this.absQty[s] as number) + change;
    this.aggregate += change * (this.mark[s] as number);
    (this.fills[i] as Fill[]).push({
      t: this.now,
      decidedAt: this.orderDecidedAt[i] as number,
      symbol: this.symbols[s] as string,
      side,
      qty,
      priceUsd,
      feeUsd,
      reason,
    });
  }

  /**
   * The end of the session day: each agent (its own broker account) pays its regulatory fees
   * as Alpaca charges them, each type's day total rounded up to the cent, beyond what its
   * fills accrued (`exchange/regulatory-fees.ts`): cash down, fees up.
   */
  chargeDailyRegulatoryFees(): void {
    const led = this.ledgers;
    for (let i = 0; i < this.n; i++) {
      const day = {
        secUsd: this.secUsd[i] as number,
        tafUsd: this.tafUsd[i] as number,
        catUsd: this.catUsd[i] as number,
      };
      const rounding = regulatoryRoundingUsd(day);
      if (rounding === 0) continue;
      this.roundingUsd[i] = rounding;
      led.cashUsd[i] = (led.cashUsd[i] as number) - rounding;
      led.feesUsd[i] = (led.feesUsd[i] as number) + rounding;
    }
  }

  /**
   * Executes agent `i`'s open order in the current minute if its symbol traded (volume > 0)
   * and its side is quoted; an order that crosses flat fills as two legs (close, then open),
   * the two orders Alpaca needs (a fractional short sale is refused).
   */
  execute(i: number): void {
    const order = this.orderQty[i] as number;
    const s = this.sym[i] as number;
    const volume = this.volume[s] as number;
    if (!(volume > 0)) return;
    const side: Side = order > 0 ? 'buy' : 'sell';
    const quote = { bid: this.bid[s] as number, ask: this.ask[s] as number };
    // Each leg is its own order at the broker: its own share of the minute's volume.
    const price = (legQty: number) =>
      fillPriceWithImpactUsd(side, quote, this.costs, legQty, volume);
    if (!(price(0) > 0)) return;
    const reason = REASONS[this.orderReason[i] as number] as FillReason;
    const q = this.ledgers.qty[i] as number;
    const size = Math.abs(order);
    if (q !== 0 && q > 0 !== order > 0 && size > Math.abs(q) + DUST_QTY) {
      const rest = size - Math.abs(q);
      this.fill(i, side, Math.abs(q), price(Math.abs(q)), reason);
      this.fill(i, side, rest, price(rest), reason);
    } else {
      this.fill(i, side, size, price(size), reason);
    }
    this.orderQty[i] = 0;
  }

  /** Records agent `i`'s new open order (replacing an unfilled one) and its expected exposure. */
  private place(i: number, signedQty: number, reason: number): void {
    const s = this.sym[i] as number;
    const q = this.ledgers.qty[i] as number;
    const m = this.mark[s] as number;
    const prior = this.orderQty[i] as number;
    this.aggregate += (Math.abs(q + signedQty) - Math.abs(q + prior)) * m;
    this.orderQty[i] = signedQty;
    this.orderReason[i] = reason;
    this.orderDecidedAt[i] = this.now;
  }

  /**
   * Decides agent `i`'s order toward `target` (signed fraction of its equity) through THE
   * sizing rule (`sizing.ts`). Returns false when the decision must wait (no mark or no quote
   * on the needed side), true once it was handled.
   */
  rebalance(i: number, target: number): boolean {
    const s = this.sym[i] as number;
    const led = this.ledgers;
    const q = led.qty[i] as number;
    const m = this.mark[s] as number;
    // The open order this decision replaces no longer counts against the aggregate.
    const prior = (Math.abs(q + (this.orderQty[i] as number)) - Math.abs(q)) * m;
    const sized = sizeOrder({
      target,
      qty: q,
      cashUsd: led.cashUsd[i] as number,
      markUsd: m,
      bidUsd: this.bid[s] as number,
      askUsd: this.ask[s] as number,
      leverageCap: this.leverageCap,
      aggregateHeadroomUsd: this.aggregateCap - (this.aggregate - prior),
      costs: this.costs,
      step: this.step,
      asset: this.asset,
      volumeShares: this.volume[s] as number,
    });
    if (sized === null) return false;
    if (sized.leverageBreach) this.leverageBreaches[i] = (this.leverageBreaches[i] as number) + 1;
    if (sized.exposureBreach) this.exposureBreaches[i] = (this.exposureBreaches[i] as number) + 1;
    if (sized.belowMinimum) this.belowMinimum[i] = (this.belowMinimum[i] as number) + 1;
    if (sized.qty !== 0) this.place(i, sized.qty, 0);
    else if ((this.orderQty[i] as number) !== 0) this.place(i, 0, 0);
    return true;
  }

  /** Decides to close agent `i`'s position entirely (replacing any open order). */
  flatten(i: number): void {
    const q = this.ledgers.qty[i] as number;
    this.place(i, -q, 2);
  }

  /**
   * If agent `i`'s gross exposure is above `L × equity` (prices moved), decides the least
   * step quantity x that brings it to {@link RISK_REDUCTION_TARGET} of the ceiling,
   * `(|q| − x) m <= 0.98 L (V − x c − F0)`; everything when that is impossible (equity at or
   * below the minimum fee, or a spread wider than m / L). A short is covered in whole shares.
   */
  enforceLeverage(i: number): void {
    const led = this.ledgers;
    const s = this.sym[i] as number;
    const x = forcedReductionQty({
      qty: led.qty[i] as number,
      cashUsd: led.cashUsd[i] as number,
      markUsd: this.mark[s] as number,
      bidUsd: this.bid[s] as number,
      askUsd: this.ask[s] as number,
      leverageCap: this.leverageCap,
      costs: this.costs,
      step: this.step,
      volumeShares: this.volume[s] as number,
    });
    if (x === 0) return;
    this.forced[i] = (this.forced[i] as number) + 1;
    this.place(i, x, 1);
  }

  /**
   * If the aggregate gross exposure is above its cap (prices moved), decides to reduce every
   * position on a quoted symbol without an open order by the same fraction (rounded up to the
   * step) so that the aggregate falls to {@link RISK_REDUCTION_TARGET} of the cap; liquidates
   * them all when the quoted exposure is smaller than the excess.
   */
  enforceAggregate(): void {
    if (this.aggregate - this.aggregateCap <= 1e-9 * (1 + this.aggregate)) return;
    const excess = this.aggregate - RISK_REDUCTION_TARGET * this.aggregateCap;
    const led = this.ledgers;
    let reducible = 0;
    for (let i = 0; i < this.n; i++) {
      const q = led.qty[i] as number;
      const s = this.sym[i] as number;
      if (q === 0 || (this.orderQty[i] as number) !== 0) continue;
      if ((this.bid[s] as number) > 0 && (this.ask[s] as number) > 0) {
        reducible += Math.abs(q) * (this.mark[s] as number);
      }
    }
    if (!(reducible > 0)) return;
    const cut = Math.min(1, excess / reducible);
    for (let i = 0; i < this.n; i++) {
      const q = led.qty[i] as number;
      if (q === 0 || (this.orderQty[i] as number) !== 0) continue;
      const s = this.sym[i] as number;
      if (!((this.bid[s] as number) > 0 && (this.ask[s] as number) > 0)) continue;
      const absQ = Math.abs(q);
      const unit = q < 0 ? Math.max(1, this.step) : this.step;
      const qty = cut >= 1 ? absQ : Math.min(absQ, roundQtyUp(absQ * cut, unit));
      if (qty <= 0) continue;
      this.forced[i] = (this.forced[i] as number) + 1;
      this.place(i, q > 0 ? -qty : qty, 1);
    }
  }
}

/**
 * Checks the session's shape and the genomes (count = `config.agentCount`, each valid, each
 * symbol in the session) and maps each agent to its symbol's index.
 *
 * @throws ValidationError (see {@link simulateCohort}).
 */
function validateInput(
  session: MarketSession,
  genomes: readonly Genome[],
  config: CohortConfig,
): { genomes: Genome[]; sym: Int32Array } {
  const bars = session.timestamps.length;
  if (bars === 0) throw new ValidationError('session.timestamps', 'the session has no bars');
  if (genomes.length !== config.agentCount) {
    throw new ValidationError(
      'genomes',
      `expected config.agentCount = ${config.agentCount} genomes (one agent each), got ${genomes.length}`,
    );
  }
  session.series.forEach((series, s) => {
    if (series.symbol !== session.symbols[s]) {
      throw new ValidationError(
        `session.series[${s}].symbol`,
        `expected ${session.symbols[s]}, got ${series.symbol}`,
      );
    }
    const columns = [series.close, series.high, series.low, series.volume, series.bid, series.ask];
    if (columns.some((col) => col.length !== bars)) {
      throw new ValidationError(`session.series[${s}]`, `columns must have ${bars} entries`);
    }
  });
  const symbolIndex = new Map(session.symbols.map((s, i) => [s, i] as const));
  const sym = new Int32Array(genomes.length);
  const checked = genomes.map((g, i) => {
    const genome = validateGenome(g, `genomes[${i}]`);
    const s = symbolIndex.get(genome.symbol);
    if (s === undefined) {
      throw new ValidationError(
        `genomes[${i}].symbol`,
        `"${genome.symbol}" is not in the session (symbols: ${session.symbols.join(', ')})`,
      );
    }
    sym[i] = s;
    return genome;
  });
  return { genomes: checked, sym };
}

/** Strategies grouped by family (so each step loop stays monomorphic), reset for the session. */
function strategyGroups(genomes: readonly Genome[], openMs: number): StrategyGroup[] {
  const groups: StrategyGroup[] = [];
  for (const family of [...STRATEGY_FAMILIES, ...BASELINE_FAMILIES]) {
    const members: number[] = [];
    genomes.forEach((g, i) => {
      if (g.family === family) members.push(i);
    });
    if (members.length === 0) continue;
    const strategies = members.map((i) => {
      const strategy = createStrategy(genomes[i] as Genome);
      strategy.reset(openMs);
      return strategy;
    });
    groups.push({ strategies, agents: Int32Array.from(members) });
  }
  return groups;
}

/**
 * Session close, epoch ms UTC: the market calendar's close (16:00 New York, 13:00 on an
 * early-close day, 24:00 UTC for crypto), or the end of the data's last minute when that is
 * earlier (or the date is outside the calendar).
 */
export function sessionCloseMs(
  session: Pick<MarketSession, 'date' | 'market' | 'timestamps'>,
): number {
  const ts = session.timestamps;
  const dataEnd = ts.length > 0 ? (ts[ts.length - 1] as number) + MINUTE_MS : Number.NaN;
  let calendar = Number.POSITIVE_INFINITY;
  try {
    const hours = sessionHours(session.date, session.market);
    if (hours) calendar = Date.parse(hours.closeIso);
  } catch {
    // outside the calendar's years: the data's end is the close
  }
  return Number.isNaN(dataEnd) ? calendar : Math.min(calendar, dataEnd);
}

/**
 * The minute on whose bar an intraday agent decides to flatten: the last minute starting at
 * or before `closeMs − 2 min` (decided at `close − 1 min`, so the order executes in the last
 * minute of the session), moved earlier when the symbol's last minutes have no volume or no
 * two-sided quote, so a minute that can fill the order follows the decision. −1 when none.
 */
export function flattenDecisionMinute(
  ts: Float64Array,
  series: SymbolSeries,
  closeMs: number,
): number {
  let lastFillable = -1;
  for (let t = ts.length - 1; t >= 0; t--) {
    if (
      (series.bid[t] as number) > 0 &&
      (series.ask[t] as number) > 0 &&
      (series.volume[t] as number) > 0
    ) {
      lastFillable = t;
      break;
    }
  }
  let t = ts.length - 1;
  while (t >= 0 && (ts[t] as number) > closeMs - 2 * MINUTE_MS) t--;
  return Math.min(t, lastFillable - 1);
}

/**
 * The caller's allocations (see {@link SimulateCohortInput.allocationsUsd}), one per agent.
 * `ParentWallet` checks they are finite, >= 0 and within the bankroll.
 *
 * @throws ValidationError('allocationsUsd') when there is not exactly one per agent.
 */
function givenAllocation(
  config: CohortConfig,
  allocationsUsd: readonly number[],
  agents: number,
): Allocation {
  if (allocationsUsd.length !== agents) {
    throw new ValidationError(
      'allocationsUsd',
      `expected ${agents} allocations (one per genome), got ${allocationsUsd.length}`,
    );
  }
  return {
    allocationsUsd: [...allocationsUsd],
    unallocatedUsd: unallocatedUsd(config.bankrollUsd, allocationsUsd),
    policyApplied: config.allocation,
  };
}

/**
 * Simulates a cohort over one session.
 *
 * Agents = genomes (one agent per genome, `agentId` `a0001`... in genome order). The bankroll
 * is split by `config.allocation` (`allocation.ts`); fills follow `fill-model.ts`; every order
 * is checked against the agent leverage ceiling (post-trade gross exposure <=
 * `maxAgentLeverage` × agent equity) and the aggregate ceiling (post-trade gross exposure of
 * all agents <= `maxAggregateExposure` × bankroll), clipped to the allowed size and counted
 * as a breach attempt; reductions toward flat are always allowed.
 *
 * Guarantees (checked by the property tests), at every minute in which the symbols involved
 * are quoted on both sides: agent gross exposure <= maxAgentLeverage × max(0, equity) and
 * Σ gross exposure <= maxAggregateExposure × bankroll (up to 1e-9 relative rounding). In a
 * minute without a quote nothing can trade, so a price move can leave a ceiling exceeded
 * until the next quoted minute. Parent equity = unallocated cash + Σ agent equity at every
 * minute, and each agent's ledger identity (see `ledger.ts`).
 *
 * Cost: O(agents × minutes) with no allocation in the per-minute loops (fills aside).
 *
 * @throws ValidationError: `config.<field>` via {@link parseCohortConfig}; `genomes` when their
 *   number differs from `config.agentCount`; `genomes[i]...` for an invalid genome or a symbol
 *   not in the session; `session.timestamps` for an empty session or misaligned series;
 *   `allocationsUsd` when given allocations are not one per genome, negative, not finite or
 *   above the bankroll together.
 */
export function simulateCohort(input: SimulateCohortInput): SimulationResult {
  const { session } = input;
  // The session's market picks the fee schedule: a crypto cohort pays Alpaca's crypto fee.
  const parsed = parseCohortConfig(input.config);
  const config: CohortConfig = { ...parsed, ...costsForMarket(parsed, session.market) };
  const bars = session.timestamps.length;
  const { genomes: checked, sym } = validateInput(session, input.genomes, config);
  const n = checked.length;

  const allocation = input.allocationsUsd
    ? givenAllocation(config, input.allocationsUsd, n)
    : allocateBankroll(
        config.bankrollUsd,
        config.allocation,
        checked.map((g) => ({ symbol: g.symbol, riskFraction: g.params.riskFraction as number })),
        input.riskEstimates,
      );
  const wallet = new ParentWallet(config.bankrollUsd, allocation.allocationsUsd);
  const openMs = sessionOpenMs(session);
  const engine = new CohortEngine(
    session.symbols,
    allocation.allocationsUsd,
    sym,
    config,
    session.market,
  );
  const groups = strategyGroups(checked, openMs);
  const ts = session.timestamps;
  // Where each symbol's agents decide to flatten (early enough to fill inside the session).
  const closeMs = sessionCloseMs(session);
  const flattenAt = Int32Array.from(session.series, (series) =>
    config.flattenAtClose ? flattenDecisionMinute(ts, series, closeMs) : bars,
  );
  const minute = minuteColumns(session);
  const curves = newCurves(n, bars, wallet.unallocatedCashUsd);

  // One minute: (1) marks and quotes; (2) orders decided in earlier minutes execute at this
  // minute's closing quote; (3) strategies step on this bar (their decisions execute from the
  // next minute); (4) aggregate exposure; (5) decisions; (6) aggregate drift; (7) curves.
  for (let t = 0; t < bars; t++) {
    const now = ts[t] as number;
    engine.now = now;
    loadMinute(engine, minute, t);
    const { orderQty } = engine;
    for (let i = 0; i < n; i++) {
      if ((orderQty[i] as number) !== 0) engine.execute(i);
    }
    stepStrategies(groups, engine, minute, now);
    engine.aggregate = aggregateExposure(engine);
    decide(engine, t, flattenAt);
    engine.enforceAggregate();
    // The session day ends with its last minute: the day's regulatory-fee charge.
    if (t === bars - 1) engine.chargeDailyRegulatoryFees();
    recordCurves(engine, curves, t);
  }
  return simulationResult(input, { config, allocation, checked, engine, openMs, curves, bars });
}

/** The session's columns by symbol, and the current minute's values (filled per minute). */
interface MinuteColumns {
  readonly close: Float64Array[];
  readonly high: Float64Array[];
  readonly low: Float64Array[];
  readonly volume: Float64Array[];
  readonly bid: Float64Array[];
  readonly ask: Float64Array[];
  readonly curClose: Float64Array;
  readonly curHigh: Float64Array;
  readonly curLow: Float64Array;
  readonly curVol: Float64Array;
}

function minuteColumns(session: MarketSession): MinuteColumns {
  const S = session.symbols.length;
  return {
    close: session.series.map((x) => x.close),
    high: session.series.map((x) => x.high),
    low: session.series.map((x) => x.low),
    volume: session.series.map((x) => x.volume),
    bid: session.series.map((x) => x.bid),
    ask: session.series.map((x) => x.ask),
    curClose: new Float64Array(S),
    curHigh: new Float64Array(S),
    curLow: new Float64Array(S),
    curVol: new Float64Array(S),
  };
}

/** Step 1: minute `t`'s bar and quotes into `minute` and the engine's marks and quotes. */
function loadMinute(engine: CohortEngine, minute: MinuteColumns, t: number): void {
  const { mark, bid, ask, volume } = engine;
  const { close, high, low, curClose, curHigh, curLow, curVol } = minute;
  const S = curClose.length;
  for (let s = 0; s < S; s++) {
    const c = (close[s] as Float64Array)[t] as number;
    const b = (minute.bid[s] as Float64Array)[t] as number;
    const a = (minute.ask[s] as Float64Array)[t] as number;
    curClose[s] = c;
    curHigh[s] = (high[s] as Float64Array)[t] as number;
    curLow[s] = (low[s] as Float64Array)[t] as number;
    curVol[s] = (minute.volume[s] as Float64Array)[t] as number;
    volume[s] = curVol[s] as number;
    bid[s] = b;
    ask[s] = a;
    if (b > 0 && a > 0) mark[s] = 0.5 * (a + b);
    else if (c > 0) mark[s] = c;
  }
}

/** Step 3: every strategy steps on this minute's bar; a decided target becomes pending. */
function stepStrategies(
  groups: readonly StrategyGroup[],
  engine: CohortEngine,
  minute: MinuteColumns,
  now: number,
): void {
  const { sym, pending } = engine;
  const { curClose, curHigh, curLow, curVol } = minute;
  for (let g = 0; g < groups.length; g++) {
    const group = groups[g] as StrategyGroup;
    const strategies = group.strategies;
    const members = group.agents;
    for (let j = 0; j < strategies.length; j++) {
      const i = members[j] as number;
      const s = sym[i] as number;
      const c = curClose[s] as number;
      if (Number.isNaN(c)) continue;
      const target = (strategies[j] as Strategy).step(
        now,
        c,
        curHigh[s] as number,
        curLow[s] as number,
        curVol[s] as number,
      );
      if (!Number.isNaN(target)) pending[i] = target;
    }
  }
}

/** Step 4: aggregate gross exposure at the new marks, plus the orders still open, USD. */
function aggregateExposure(engine: CohortEngine): number {
  const { absQty, mark, orderQty, sym } = engine;
  const qty = engine.ledgers.qty;
  let aggregate = 0;
  for (let s = 0; s < absQty.length; s++) {
    const aq = absQty[s] as number;
    if (aq > 0) aggregate += aq * (mark[s] as number);
  }
  for (let i = 0; i < engine.n; i++) {
    const o = orderQty[i] as number;
    if (o === 0) continue;
    const q = qty[i] as number;
    aggregate += (Math.abs(q + o) - Math.abs(q)) * (mark[sym[i] as number] as number);
  }
  return aggregate;
}

/** Step 5: each agent's decision at minute `t`, in an order rotated by the minute. */
function decide(engine: CohortEngine, t: number, flattenAt: Int32Array): void {
  const { n, sym, pending, orderQty } = engine;
  const qty = engine.ledgers.qty;
  const start = t % n;
  for (let k = 0; k < n; k++) {
    let i = start + k;
    if (i >= n) i -= n;
    const closeAt = flattenAt[sym[i] as number] as number;
    if (t >= closeAt) {
      pending[i] = Number.NaN;
      if (t === closeAt && ((qty[i] as number) !== 0 || (orderQty[i] as number) !== 0)) {
        engine.flatten(i);
      }
      continue;
    }
    const target = pending[i] as number;
    if (!Number.isNaN(target) && engine.rebalance(i, target)) pending[i] = Number.NaN;
    if ((qty[i] as number) !== 0 && (orderQty[i] as number) === 0) engine.enforceLeverage(i);
  }
}

/** The curves being written: plain arrays of the result (no copy afterwards), per minute. */
interface Curves {
  readonly equity: number[][];
  readonly gross: number[][];
  readonly parentEquity: Float64Array;
  readonly parentGross: Float64Array;
  /** The parent wallet's unallocated cash, USD (constant over the session). */
  readonly unallocated: number;
}

function newCurves(n: number, bars: number, unallocated: number): Curves {
  return {
    equity: Array.from({ length: n }, () => new Array<number>(bars)),
    gross: Array.from({ length: n }, () => new Array<number>(bars)),
    parentEquity: new Float64Array(bars),
    parentGross: new Float64Array(bars),
    unallocated,
  };
}

/** Step 7: every agent's and the parent's equity and gross exposure at minute `t`; Σ|qty| exact. */
function recordCurves(engine: CohortEngine, curves: Curves, t: number): void {
  const { absQty, mark, sym } = engine;
  const { cashUsd: cash, qty } = engine.ledgers;
  absQty.fill(0);
  let eqSum = 0;
  let grossSum = 0;
  for (let i = 0; i < engine.n; i++) {
    const q = qty[i] as number;
    let e = cash[i] as number;
    let gross = 0;
    if (q !== 0) {
      const s = sym[i] as number;
      const m = mark[s] as number;
      const aq = q < 0 ? -q : q;
      e += q * m;
      gross = aq * m;
      absQty[s] = (absQty[s] as number) + aq;
    }
    (curves.equity[i] as number[])[t] = e;
    (curves.gross[i] as number[])[t] = gross;
    eqSum += e;
    grossSum += gross;
  }
  curves.parentEquity[t] = curves.unallocated + eqSum;
  curves.parentGross[t] = grossSum;
}

/** The result of a finished simulation: each agent's ledger, fills and curves, and the parent's. */
function simulationResult(
  input: SimulateCohortInput,
  run: {
    readonly config: CohortConfig;
    readonly allocation: Allocation;
    readonly checked: readonly Genome[];
    readonly engine: CohortEngine;
    readonly openMs: number;
    readonly curves: Curves;
    readonly bars: number;
  },
): SimulationResult {
  const { session } = input;
  const { engine, curves, bars } = run;
  const led = engine.ledgers;
  const agents: AgentResult[] = run.checked.map((genome, i) => {
    const m = engine.mark[engine.sym[i] as number] as number;
    const q = led.qty[i] as number;
    const positions: PositionSnapshot[] =
      q === 0
        ? []
        : [
            {
              symbol: genome.symbol,
              qty: q,
              avgPriceUsd: led.avgPriceUsd[i] as number,
              markPriceUsd: m,
            },
          ];
    return {
      agentId: agentId(i),
      genome,
      allocationUsd: led.allocationUsd[i] as number,
      equityCurve: curves.equity[i] as number[],
      grossExposureCurve: curves.gross[i] as number[],
      finalCashUsd: led.cashUsd[i] as number,
      positions,
      realizedPnlUsd: led.realizedPnlUsd[i] as number,
      unrealizedPnlUsd: led.unrealizedPnlUsd(i, m),
      feesUsd: led.feesUsd[i] as number,
      fills: engine.fills[i] as Fill[],
      leverageBreaches: engine.leverageBreaches[i] as number,
      exposureBreaches: engine.exposureBreaches[i] as number,
      forcedReductions: engine.forced[i] as number,
      belowMinimumBuys: engine.belowMinimum[i] as number,
      regulatoryRoundingUsd: engine.roundingUsd[i] as number,
      tradeCount: led.tradeCount[i] as number,
    };
  });
  return {
    cohortId: input.cohortId,
    sessionDate: session.date,
    market: session.market,
    sessionOpenMs: run.openMs,
    bankrollUsd: run.config.bankrollUsd,
    config: run.config,
    allocationPolicyApplied: run.allocation.policyApplied,
    symbols: [...session.symbols],
    timestamps: toArray(session.timestamps, 0, bars),
    parent: {
      unallocatedCashUsd: curves.unallocated,
      equityCurve: toArray(curves.parentEquity, 0, bars),
      grossExposureCurve: toArray(curves.parentGross, 0, bars),
    },
    agents,
  };
}
