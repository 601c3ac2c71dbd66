/**
 * Console formatting for the CLI: fixed-width tables and money/percent figures.
 */
import { type Market, marketTimeZone } from '../functions/core/calendar/market-calendar.js';
import {
  countVerdicts,
  describeVerdictCounts,
  verdictLabel,
} from '../functions/core/gates/types.js';
import {
  type AgentRow,
  agentDrawdownOfPeak,
  type CohortRecord,
} from '../functions/core/use-cases/cohort-records.js';

/**
 * One formatter for every money figure: `Number#toLocaleString` builds a new `Intl.NumberFormat`
 * on each call (~80 µs against ~2 µs), which cost about 1 s of CPU per 1,000-agent cohort-day
 * in the leaderboards.
 */
const USD_FORMAT = new Intl.NumberFormat('en-US', {
  minimumFractionDigits: 2,
  maximumFractionDigits: 2,
});

export const usd = (v: number) => `${v < 0 ? '-' : ''}$${USD_FORMAT.format(Math.abs(v))}`;
export const pct = (v: number, digits = 2) => `${(v * 100).toFixed(digits)}%`;
export const num = (v: number, digits = 2) => (Number.isFinite(v) ? v.toFixed(digits) : 'n/a');

/** Renders rows as a left/right aligned text table (numbers right-aligned). */
export function table(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const numeric = headers.map((_, i) => rows.every((r) => /^[-$\d.,%x]+$|^n\/a$/.test(r[i] ?? '')));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (numeric[i] ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(headers), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/**
 * The leaderboard of one cohort, every agent ranked by session PnL. Per-session figures of one
 * session (the sample size is stated under the table): ROI/sess = session PnL / allocation,
 * vol/sess = volatility of the minute returns scaled to the session, DD/peak = drawdown from
 * the agent's own peak equity, fills = executed fills (a round trip is two). No Sharpe ratio:
 * one session annualized is not evidence (docs/evidence.md).
 */
export function leaderboardTable(rows: readonly AgentRow[], bankrollUsd: number): string {
  const note =
    "\nunits: ROI/sess, vol/sess, DD/peak are fractions of ONE session (n = 1 session per agent; no annualized Sharpe), DD/peak from the agent's own peak equity, util of its allocation, fills counted one per execution";
  return `${table(
    [
      '#',
      'agent',
      'family',
      'sym',
      'alloc',
      'PnL',
      'realized',
      'unreal.',
      'fees',
      'ROI/sess',
      'vol/sess',
      'DD/peak',
      'util',
      'fills',
      'brch',
    ],
    rows.map((r) => [
      String(r.rank),
      r.agentId,
      r.family,
      r.symbol,
      usd(r.allocationUsd),
      usd(r.totalPnlUsd),
      usd(r.realizedPnlUsd),
      usd(r.unrealizedPnlUsd),
      usd(r.feesUsd),
      pct(r.roi),
      r.sessionVolatility === undefined ? 'n/a' : pct(r.sessionVolatility),
      pct(agentDrawdownOfPeak(r, bankrollUsd)),
      pct(r.bankrollUtilization, 1),
      String(r.tradeCount),
      String(r.leverageBreaches + r.exposureBreaches),
    ]),
  )}${note}`;
}

/** A short header describing a persisted cohort. */
export function cohortHeader(c: CohortRecord): string {
  const p = c.parent;
  return [
    `cohort ${c.cohortId}  session ${c.sessionDate}  symbols ${c.symbols.join(',')}  ${c.agentCount} agents  bankroll ${usd(c.bankrollUsd)} (${c.allocation})`,
    `parent wallet: PnL ${usd(p.totalPnlUsd)} (realized ${usd(p.realizedPnlUsd)}, unrealized ${usd(p.unrealizedPnlUsd)}, fees ${usd(p.feesUsd)})  ROI ${pct(p.roi, 3)} (one session)  max drawdown ${pct(p.maxDrawdownFraction, 3)}  utilization mean ${pct(p.meanUtilization, 1)} / peak ${pct(p.peakUtilization, 1)}`,
    `hourly ROI: ${p.hourlyRoi.map((r) => pct(r, 3)).join('  ')}`,
  ].join('\n');
}

/**
 * The gate table of one promotion: every gate, observed vs threshold, verdict (`PASS`, `FAIL`,
 * `NOT JUDGED`), breaker; then the counts ("gates: 16 passed, 0 failed, 1 not judged").
 */
export function gatesTable(
  results: readonly {
    gate: string;
    verdict: string;
    observed: unknown;
    threshold: unknown;
    unit: string;
    breakerAction: string;
  }[],
): string {
  const show = (v: unknown) =>
    typeof v === 'number' ? String(Number(v.toPrecision(4))) : v === null ? 'n/a' : String(v);
  const counts = countVerdicts(results);
  const rows = table(
    ['gate', 'verdict', 'observed', 'threshold', 'unit', 'on fail'],
    results.map((r) => [
      r.gate,
      verdictLabel(r.verdict),
      show(r.observed),
      show(r.threshold),
      r.unit,
      r.breakerAction,
    ]),
  );
  const note = counts.notJudged > 0 ? ' (a gate not judged yet does not block)' : '';
  return `${rows}\ngates: ${describeVerdictCounts(counts)}${note}`;
}

/** The orders of one promotion with their final states. */
export function ordersTable(
  orders: readonly {
    clientOrderId: string;
    symbol: string;
    side: string;
    qty: number;
    status: string;
    filledQty: number;
    filledAvgPriceUsd: number | null;
  }[],
): string {
  return table(
    ['client_order_id', 'symbol', 'side', 'qty', 'status', 'filled', 'avg price'],
    orders.map((o) => [
      o.clientOrderId,
      o.symbol,
      o.side,
      String(Number(o.qty.toFixed(6))),
      o.status,
      String(Number(o.filledQty.toFixed(6))),
      o.filledAvgPriceUsd === null ? 'n/a' : usd(o.filledAvgPriceUsd),
    ]),
  );
}

/**
 * The paper session's orders through the day: New York time of the decision bar's end (when the
 * order was sent), side, quantity, average fill price, reason, status, client_order_id.
 */
export function paperOrdersTable(
  orders: readonly {
    clientOrderId: string;
    side: string;
    qty: number;
    reason: string;
    status: string;
    filledQty: number;
    avgPriceUsd: number | null;
    submittedAtMs: number;
    rejectReason?: string;
  }[],
  market: Market = 'equity-usa',
): string {
  // Times in the market's own zone: New York for equities, UTC for a crypto session.
  const zone = marketTimeZone(market);
  const hhmm = new Intl.DateTimeFormat('en-GB', {
    timeZone: zone,
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    hourCycle: 'h23',
  });
  return table(
    [
      zone === 'UTC' ? 'time (UTC)' : 'time (NY)',
      'side',
      'qty',
      'price',
      'reason',
      'status',
      'client_order_id',
    ],
    orders.map((o) => [
      hhmm.format(o.submittedAtMs),
      o.side,
      String(Number(o.qty.toFixed(6))),
      o.avgPriceUsd === null ? 'n/a' : usd(o.avgPriceUsd),
      o.reason,
      o.rejectReason ? `${o.status}: ${o.rejectReason}` : o.status,
      o.clientOrderId,
    ]),
  );
}

/** `$1.23` / `-$1.23` to the cent. */
export function signedUsd(v: number): string {
  const cents = Math.round(v * 100) / 100;
  return `${cents < 0 ? '-' : ''}$${Math.abs(cents).toFixed(2)}`;
}

/**
 * A progress writer for state-entered events that collapses the paper session's minute loop
 * (`SessionOver?`, `WaitForNextMinute`, `Tick`) into one `Tick ×N`.
 */
export function collapsingProgress(write: (t: string) => void): (state: string) => void {
  let ticks = 0;
  return (state) => {
    const name = state.slice(state.lastIndexOf('/') + 1);
    if (name === 'Tick') {
      ticks++;
      return;
    }
    if (name === 'SessionOver?' || name === 'WaitForNextMinute') return;
    if (ticks > 0) {
      write(`▸ ${state.slice(0, state.lastIndexOf('/') + 1)}Tick ×${ticks} `);
      ticks = 0;
    }
    write(`▸ ${state} `);
  };
}
