/**
 * The trading record a trader reads in the run report: round trips from fills, their
 * statistics (win rate, profit factor, expectancy, average holding time), per-symbol exposure
 * and returns, and the parent wallet's record across sessions (cumulative PnL, drawdown from
 * the running peak, daily returns) beside a buy-and-hold benchmark. Pure.
 *
 * Definitions (units: USD, fractions, minutes):
 * - A round trip opens a position in one symbol from flat and ends when it is flat again; a
 *   reversal through zero ends one and opens the next with the rest of the fill
 *   (`scoring/round-trips.ts` counts the same way). Its PnL is `direction × (exit average −
 *   entry average) × shares − fees` (the fees of a fill split pro rata when it reverses).
 *   A position still open at the end is not a completed round trip.
 * - The day's regulatory-fee rounding each agent's account pays after the session (each fee
 *   type's day total rounded up to the cent, less what its fills accrued:
 *   `exchange/regulatory-fees.ts`) is a day-level line beside the round trips
 *   ({@link dailyRegulatoryRoundingUsd}), attached to none: Alpaca charges it per account and
 *   day, not per order, so no trip caused it, and charging it to the day's last trip would
 *   move that trip's win/loss by what the other trips accrued. Σ round-trip PnL − the line =
 *   the agents' PnL when each ends the session flat.
 * - Win rate = winning round trips ÷ round trips (PnL > 0 wins; 0 is not a win).
 * - Profit factor = Σ winning PnL ÷ |Σ losing PnL| (null when nothing lost).
 * - Expectancy = mean PnL per round trip, USD.
 * - Holding time = exit fill's minute − entry fill's minute.
 * - Daily return = parent PnL of the session ÷ bankroll; the cumulative return compounds them.
 * - Benchmark = buy and hold of one ETF (e.g. SPY for US equities): the bankroll bought at the
 *   first session's first close, held overnight, marked at each later close, no fees; its
 *   daily return runs from the previous session's last close (the first: its first close).
 */
import type { Fill, SimulationResult } from '../cohort/simulate.js';

/** One completed round trip. */
export interface RoundTrip {
  readonly agentId: string;
  readonly symbol: string;
  readonly direction: 'long' | 'short';
  /** Entry and exit fill minutes, epoch ms UTC. */
  readonly entryMs: number;
  readonly exitMs: number;
  /** Shares at the largest position of the trip. */
  readonly qty: number;
  readonly entryPriceUsd: number;
  readonly exitPriceUsd: number;
  readonly pnlUsd: number;
  readonly holdingMinutes: number;
}

const EPS = 1e-9;

interface OpenTrip {
  sign: 1 | -1;
  entryMs: number;
  entryCost: number;
  entryQty: number;
  exitValue: number;
  exitQty: number;
  fees: number;
  maxQty: number;
}

/** The completed round trips of one agent's fills (any order; sorted by fill time here). */
export function roundTripsOf(agentId: string, fills: readonly Fill[]): RoundTrip[] {
  const out: RoundTrip[] = [];
  const bySymbol = new Map<string, { pos: number; trip: OpenTrip | null }>();
  const open = (sign: 1 | -1, f: Fill, qty: number, fees: number): OpenTrip => ({
    sign,
    entryMs: f.t,
    entryCost: qty * f.priceUsd,
    entryQty: qty,
    exitValue: 0,
    exitQty: 0,
    fees,
    maxQty: qty,
  });
  for (const f of [...fills].sort((a, b) => a.t - b.t)) {
    const s = bySymbol.get(f.symbol) ?? { pos: 0, trip: null };
    bySymbol.set(f.symbol, s);
    const sign: 1 | -1 = f.side === 'buy' ? 1 : -1;
    if (Math.abs(s.pos) <= EPS || !s.trip) {
      s.trip = open(sign, f, f.qty, f.feeUsd);
      s.pos = sign * f.qty;
      continue;
    }
    const trip = s.trip;
    if (sign === trip.sign) {
      trip.entryCost += f.qty * f.priceUsd;
      trip.entryQty += f.qty;
      trip.fees += f.feeUsd;
      s.pos += sign * f.qty;
      trip.maxQty = Math.max(trip.maxQty, Math.abs(s.pos));
      continue;
    }
    const closeQty = Math.min(f.qty, Math.abs(s.pos));
    const share = closeQty / f.qty;
    trip.exitValue += closeQty * f.priceUsd;
    trip.exitQty += closeQty;
    trip.fees += f.feeUsd * share;
    s.pos += sign * closeQty;
    if (Math.abs(s.pos) > EPS) continue;
    const entry = trip.entryCost / trip.entryQty;
    const exit = trip.exitValue / trip.exitQty;
    out.push({
      agentId,
      symbol: f.symbol,
      direction: trip.sign === 1 ? 'long' : 'short',
      entryMs: trip.entryMs,
      exitMs: f.t,
      qty: trip.maxQty,
      entryPriceUsd: entry,
      exitPriceUsd: exit,
      pnlUsd: trip.sign * (exit - entry) * trip.exitQty - trip.fees,
      holdingMinutes: (f.t - trip.entryMs) / 60_000,
    });
    const rest = f.qty - closeQty;
    s.pos = 0;
    s.trip = null;
    if (rest > EPS) {
      s.trip = open(sign, f, rest, f.feeUsd * (1 - share));
      s.pos = sign * rest;
    }
  }
  return out;
}

