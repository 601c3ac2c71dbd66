/**
 * The run report's trading-record and Day-3 sections (`render.ts` places them after the
 * summary): cumulative parent PnL across sessions beside a buy-and-hold benchmark, the
 * underwater (drawdown) chart, the daily returns table, round-trip statistics (win rate,
 * profit factor, expectancy, average holding time), per-symbol exposure and returns, the
 * round-trip list of each session's best agent (▲ entry / ▼ exit), and the Day-3 decision
 * with its micro-live slice, leverage decisions and rollback monitor. Definitions:
 * `trading-record.ts`. Pure: data in, HTML out; every string escaped.
 */

import type { SimulationResult } from '../cohort/simulate.js';
import { downsampleIndices } from './downsample.js';
import { escapeHtml } from './escape.js';
import { formatCount, formatNumber, formatNyTime, formatPercent, formatUsd } from './format.js';
import { lineChart, type Tick } from './svg.js';
import {
  type BenchmarkSession,
  type CrossSessionRecord,
  crossSessionRecord,
  dailyRegulatoryRoundingUsd,
  type RoundTrip,
  roundTripsOf,
  symbolRecords,
  type TradeStats,
  tradeStats,
} from './trading-record.js';

/** The benchmark of the report: one ETF's minute closes per session date. */
export interface ReportBenchmark {
  /** e.g. `SPY` (buy and hold of the universe's ETF). */
  readonly symbol: string;
  readonly sessions: Readonly<Record<string, BenchmarkSession>>;
}

/** The Day-3 go/no-go of a run, as the report shows it. */
export interface ReportDay3 {
  /** `approved`, `rejected`, `timed_out`, `gates_failed`, `insufficient_evidence`, `failed`. */
  readonly decision: string;
  /** Approver identity `scheme:id`, null when nobody decided. */
  readonly approver: string | null;
  readonly candidate: string | null;
  /** Why the review put this candidate forward (`candidateBasis.reason`); absent: not stated. */
  readonly candidateBasis?: string | null;
  /**
   * The `baseline` gate's comparison as one line (`describeBaselineSummary`): the candidate's
   * out-of-sample mean beside the best baseline's, both sample sizes; absent: not stated.
   */
  readonly baseline?: string | null;
  readonly slice: {
    readonly sliceId: string;
    readonly status: string;
    readonly statusReason: string;
    readonly capitalSliceUsd: number;
    readonly bankrollUsd: number;
    /** Current leverage, ratio. */
    readonly leverage: number;
  } | null;
  readonly leverage: readonly {
    readonly decidedAtIso: string;
    readonly previous: number | null;
    readonly next: number;
    readonly rule: string;
    readonly rationale: string;
  }[];
  /** The rollback monitor's ticks (what it observed and did), oldest first. */
  readonly monitor: readonly {
    readonly atIso: string;
    readonly action: string;
    readonly detail: string;
  }[];
}

/** One session as the section reads it. */
export interface RecordDay {
  readonly sessionDate: string;
  readonly simulation: SimulationResult;
}

const td = (html: string, cls = '') => `<td${cls ? ` class="${cls}"` : ''}>${html}</td>`;
const sign = (v: number) => (v > 0 ? 'pos' : v < 0 ? 'neg' : '');
const n = (text: string, v?: number) =>
  td(escapeHtml(text), `num${v === undefined ? '' : ` ${sign(v)}`}`.trim());
const head = (cols: readonly string[]) =>
  `<thead><tr>${cols.map((c) => `<th scope="col">${escapeHtml(c)}</th>`).join('')}</tr></thead>`;
const orNa = (v: number | null, f: (x: number) => string) => (v === null ? 'n/a' : f(v));

/** `s` and its day-level line (the daily regulatory-fee rounding, USD) and the net of both. */
function statsRow(label: string, s: TradeStats, dayChargeUsd: number): string {
  return (
    '<tr>' +
    td(escapeHtml(label)) +
    n(formatCount(s.roundTrips)) +
    n(orNa(s.winRate, (v) => formatPercent(v, 1))) +
    n(orNa(s.profitFactor, (v) => formatNumber(v, 2))) +
    n(orNa(s.expectancyUsd, formatUsd), s.expectancyUsd ?? undefined) +
    n(orNa(s.avgHoldingMinutes, (v) => `${formatNumber(v, 1)} min`)) +
    n(formatUsd(s.totalPnlUsd), s.totalPnlUsd) +
    n(formatUsd(-dayChargeUsd), -dayChargeUsd) +
    n(formatUsd(s.totalPnlUsd - dayChargeUsd), s.totalPnlUsd - dayChargeUsd) +
    '</tr>'
  );
}

/** x = minute index across sessions; ticks at each session's first minute. */
function crossChart(
  hook: string,
  title: string,
  description: string,
  series: readonly { id: string; label: string; ys: number[]; color: string; width: number }[],
  starts: readonly number[],
  dates: readonly string[],
  formatY: (v: number) => string,
  yAxisLabel: string,
): string {
  const length = series[0]?.ys.length ?? 0;
  const ticks: Tick[] = starts.map((s, i) => ({ value: s, label: dates[i] ?? '' }));
  return lineChart({
    hook,
    title,
    description,
    series: series.map((s) => {
      const idx = downsampleIndices(s.ys);
      return {
        id: s.id,
        label: s.label,
        xs: idx,
        ys: idx.map((i) => s.ys[i] as number),
        color: s.color,
        width: s.width,
      };
    }),
    xDomain: [0, Math.max(1, length - 1)],
    xTicks: ticks,
    formatY,
    yAxisLabel,
    includeZero: true,
    width: 1200,
    height: 280,
  });
}

function tripRows(trips: readonly RoundTrip[]): string {
  return trips
    .map(
      (t) =>
        '<tr>' +
        td(`<span class="pos" title="entry">▲</span> ${escapeHtml(formatNyTime(t.entryMs))}`) +
        td(`<span class="neg" title="exit">▼</span> ${escapeHtml(formatNyTime(t.exitMs))}`) +
        td(escapeHtml(`${t.direction} ${t.symbol}`)) +
        n(formatNumber(t.qty, 4)) +
        n(formatUsd(t.entryPriceUsd)) +
        n(formatUsd(t.exitPriceUsd)) +
        n(formatUsd(t.pnlUsd), t.pnlUsd) +
        n(`${formatNumber(t.holdingMinutes, 0)} min`) +
        '</tr>',
    )
    .join('');
}

/** The day-level line under an agent's round trips (none when its account paid no rounding). */
function dayChargeRow(chargeUsd: number): string {
  if (!(chargeUsd > 0)) return '';
  return (
    '<tr data-row="daily-regulatory-rounding">' +
    `<td colspan="6">${escapeHtml("daily regulatory-fee rounding (the account's day, no round trip's)")}</td>` +
    n(formatUsd(-chargeUsd), -chargeUsd) +
    td('') +
    '</tr>'
  );
}

/** The cumulative-PnL (with the benchmark) and underwater charts across sessions. */
function recordCharts(
  rec: CrossSessionRecord,
  dates: readonly string[],
  benchmark: ReportBenchmark | undefined,
): { equity: string; underwater: string; hasBench: boolean } {
  const hasBench = rec.benchmarkPnlUsd.some((v) => Number.isFinite(v));
  const equity = crossChart(
    'cumulative-equity',
    'Cumulative parent PnL across sessions, USD',
    `Parent wallet PnL summed across ${dates.length} session(s): ${formatUsd(rec.cumulativePnlUsd.at(-1) ?? 0)}` +
      (hasBench && benchmark
        ? `; buy and hold of ${benchmark.symbol}: ${formatUsd([...rec.benchmarkPnlUsd].reverse().find(Number.isFinite) ?? 0)}.`
        : '.'),
    [
      {
        id: 'parent',
        label: 'parent wallet',
        ys: rec.cumulativePnlUsd,
        color: '#1f2328',
        width: 2.5,
      },
      ...(hasBench && benchmark
        ? [
            {
              id: 'benchmark',
              label: `buy and hold ${benchmark.symbol}`,
              ys: rec.benchmarkPnlUsd,
              color: '#9a6700',
              width: 1.5,
            },
          ]
        : []),
    ],
    rec.sessionStarts,
    dates,
    formatUsd,
    'PnL (USD)',
  );
  const underwater = crossChart(
    'underwater',
    'Underwater: drawdown of the parent wallet from its running peak, across sessions',
    `Worst drawdown ${formatPercent(-Math.min(0, ...rec.underwater), 2)} of the peak equity.`,
    [{ id: 'drawdown', label: 'drawdown', ys: rec.underwater, color: '#cf222e', width: 1.5 }],
    rec.sessionStarts,
    dates,
    (v) => formatPercent(v, 2),
    'drawdown',
  );
  return { equity, underwater, hasBench };
}