/**
 * The day-level line of a session beside its round trips: the regulatory-fee rounding its
 * agents' accounts paid after the session (`AgentResult.regulatoryRoundingUsd`, charged by
 * the cohort through `regulatoryRoundingUsd`; absent in older results: none), USD ≥ 0.
 */
export function dailyRegulatoryRoundingUsd(
  agents: readonly Pick<SimulationResult['agents'][number], 'regulatoryRoundingUsd'>[],
): number {
  return agents.reduce((sum, a) => sum + (a.regulatoryRoundingUsd ?? 0), 0);
}

/** Statistics of a set of round trips; null figures when undefined (no trips, no loss). */
export interface TradeStats {
  readonly roundTrips: number;
  readonly winRate: number | null;
  readonly profitFactor: number | null;
  readonly expectancyUsd: number | null;
  readonly avgHoldingMinutes: number | null;
  readonly totalPnlUsd: number;
}

export function tradeStats(trips: readonly RoundTrip[]): TradeStats {
  const n = trips.length;
  const won = trips.filter((t) => t.pnlUsd > 0).reduce((s, t) => s + t.pnlUsd, 0);
  const lost = trips.filter((t) => t.pnlUsd < 0).reduce((s, t) => s - t.pnlUsd, 0);
  const total = trips.reduce((s, t) => s + t.pnlUsd, 0);
  return {
    roundTrips: n,
    winRate: n ? trips.filter((t) => t.pnlUsd > 0).length / n : null,
    profitFactor: lost > 0 ? won / lost : null,
    expectancyUsd: n ? total / n : null,
    avgHoldingMinutes: n ? trips.reduce((s, t) => s + t.holdingMinutes, 0) / n : null,
    totalPnlUsd: total,
  };
}

/** One symbol's exposure and returns in a session (or summed over sessions). */
export interface SymbolRecord {
  readonly symbol: string;
  readonly agents: number;
  readonly allocationUsd: number;
  /** Mean over the session's minutes of Σ agent gross exposure in the symbol, USD. */
  readonly meanExposureUsd: number;
  readonly peakExposureUsd: number;
  /** Σ agent PnL (final equity − allocation), USD. */
  readonly pnlUsd: number;
  /** pnlUsd ÷ allocationUsd, fraction. */
  readonly returnOnAllocation: number;
  readonly roundTrips: number;
}

/** Per-symbol exposure and returns of one session (every agent trades its genome's symbol). */
export function symbolRecords(sim: SimulationResult): SymbolRecord[] {
  const out = new Map<
    string,
    { agents: number; alloc: number; pnl: number; trips: number; exposure: number[] }
  >();
  for (const a of sim.agents) {
    const symbol = a.genome.symbol;
    const r = out.get(symbol) ?? {
      agents: 0,
      alloc: 0,
      pnl: 0,
      trips: 0,
      exposure: new Array<number>(a.grossExposureCurve.length).fill(0),
    };
    r.agents += 1;
    r.alloc += a.allocationUsd;
    r.pnl += (a.equityCurve.at(-1) ?? a.allocationUsd) - a.allocationUsd;
    r.trips += roundTripsOf(a.agentId, a.fills).length;
    a.grossExposureCurve.forEach((g, i) => {
      r.exposure[i] = (r.exposure[i] ?? 0) + g;
    });
    out.set(symbol, r);
  }
  return [...out.entries()]
    .map(([symbol, r]) => ({
      symbol,
      agents: r.agents,
      allocationUsd: r.alloc,
      meanExposureUsd: r.exposure.length
        ? r.exposure.reduce((s, v) => s + v, 0) / r.exposure.length
        : 0,
      peakExposureUsd: r.exposure.reduce((m, v) => Math.max(m, v), 0),
      pnlUsd: r.pnl,
      returnOnAllocation: r.alloc > 0 ? r.pnl / r.alloc : 0,
      roundTrips: r.trips,
    }))
    .sort((a, b) => a.symbol.localeCompare(b.symbol));
}

/** Closes of the benchmark ETF in one session: minute starts (epoch ms UTC) and closes, USD. */
export interface BenchmarkSession {
  readonly ts: readonly number[];
  readonly close: readonly number[];
}