/** The daily returns, round-trip statistics and per-symbol tables' rows. */
function recordTables(
  days: readonly RecordDay[],
  rec: CrossSessionRecord,
  trips: readonly RoundTrip[][],
): { daily: string; stats: string; symbols: string } {
  const daily = rec.days
    .map(
      (d, i) =>
        '<tr>' +
        td(escapeHtml(d.sessionDate)) +
        n(formatUsd(d.pnlUsd), d.pnlUsd) +
        n(formatPercent(d.dailyReturn, 3), d.dailyReturn) +
        n(formatPercent(d.cumulativeReturn, 3), d.cumulativeReturn) +
        n(
          orNa(d.benchmarkReturn, (v) => formatPercent(v, 3)),
          d.benchmarkReturn ?? undefined,
        ) +
        n(
          orNa(d.benchmarkCumulativeReturn, (v) => formatPercent(v, 3)),
          d.benchmarkCumulativeReturn ?? undefined,
        ) +
        n(formatPercent(d.maxDrawdownFraction, 3)) +
        n(formatCount(trips[i]?.length ?? 0)) +
        '</tr>',
    )
    .join('');
  const charges = days.map((d) => dailyRegulatoryRoundingUsd(d.simulation.agents));
  const stats =
    days
      .map((d, i) => statsRow(d.sessionDate, tradeStats(trips[i] ?? []), charges[i] ?? 0))
      .join('') +
    statsRow(
      'all sessions',
      tradeStats(trips.flat()),
      charges.reduce((a, b) => a + b, 0),
    );
  const symbols = days
    .flatMap((d) =>
      symbolRecords(d.simulation).map(
        (s) =>
          '<tr>' +
          td(escapeHtml(d.sessionDate)) +
          td(escapeHtml(s.symbol)) +
          n(formatCount(s.agents)) +
          n(formatUsd(s.allocationUsd)) +
          n(formatUsd(s.meanExposureUsd)) +
          n(formatUsd(s.peakExposureUsd)) +
          n(formatUsd(s.pnlUsd), s.pnlUsd) +
          n(formatPercent(s.returnOnAllocation, 3), s.returnOnAllocation) +
          n(formatCount(s.roundTrips)) +
          '</tr>',
      ),
    )
    .join('');
  return { daily, stats, symbols };
}

/** Each session's best agent (by PnL) with its round trips, ▲ entry / ▼ exit. */
function bestAgentTrips(days: readonly RecordDay[], trips: readonly RoundTrip[][]): string {
  return days
    .map((d, i) => {
      const byAgent = new Map<string, number>();
      for (const a of d.simulation.agents) {
        byAgent.set(a.agentId, (a.equityCurve.at(-1) ?? a.allocationUsd) - a.allocationUsd);
      }
      const best = [...byAgent.entries()].sort((a, b) => b[1] - a[1])[0]?.[0];
      const list = (trips[i] ?? []).filter((t) => t.agentId === best);
      const charge = dailyRegulatoryRoundingUsd(
        d.simulation.agents.filter((a) => a.agentId === best),
      );
      return (
        `<h3>${escapeHtml(d.sessionDate)}: round trips of the best agent ${escapeHtml(best ?? 'n/a')} <span class="sub">${formatCount(list.length)}</span></h3>` +
        (list.length
          ? `<div class="scroll"><table data-table="trades-${escapeHtml(d.sessionDate)}">${head(['entry', 'exit', 'position', 'shares', 'entry price', 'exit price', 'PnL', 'held'])}<tbody>${tripRows(list)}${dayChargeRow(charge)}</tbody></table></div>`
          : '<p class="sub">No completed round trip.</p>')
      );
    })
    .join('');
}

/** The trading-record section (empty string without sessions). */
export function tradingRecordSection(
  days: readonly RecordDay[],
  benchmark?: ReportBenchmark,
): string {
  if (days.length === 0) return '';
  const rec = crossSessionRecord(days, benchmark?.sessions ?? {});
  const { equity, underwater, hasBench } = recordCharts(
    rec,
    days.map((d) => d.sessionDate),
    benchmark,
  );
  const trips = days.map((d) =>
    d.simulation.agents.flatMap((a) => roundTripsOf(a.agentId, a.fills)),
  );
  const { daily, stats, symbols } = recordTables(days, rec, trips);
  const bestTrips = bestAgentTrips(days, trips);
  return (
    '<section id="record"><h2>Trading record <span class="sub">the parent wallet across sessions' +
    (benchmark
      ? `, benchmark: buy and hold of ${escapeHtml(benchmark.symbol)}`
      : ', no benchmark') +
    '</span></h2>' +
    `<figure class="equity">${equity}<figcaption>Cumulative PnL of the parent wallet (each session from its own bankroll), one point per minute, sessions side by side (ticks at each session's open).${hasBench && benchmark ? ` The benchmark buys ${escapeHtml(benchmark.symbol)} with the first bankroll at the first close and holds it overnight, no fees.` : ''}</figcaption></figure>` +
    `<figure class="equity">${underwater}<figcaption>Drawdown of bankroll plus cumulative PnL from its running peak, fraction.</figcaption></figure>` +
    `<h3>Daily returns</h3><div class="scroll"><table data-table="daily-returns">${head(['session', 'parent PnL', 'return', 'cumulative', `${benchmark?.symbol ?? 'benchmark'} return`, `${benchmark?.symbol ?? 'benchmark'} cumulative`, 'max DD', 'round trips'])}<tbody>${daily}</tbody></table></div>` +
    `<h3>Round trips of every agent</h3><div class="scroll"><table data-table="trade-stats"><caption>A round trip opens from flat and returns to flat. Win rate: share with PnL &gt; 0; profit factor: gains ÷ losses; expectancy: mean PnL per round trip. The daily regulatory-fee rounding (each account's fee totals of the day rounded up to the cent) is a day-level line, attached to no round trip; net PnL includes it.</caption>${head(['session', 'round trips', 'win rate', 'profit factor', 'expectancy', 'avg holding', 'PnL', 'daily regulatory-fee rounding', 'net PnL'])}<tbody>${stats}</tbody></table></div>` +
    `<h3>Per-symbol exposure and returns</h3><div class="scroll"><table data-table="symbols">${head(['session', 'symbol', 'agents', 'allocation', 'mean exposure', 'peak exposure', 'PnL', 'return on allocation', 'round trips'])}<tbody>${symbols}</tbody></table></div>` +
    bestTrips +
    '</section>'
  );
}

/** The Day-3 section: decision, micro-live slice, leverage decisions, rollback monitor. */
export function day3Section(day3: readonly ReportDay3[]): string {
  if (day3.length === 0) return '';
  const parts = day3.map((d, i) => {
    const s = d.slice;
    const slice = s
      ? `<p>Micro-live slice <strong>${escapeHtml(s.sliceId)}</strong>: ${escapeHtml(s.status)} (${escapeHtml(s.statusReason)}); ${escapeHtml(formatUsd(s.capitalSliceUsd))} of ${escapeHtml(formatUsd(s.bankrollUsd))} at ${escapeHtml(formatNumber(s.leverage, 1))}x, so at most ${escapeHtml(formatUsd(s.capitalSliceUsd * s.leverage))} gross.</p>`
      : '<p>No micro-live slice started.</p>';
    const leverage = d.leverage.length
      ? `<div class="scroll"><table data-table="leverage-${i}">${head(['decided (UTC)', 'from', 'to', 'rule', 'rationale'])}<tbody>${d.leverage
          .map(
            (l) =>
              `<tr>${td(escapeHtml(l.decidedAtIso))}${n(l.previous === null ? '—' : `${l.previous}x`)}${n(`${l.next}x`)}${td(escapeHtml(l.rule))}${td(escapeHtml(l.rationale))}</tr>`,
          )
          .join('')}</tbody></table></div>`
      : '';
    const monitor = d.monitor.length
      ? `<h3>Rollback monitor</h3><div class="scroll"><table data-table="rollback-${i}">${head(['at (UTC)', 'action', 'detail'])}<tbody>${d.monitor
          .map(
            (m) =>
              `<tr>${td(escapeHtml(m.atIso))}${td(escapeHtml(m.action))}${td(escapeHtml(m.detail))}</tr>`,
          )
          .join('')}</tbody></table></div>`
      : s
        ? '<p class="sub">The rollback monitor has not ticked yet.</p>'
        : '';
    return (
      `<p>Decision <strong>${escapeHtml(d.decision)}</strong>${d.approver ? ` by ${escapeHtml(d.approver)}` : ''}${d.candidate ? ` on candidate ${escapeHtml(d.candidate)}` : ''}.</p>` +
      (d.candidateBasis
        ? `<p class="sub" data-field="candidate-basis">Chosen as the ${escapeHtml(d.candidateBasis)}.</p>`
        : '') +
      (d.baseline
        ? `<p data-field="baseline">Baseline comparison: ${escapeHtml(d.baseline)}.</p>`
        : '') +
      slice +
      (leverage ? `<h3>Leverage decisions</h3>${leverage}` : '') +
      monitor
    );
  });
  return `<section id="day3"><h2>Day-3 go/no-go <span class="sub">decision, micro-live slice and rollback monitor</span></h2>${parts.join('<hr>')}</section>`;
}