/** The parent wallet's record across sessions, minute by minute and day by day. */
export interface CrossSessionRecord {
  /** One point per minute of every session in order: x = minute index across sessions. */
  readonly cumulativePnlUsd: number[];
  /** Drawdown of bankroll + cumulative PnL from its running peak, fraction (<= 0). */
  readonly underwater: number[];
  /** The benchmark's buy-and-hold PnL on the same minutes (NaN where it has no close). */
  readonly benchmarkPnlUsd: number[];
  /** Index of each session's first minute in the series above. */
  readonly sessionStarts: number[];
  readonly days: readonly {
    readonly sessionDate: string;
    readonly pnlUsd: number;
    /** pnlUsd ÷ bankroll. */
    readonly dailyReturn: number;
    /** Π(1 + daily return) − 1 through this day. */
    readonly cumulativeReturn: number;
    /** The benchmark's close-to-close return over the session (null without closes). */
    readonly benchmarkReturn: number | null;
    readonly benchmarkCumulativeReturn: number | null;
    readonly maxDrawdownFraction: number;
  }[];
}

/**
 * The record of `sessions` (in order) with the bankroll of each; `benchmark` by session date.
 * Each session's PnL is measured from its own bankroll (every cohort starts fresh).
 */
export function crossSessionRecord(
  sessions: readonly { readonly sessionDate: string; readonly simulation: SimulationResult }[],
  benchmark: Readonly<Record<string, BenchmarkSession>> = {},
): CrossSessionRecord {
  const cumulativePnlUsd: number[] = [];
  const underwater: number[] = [];
  const benchmarkPnlUsd: number[] = [];
  const sessionStarts: number[] = [];
  const days: CrossSessionRecord['days'][number][] = [];
  let carried = 0;
  let peak = Number.NEGATIVE_INFINITY;
  let compounded = 1;
  let benchShares: number | null = null;
  let benchStartValue = 0;
  let benchStartClose = Number.NaN;
  let benchPrevClose = Number.NaN;
  /** The benchmark's latest close so far (carried overnight), USD. */
  let heldClose = Number.NaN;
  for (const { sessionDate, simulation: sim } of sessions) {
    const bankroll = sim.bankrollUsd;
    sessionStarts.push(cumulativePnlUsd.length);
    const bench = benchmark[sessionDate];
    const closeAt = new Map<number, number>();
    bench?.ts.forEach((t, i) => {
      const c = bench.close[i] as number;
      if (c > 0) closeAt.set(t, c);
    });
    let lastClose = Number.NaN;
    let firstClose = Number.NaN;
    let dayWorst = 0;
    for (let i = 0; i < sim.timestamps.length; i++) {
      const pnl = carried + ((sim.parent.equityCurve[i] as number) - bankroll);
      cumulativePnlUsd.push(pnl);
      const equity = bankroll + pnl;
      peak = Math.max(peak, equity);
      const dd = peak > 0 ? equity / peak - 1 : 0;
      underwater.push(dd);
      dayWorst = Math.min(dayWorst, dd);
      const c = closeAt.get(sim.timestamps[i] as number);
      if (c !== undefined) {
        lastClose = c;
        heldClose = c;
        if (Number.isNaN(firstClose)) firstClose = c;
        if (benchShares === null) {
          benchShares = bankroll / c;
          benchStartValue = bankroll;
          benchStartClose = c;
        }
      }
      benchmarkPnlUsd.push(
        benchShares !== null && !Number.isNaN(heldClose)
          ? benchShares * heldClose - benchStartValue
          : Number.NaN,
      );
    }
    const dayPnl = (sim.parent.equityCurve.at(-1) ?? bankroll) - bankroll;
    carried += dayPnl;
    const dailyReturn = bankroll > 0 ? dayPnl / bankroll : 0;
    compounded *= 1 + dailyReturn;
    // Held overnight: from the previous session's last close (the first session: its first).
    const benchFrom = Number.isNaN(benchPrevClose) ? firstClose : benchPrevClose;
    const benchReturn =
      Number.isNaN(benchFrom) || Number.isNaN(lastClose) ? null : lastClose / benchFrom - 1;
    if (!Number.isNaN(lastClose)) benchPrevClose = lastClose;
    days.push({
      sessionDate,
      pnlUsd: dayPnl,
      dailyReturn,
      cumulativeReturn: compounded - 1,
      benchmarkReturn: benchReturn,
      benchmarkCumulativeReturn: benchReturn === null ? null : lastClose / benchStartClose - 1,
      maxDrawdownFraction: -dayWorst,
    });
  }
  return { cumulativePnlUsd, underwater, benchmarkPnlUsd, sessionStarts, days };
}
