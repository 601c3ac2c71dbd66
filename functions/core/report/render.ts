/**
 * The run report: one self-contained HTML page a person reads after a run (one or more daily
 * cohorts, optionally a promotion and a learning history). Pure: data in, HTML string out.
 *
 * Self-contained means nothing is fetched at view time: CSS is inline, charts are SVG drawn
 * here (see `svg.ts`), there is no script, and a Content-Security-Policy of
 * `default-src 'none'` makes the browser refuse any request a future edit might add.
 *
 * Sections: summary (one row per day), the trading record (cumulative PnL and drawdown across
 * sessions beside a buy-and-hold benchmark, daily returns, round-trip statistics, per-symbol
 * exposure and returns, the best agent's round trips; `record-section.ts`), the Day-3 decision
 * with its micro-live slice and rollback monitor (if given), learning (if given), then per day: parent figures,
 * equity chart (parent bold, agents thin, coloured by strategy family), bankroll utilization,
 * parent hourly ROI, leaderboard (the CLI's columns), gate outcomes and paper orders (if given).
 *
 * Charts: the equity chart plots each book's equity minus its starting equity (USD), so the
 * parent (bankroll-sized) and the agents (allocation-sized) share one readable USD axis; every
 * curve starts at 0 at the session open and is drawn at the end of each minute. Times are
 * America/New_York. Each series is downsampled to at most {@link MAX_POINTS_PER_SERIES}
 * points (min/max buckets, see `downsample.ts`), which keeps 30 agents × 3 days well under
 * 1.5 MB.
 *
 * Large cohorts (more than {@link MAX_DRAWN_AGENTS} agents): the equity chart draws the
 * {@link MAX_DRAWN_AGENTS}/2 best and worst agents by rank (and the promoted candidate), and
 * the leaderboard shows the top {@link LEADERBOARD_TOP_ROWS} rows, with every agent behind a
 * drill-down (`<details>`, a compact table `leaderboard-all-<date>`): a 1,000-agent × 3-day
 * report stays around 1-2 MB instead of ~14 MB.
 */
import { type Market, marketTimeZone } from '../calendar/market-calendar.js';
import type { SimulationResult } from '../cohort/simulate.js';
import { ValidationError } from '../errors.js';
import { countVerdicts, describeVerdictCounts, type GateResult } from '../gates/types.js';
import { BAR_MS, HOUR_MS } from '../scoring/metrics.js';
import type { AgentScore, CohortScore } from '../scoring/score.js';
import { downsampleIndices, MAX_POINTS_PER_SERIES } from './downsample.js';
import { escapeHtml } from './escape.js';
import { formatCount, formatMarketTime, formatNumber, formatPercent, formatUsd } from './format.js';
import {
  day3Section,
  type ReportBenchmark,
  type ReportDay3,
  tradingRecordSection,
} from './record-section.js';
import { barChart, type LineSeries, lineChart, plotWidth, type Tick } from './svg.js';

/** Most agents drawn in one equity chart; past it, the best and worst halves of this many. */
export const MAX_DRAWN_AGENTS = 60;
/** Leaderboard rows shown inline for a cohort larger than {@link MAX_DRAWN_AGENTS}. */
export const LEADERBOARD_TOP_ROWS = 25;

/** One paper-broker order of the promoted candidate, as the report shows it. */
export interface ReportOrder {
  /** Deterministic client_order_id (<= 48 chars). */
  readonly clientOrderId: string;
  readonly symbol: string;
  readonly side: string;
  /** Ordered shares. */
  readonly qty: number;
  /** Broker status, e.g. `filled`, `canceled`. */
  readonly status: string;
  readonly filledQty: number;
  /** Average fill price, USD; `null` when nothing filled. */
  readonly filledAvgPriceUsd: number | null;
}

/** The promotion of one day's candidate to the paper broker. */
export interface ReportPromotion {
  readonly candidateAgentId: string;
  readonly orders: readonly ReportOrder[];
  /** `'clean'` when broker positions matched the expected ones, else a description of the breaks. */
  readonly reconciliation: 'clean' | (string & {});
}

/** One session of the run. `sessionDate`/`cohortId` must match the simulation and the score. */
export interface ReportDay {
  /** `YYYY-MM-DD`, America/New_York. */
  readonly sessionDate: string;
  readonly cohortId: string;
  readonly simulation: SimulationResult;
  readonly score: CohortScore;
  /** Gate outcomes of the promoted candidate, in evaluation order. */
  readonly gates?: readonly GateResult[];
  readonly promotion?: ReportPromotion;
}

/**
 * One learning generation (fitness in the learning cycle's own unit, higher is better; `null`
 * when no genome had results, as in `LearningCycleStats`).
 */
export interface LearningPoint {
  readonly generation: number;
  readonly bestFitness: number | null;
  readonly meanFitness: number | null;
}

/** A nullable figure as a number (`null` → NaN, which charts skip and tables print `n/a`). */
function orNaN(v: number | null): number {
  return v ?? Number.NaN;
}

/** Input of {@link renderRunReport}. */
export interface RunReportInput {
  readonly title: string;
  /** When the report was generated, UTC ISO-8601 (from the caller's clock). */
  readonly generatedAtIso: string;
  /** Environment name, e.g. `local`, `dev`. */
  readonly environment: string;
  /** Sessions in the order to show them (usually chronological). */
  readonly days: readonly ReportDay[];
  /** Learning history across the days, in generation order. */
  readonly learning?: readonly LearningPoint[];
  /** Buy and hold of the universe's ETF (e.g. SPY), for the trading record; none when absent. */
  readonly benchmark?: ReportBenchmark;
  /** The run's Day-3 go/no-go outcomes (decision, micro-live slice, rollback monitor). */
  readonly day3?: readonly ReportDay3[];
}

/** Line colour of each strategy family (agents of an unknown family are grey). */
export const FAMILY_COLORS: Readonly<Record<string, string>> = {
  momentum: '#0969da',
  bollinger_reversion: '#bc4c00',
  donchian_breakout: '#1a7f37',
  opening_range_breakout: '#8250df',
};
/** viewBox widths of the full-width and half-width charts, px. */
const EQUITY_WIDTH = 1200;
const SMALL_WIDTH = 600;
/**
 * The equity chart draws the parent on a right axis of its own when its largest PnL swing is
 * more than this many times the largest agent swing (else one shared USD axis).
 */
export const PARENT_RIGHT_AXIS_RATIO = 3;
const UNKNOWN_FAMILY_COLOR = '#8c959f';
const PARENT_COLOR = '#1f2328';

const CSS = `
:root{color-scheme:light;--fg:#1f2328;--muted:#57606a;--line:#d0d7de;--soft:#f6f8fa;--pos:#1a7f37;--neg:#cf222e;--accent:#0969da}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:var(--fg);background:#fff}
header.top{padding:20px 32px 14px;border-bottom:1px solid var(--line);background:var(--soft)}
header.top h1{margin:0 0 4px;font-size:22px}
.meta{color:var(--muted);font-size:13px}
.meta span+span::before{content:" · "}
nav.toc{padding:8px 32px;border-bottom:1px solid var(--line);font-size:13px}
nav.toc a{color:var(--accent);text-decoration:none;margin-right:14px}
main{padding:8px 32px 32px;max-width:1280px}
section{margin-top:24px}
section.day{border-top:2px solid var(--line);padding-top:8px}
h2{font-size:19px;margin:12px 0 8px}
h3{font-size:15px;margin:20px 0 6px}
.sub{color:var(--muted);font-weight:normal;font-size:13px}
.tiles{display:grid;grid-template-columns:repeat(auto-fill,minmax(138px,1fr));gap:8px;margin:8px 0 4px}
.tile{border:1px solid var(--line);border-radius:6px;padding:8px 10px;background:#fff}
.tile .k{color:var(--muted);font-size:12px}
.tile .v{font-size:18px;font-variant-numeric:tabular-nums;font-weight:600}
.tile .s{color:var(--muted);font-size:11px}
.split{display:grid;grid-template-columns:3fr 2fr;gap:16px;align-items:start}
@media (max-width:900px){.split{grid-template-columns:1fr}}
.charts{display:grid;grid-template-columns:1fr 1fr;gap:16px}
@media (max-width:900px){.charts{grid-template-columns:1fr}}
figure{margin:0}
figure svg{width:100%;height:auto;display:block;font-family:inherit}
figcaption{color:var(--muted);font-size:12px;margin-top:2px}
.legend{display:flex;flex-wrap:wrap;gap:4px 14px;font-size:12px;color:var(--muted);margin:4px 0 0 84px}
.legend i{display:inline-block;width:18px;height:3px;vertical-align:middle;margin-right:5px;border-radius:2px}
.legend i.bold{height:4px}
.scroll{overflow-x:auto}
table{border-collapse:collapse;font-size:13px;width:100%}
caption{text-align:left;color:var(--muted);font-size:12px;padding:4px 0}
th,td{padding:4px 8px;border-bottom:1px solid #eaeef2;white-space:nowrap;text-align:left}
th{background:var(--soft);font-weight:600;border-bottom:1px solid var(--line);position:sticky;top:0}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
table.compact td:nth-child(1),table.compact td:nth-child(n+5){text-align:right;font-variant-numeric:tabular-nums}
details.all-agents summary{cursor:pointer;margin:.5em 0}
td.wrap{white-space:normal;min-width:240px}
tbody tr:hover{background:#f6f8fa}
tr.candidate{background:#fff8c5}
.pos{color:var(--pos)}
.neg{color:var(--neg)}
.badge{display:inline-block;padding:0 7px;border-radius:10px;font-size:12px;font-weight:600;border:1px solid}
.badge.pass,.badge.clean{color:var(--pos);border-color:#4ac26b;background:#dafbe1}
.badge.fail,.badge.dirty{color:var(--neg);border-color:#ff8182;background:#ffebe9}
.badge.not-judged{color:#6e5b00;border-color:#d4a72c;background:#fff8c5}
footer{padding:16px 32px 32px;color:var(--muted);font-size:12px;border-top:1px solid var(--line)}
footer li{margin:2px 0}
`;

/** Line colour of `family` (own keys only: a family named `constructor` is just unknown). */
function familyColor(family: string): string {
  return Object.hasOwn(FAMILY_COLORS, family)
    ? (FAMILY_COLORS[family] as string)
    : UNKNOWN_FAMILY_COLOR;
}

/** `pos`/`neg` class of a signed figure (nothing for zero or non-finite). */
function signClass(v: number): string {
  return v > 0 ? 'pos' : v < 0 ? 'neg' : '';
}

/** A table cell; `html` is already escaped. */
function td(html: string, cls = ''): string {
  return cls ? `<td class="${cls}">${html}</td>` : `<td>${html}</td>`;
}

/** A right-aligned numeric cell, coloured by sign when `signed`. */
function num(text: string, value?: number): string {
  const cls = value === undefined ? 'n' : `n ${signClass(value)}`.trim();
  return td(escapeHtml(text), cls);
}

function headerRow(columns: readonly (string | [string, 'n'])[]): string {
  const cells = columns.map((c) =>
    typeof c === 'string'
      ? `<th scope="col">${escapeHtml(c)}</th>`
      : `<th scope="col" class="n">${escapeHtml(c[0])}</th>`,
  );
  return `<thead><tr>${cells.join('')}</tr></thead>`;
}

function tile(label: string, value: string, signed?: number, sub?: string): string {
  const cls = signed === undefined ? '' : signClass(signed);
  const subLine = sub ? `<div class="s">${escapeHtml(sub)}</div>` : '';
  return `<div class="tile"><div class="k">${escapeHtml(label)}</div><div class="v${cls ? ` ${cls}` : ''}">${escapeHtml(value)}</div>${subLine}</div>`;
}

/** DOM id of the section of day `i`. */
function dayAnchor(i: number): string {
  return `day-${i + 1}`;
}

function checkDays(days: readonly ReportDay[]): void {
  days.forEach((d, i) => {
    const field = `days[${i}]`;
    if (d.simulation.cohortId !== d.cohortId || d.score.cohortId !== d.cohortId) {
      throw new ValidationError(
        `${field}.cohortId`,
        `simulation (${d.simulation.cohortId}) and score (${d.score.cohortId}) must belong to cohort ${d.cohortId}`,
      );
    }
    if (d.simulation.sessionDate !== d.sessionDate || d.score.sessionDate !== d.sessionDate) {
      throw new ValidationError(
        `${field}.sessionDate`,
        `simulation (${d.simulation.sessionDate}) and score (${d.score.sessionDate}) must be of session ${d.sessionDate}`,
      );
    }
  });
}

/**
 * X ticks of a session chart `width` px wide: the domain's start and end and every full hour
 * between them (every k-th hour when the session spans more than 8), dropping a full hour
 * whose label would sit within 44 px of the start or end label. America/New_York is a whole
 * number of hours from UTC, so full UTC hours are full New York hours.
 */
function timeTicks(
  market: Market,
  x0: number,
  x1: number,
  width: number,
  rightAxis = false,
): Tick[] {
  const clock = (t: number) => formatMarketTime(t, market);
  const ticks: Tick[] = [{ value: x0, label: clock(x0) }];
  if (!(x1 > x0)) return ticks;
  const stepH = Math.max(1, Math.ceil((x1 - x0) / HOUR_MS / 8));
  const minGap = ((x1 - x0) * 44) / plotWidth(width, rightAxis);
  for (let t = Math.ceil(x0 / HOUR_MS) * HOUR_MS; t < x1; t += stepH * HOUR_MS) {
    if (t - x0 >= minGap && x1 - t >= minGap) ticks.push({ value: t, label: clock(t) });
  }
  ticks.push({ value: x1, label: clock(x1) });
  return ticks;
}

/**
 * A session curve as chart points: the starting value at the session open, then one point per
 * minute at the minute's end; downsampled to {@link MAX_POINTS_PER_SERIES}.
 */
function sessionSeries(
  timestamps: readonly number[],
  openMs: number,
  startValue: number,
  values: readonly number[],
  map: (v: number) => number,
): { xs: number[]; ys: number[] } {
  const n = Math.min(timestamps.length, values.length);
  const allX = new Array<number>(n + 1);
  const allY = new Array<number>(n + 1);
  allX[0] = openMs;
  allY[0] = map(startValue);
  for (let i = 0; i < n; i++) {
    allX[i + 1] = (timestamps[i] as number) + BAR_MS;
    allY[i + 1] = map(values[i] as number);
  }
  const keep = downsampleIndices(allY, MAX_POINTS_PER_SERIES);
  return { xs: keep.map((i) => allX[i] as number), ys: keep.map((i) => allY[i] as number) };
}

function sessionDomain(sim: SimulationResult): [number, number] {
  const last = sim.timestamps.at(-1);
  return [sim.sessionOpenMs, last === undefined ? sim.sessionOpenMs : last + BAR_MS];
}

/**
 * The agents the equity chart draws: all of them up to {@link MAX_DRAWN_AGENTS}; else the
 * best and worst MAX_DRAWN_AGENTS/2 by rank, plus the promoted candidate.
 */
function drawnAgents(day: ReportDay): SimulationResult['agents'] {
  const agents = day.simulation.agents;
  if (agents.length <= MAX_DRAWN_AGENTS) return agents;
  const board = day.score.leaderboard;
  const half = MAX_DRAWN_AGENTS / 2;
  const keep = new Set([
    ...board.slice(0, half).map((r) => r.agentId),
    ...board.slice(-half).map((r) => r.agentId),
    ...(day.promotion ? [day.promotion.candidateAgentId] : []),
  ]);
  return agents.filter((a) => keep.has(a.agentId));
}

/** One line per drawn agent: its equity minus allocation, labelled with family, symbol, PnL, rank. */
function agentEquitySeries(day: ReportDay, drawn: SimulationResult['agents']): LineSeries[] {
  const sim = day.simulation;
  const scores = new Map(day.score.agents.map((a) => [a.agentId, a]));
  return drawn.map((a) => {
    const pts = sessionSeries(
      sim.timestamps,
      sim.sessionOpenMs,
      a.allocationUsd,
      a.equityCurve,
      (v) => v - a.allocationUsd,
    );
    const sc = scores.get(a.agentId);
    const pnl = sc ? sc.totalPnlUsd : (a.equityCurve.at(-1) ?? a.allocationUsd) - a.allocationUsd;
    return {
      id: a.agentId,
      label: `${a.agentId} · ${a.genome.family} · ${a.genome.symbol} · PnL ${formatUsd(pnl)}${sc ? ` · rank ${sc.rank}` : ''}`,
      ...pts,
      color: familyColor(a.genome.family),
      width: 1,
      opacity: drawn.length > 100 ? 0.3 : 0.6,
    };
  });
}

/** The equity chart's legend: the parent wallet, then one swatch per genome family with its count. */
function equityLegend(day: ReportDay, ownAxis: boolean): string {
  const sim = day.simulation;
  const families = [...new Set(sim.agents.map((a) => a.genome.family))].sort();
  return [
    `<span><i class="bold" style="background:${PARENT_COLOR}"></i>parent wallet${ownAxis ? ' (right axis)' : ''}</span>`,
    ...families.map(
      (f) =>
        `<span><i style="background:${escapeHtml(familyColor(f))}"></i>${escapeHtml(f)} (${sim.agents.filter((a) => a.genome.family === f).length})</span>`,
    ),
  ].join('');
}

function equityChart(day: ReportDay): string {
  const sim = day.simulation;
  const drawn = drawnAgents(day);
  const series = agentEquitySeries(day, drawn);
  const bankroll = sim.bankrollUsd;
  const parent = sessionSeries(
    sim.timestamps,
    sim.sessionOpenMs,
    bankroll,
    sim.parent.equityCurve,
    (v) => v - bankroll,
  );
  // The parent's PnL is the sum of its agents': with many agents it dwarfs each of them.
  // Past PARENT_RIGHT_AXIS_RATIO × the largest agent swing, the parent gets its own axis.
  const swing = (ys: readonly number[]) =>
    ys.reduce((m, v) => (Number.isFinite(v) ? Math.max(m, Math.abs(v)) : m), 0);
  const agentSwing = series.reduce((m, s) => Math.max(m, swing(s.ys as number[])), 0);
  const ownAxis = agentSwing > 0 && swing(parent.ys) > PARENT_RIGHT_AXIS_RATIO * agentSwing;
  series.push({
    id: 'parent',
    label: `parent wallet · PnL ${formatUsd(day.score.parent.totalPnlUsd)}${ownAxis ? ' · right axis' : ''}`,
    ...parent,
    color: PARENT_COLOR,
    width: 2.5,
    axis: ownAxis ? 'right' : 'left',
  });
  const best = day.score.leaderboard[0];
  const worst = day.score.leaderboard.at(-1);
  const [x0, x1] = sessionDomain(sim);
  const svg = lineChart({
    hook: `equity-${day.sessionDate}`,
    title: `Equity of the parent wallet and ${sim.agents.length} agents on ${day.sessionDate}, change from starting equity in USD`,
    description:
      `Parent wallet PnL ${formatUsd(day.score.parent.totalPnlUsd)} on a bankroll of ${formatUsd(bankroll)}${ownAxis ? ' (right axis)' : ''}.` +
      (best ? ` Best agent ${best.agentId} ${formatUsd(best.totalPnlUsd)}.` : '') +
      (worst ? ` Worst agent ${worst.agentId} ${formatUsd(worst.totalPnlUsd)}.` : ''),
    series,
    xDomain: [x0, x1],
    xTicks: timeTicks(sim.market, x0, x1, EQUITY_WIDTH, ownAxis),
    formatY: formatUsd,
    yAxisLabel: ownAxis ? 'agent PnL since open (USD)' : 'PnL since open (USD)',
    ...(ownAxis
      ? {
          rightAxis: {
            label: 'parent PnL since open (USD)',
            format: formatUsd,
            color: PARENT_COLOR,
          },
        }
      : {}),
    includeZero: true,
    width: EQUITY_WIDTH,
    height: 340,
  });
  const legend = equityLegend(day, ownAxis);
  return (
    `<figure class="equity">${svg}<div class="legend">${legend}</div>` +
    `<figcaption>Equity minus starting equity (bankroll for the parent, allocation for each agent), USD, after each minute; times ${marketTimeZone(sim.market)}.${drawn.length < sim.agents.length ? ` Drawn: the ${MAX_DRAWN_AGENTS / 2} best and ${MAX_DRAWN_AGENTS / 2} worst of ${formatCount(sim.agents.length)} agents by PnL${day.promotion ? ' and the promoted candidate' : ''}; the parent wallet is all of them.` : ''}${ownAxis ? ` The parent's swing is over ${PARENT_RIGHT_AXIS_RATIO}× the largest agent's, so it is drawn against the right axis (same zero).` : ''} Hover a line for the agent.</figcaption></figure>`
  );
}

function utilizationChart(day: ReportDay): string {
  const sim = day.simulation;
  const bankroll = sim.bankrollUsd;
  const [x0, x1] = sessionDomain(sim);
  const p = day.score.parent;
  const ceiling = sim.config.maxAggregateExposure;
  const svg = lineChart({
    hook: `utilization-${day.sessionDate}`,
    title: `Bankroll utilization on ${day.sessionDate}: parent gross exposure divided by the bankroll`,
    description: `Mean ${formatPercent(p.meanUtilization, 1)}, peak ${formatPercent(p.peakUtilization, 1)}, aggregate exposure ceiling ${formatPercent(ceiling, 0)}.`,
    series: [
      {
        id: 'parent',
        label: `parent gross exposure / bankroll · mean ${formatPercent(p.meanUtilization, 1)} · peak ${formatPercent(p.peakUtilization, 1)}`,
        ...sessionSeries(
          sim.timestamps,
          sim.sessionOpenMs,
          0,
          sim.parent.grossExposureCurve,
          (v) => (bankroll > 0 ? v / bankroll : Number.NaN),
        ),
        color: '#0969da',
        width: 2,
      },
    ],
    references: [
      { y: ceiling, label: `aggregate ceiling ${formatPercent(ceiling, 0)}`, color: '#cf222e' },
      {
        y: p.meanUtilization,
        label: `mean ${formatPercent(p.meanUtilization, 1)}`,
        color: '#57606a',
      },
    ],
    xDomain: [x0, x1],
    xTicks: timeTicks(sim.market, x0, x1, SMALL_WIDTH),
    formatY: (v) => formatPercent(v, 0),
    yAxisLabel: 'gross exposure / bankroll',
    includeZero: true,
    width: SMALL_WIDTH,
    height: 270,
  });
  return `<figure class="utilization">${svg}<figcaption>Σ agent gross exposure ÷ bankroll, per minute.</figcaption></figure>`;
}

function hourlyRoiChart(day: ReportDay): string {
  const sim = day.simulation;
  const [, end] = sessionDomain(sim);
  const hourly = day.score.parent.hourlyRoi;
  const clock = (t: number) => formatMarketTime(t, sim.market);
  const bars = hourly.map((roi, k) => {
    const from = sim.sessionOpenMs + k * HOUR_MS;
    const to = Math.min(from + HOUR_MS, Math.max(end, from));
    return {
      label: clock(from),
      value: roi,
      title: `${clock(from)}–${clock(to)}: ${formatPercent(roi, 3)}`,
    };
  });
  const svg = barChart({
    hook: `hourly-roi-${day.sessionDate}`,
    title: `Parent wallet ROI per session hour on ${day.sessionDate}`,
    description: bars.map((b) => b.title).join('; ') || 'No bars.',
    seriesId: 'parent-hourly-roi',
    bars,
    formatValue: (v) => formatPercent(v, 3),
    yAxisLabel: 'ROI of the hour',
    width: SMALL_WIDTH,
    height: 270,
  });
  return `<figure class="hourly-roi">${svg}<figcaption>Return of the parent equity over each hour from the open (labels: hour start).</figcaption></figure>`;
}

const LEADERBOARD_COLUMNS: readonly (string | [string, 'n'])[] = [
  ['rank', 'n'],
  'agent',
  'family',
  'symbol',
  ['alloc', 'n'],
  ['PnL', 'n'],
  ['realized', 'n'],
  ['unrealized', 'n'],
  ['fees', 'n'],
  ['ROI/session', 'n'],
  ['vol/session', 'n'],
  ['DD/peak', 'n'],
  ['util', 'n'],
  ['fills', 'n'],
  ['breaches', 'n'],
];

/** The leaderboard columns of one row, as text (escaped by the caller). */
function leaderboardCells(r: AgentScore): string[] {
  return [
    String(r.rank),
    r.agentId,
    r.family,
    r.symbol,
    formatUsd(r.allocationUsd),
    formatUsd(r.totalPnlUsd),
    formatUsd(r.realizedPnlUsd),
    formatUsd(r.unrealizedPnlUsd),
    formatUsd(r.feesUsd),
    formatPercent(r.roi),
    formatPercent(r.sessionVolatility),
    formatPercent(r.maxDrawdownOfPeakFraction),
    formatPercent(r.bankrollUtilization, 1),
    formatCount(r.tradeCount),
    formatCount(r.leverageBreaches + r.exposureBreaches),
  ];
}

function leaderboardTable(day: ReportDay): string {
  const candidate = day.promotion?.candidateAgentId;
  const board = day.score.leaderboard;
  const large = board.length > MAX_DRAWN_AGENTS;
  const shown = large
    ? board.filter((r, i) => i < LEADERBOARD_TOP_ROWS || r.agentId === candidate)
    : board;
  const rows = shown.map((r: AgentScore) => {
    const cls = r.agentId === candidate ? ' class="candidate"' : '';
    const cells = leaderboardCells(r);
    const signed: Record<number, number> = {
      5: r.totalPnlUsd,
      6: r.realizedPnlUsd,
      7: r.unrealizedPnlUsd,
      9: r.roi,
    };
    return `<tr${cls}>${cells
      .map((text, k) =>
        k >= 1 && k <= 3 ? td(escapeHtml(text)) : num(text, signed[k] as number | undefined),
      )
      .join('')}</tr>`;
  });
  const caption = large
    ? `The top ${LEADERBOARD_TOP_ROWS} of ${formatCount(board.length)} agents ranked by session PnL (then the smaller drawdown)${candidate ? ' (and the promoted candidate, highlighted)' : ''}; every agent is in the table below.`
    : `All ${board.length} agents ranked by session PnL (then the smaller drawdown).${candidate ? ' Highlighted: the promoted candidate.' : ''}`;
  return (
    `<div class="scroll"><table data-table="leaderboard-${escapeHtml(day.sessionDate)}">` +
    `<caption>${caption} Figures of ONE session per agent (n = 1; no annualized Sharpe: one session is not evidence): ROI = session PnL ÷ allocation; vol = volatility of the 1-minute returns scaled to the session; DD/peak: max drawdown from the agent's own peak equity; util: mean gross exposure ÷ allocation; breaches: leverage + aggregate-exposure clips; fills: executions (a round trip is two).</caption>` +
    headerRow(LEADERBOARD_COLUMNS) +
    `<tbody>${rows.join('')}</tbody></table></div>` +
    (large ? allAgentsTable(day) : '')
  );
}

/**
 * Every agent of a large cohort behind a drill-down, in compact markup (plain cells; the
 * numeric columns are right-aligned by CSS): ~250 bytes per agent.
 */
function allAgentsTable(day: ReportDay): string {
  const board = day.score.leaderboard;
  const rows = board.map(
    (r) => `<tr><td>${leaderboardCells(r).map(escapeHtml).join('</td><td>')}</td></tr>`,
  );
  return (
    `<details class="all-agents"><summary>All ${formatCount(board.length)} agents</summary>` +
    `<div class="scroll"><table data-table="leaderboard-all-${escapeHtml(day.sessionDate)}" class="compact">` +
    headerRow(LEADERBOARD_COLUMNS) +
    `<tbody>${rows.join('')}</tbody></table></div></details>`
  );
}

/** Built once (`toLocaleString` would build a new `Intl.NumberFormat` per call). */
const GATE_VALUE_FORMAT = new Intl.NumberFormat('en-US', { maximumSignificantDigits: 6 });

function gateValue(v: number | string | null): string {
  if (v === null) return 'n/a';
  if (typeof v === 'number') {
    return Number.isFinite(v) ? GATE_VALUE_FORMAT.format(v) : 'n/a';
  }
  return v;
}

/** A verdict badge: `pass`, `not judged` (does not block) or `fail`. */
function verdictBadge(verdict: string): string {
  const cls = verdict === 'pass' ? 'pass' : verdict === 'not_judged' ? 'not-judged' : 'fail';
  return `<span class="badge ${cls}">${escapeHtml(verdict.replaceAll('_', ' '))}</span>`;
}

function gatesTable(day: ReportDay, gates: readonly GateResult[]): string {
  const rows = gates.map(
    (g) =>
      '<tr>' +
      td(escapeHtml(g.gate)) +
      td(verdictBadge(g.verdict)) +
      num(gateValue(g.observed)) +
      num(gateValue(g.threshold)) +
      td(escapeHtml(g.unit)) +
      td(escapeHtml(g.reason), 'wrap') +
      td(escapeHtml(g.breakerAction)) +
      '</tr>',
  );
  return (
    `<h3>Gate outcomes <span class="sub">${describeVerdictCounts(countVerdicts(gates))}</span></h3>` +
    `<div class="scroll"><table data-table="gates-${escapeHtml(day.sessionDate)}">` +
    headerRow([
      'gate',
      'verdict',
      ['observed', 'n'],
      ['threshold', 'n'],
      'unit',
      'reason',
      'breaker action',
    ]) +
    `<tbody>${rows.join('')}</tbody></table></div>`
  );
}

function ordersTable(day: ReportDay, promotion: ReportPromotion): string {
  const clean = promotion.reconciliation === 'clean';
  const rows = promotion.orders.map(
    (o) =>
      '<tr>' +
      td(`<code>${escapeHtml(o.clientOrderId)}</code>`) +
      td(escapeHtml(o.symbol)) +
      td(escapeHtml(o.side)) +
      num(formatNumber(o.qty, Number.isInteger(o.qty) ? 0 : 4)) +
      td(escapeHtml(o.status)) +
      num(formatNumber(o.filledQty, Number.isInteger(o.filledQty) ? 0 : 4)) +
      num(o.filledAvgPriceUsd === null ? 'n/a' : formatUsd(o.filledAvgPriceUsd)) +
      '</tr>',
  );
  const body =
    rows.length > 0
      ? `<tbody>${rows.join('')}</tbody>`
      : '<tbody><tr><td colspan="7">No orders were submitted.</td></tr></tbody>';
  return (
    `<h3>Paper orders of candidate ${escapeHtml(promotion.candidateAgentId)} ` +
    `<span class="badge ${clean ? 'clean' : 'dirty'}" data-reconciliation="${clean ? 'clean' : 'breaks'}">reconciliation: ${escapeHtml(promotion.reconciliation)}</span></h3>` +
    `<div class="scroll"><table data-table="orders-${escapeHtml(day.sessionDate)}">` +
    headerRow([
      'client_order_id',
      'symbol',
      'side',
      ['qty', 'n'],
      'status',
      ['filled qty', 'n'],
      ['avg fill price', 'n'],
    ]) +
    `${body}</table></div>`
  );
}

/**
 * The fractional buys under Alpaca's USD 1 minimum the cohort's sizing did not send, summed
 * over agents (`AgentResult.belowMinimumBuys`), as a line; absent when none.
 */
function belowMinimumLine(sim: ReportDay['simulation']): string | undefined {
  const n = sim.agents.reduce((sum, a) => sum + (a.belowMinimumBuys ?? 0), 0);
  return n > 0 ? `${formatCount(n)} fractional buys under the USD 1 minimum not sent` : undefined;
}

function daySection(day: ReportDay, i: number): string {
  const sim = day.simulation;
  const p = day.score.parent;
  const tiles = [
    tile(
      'Parent PnL',
      formatUsd(p.totalPnlUsd),
      p.totalPnlUsd,
      `realized ${formatUsd(p.realizedPnlUsd)}, unrealized ${formatUsd(p.unrealizedPnlUsd)}`,
    ),
    tile('ROI', formatPercent(p.roi, 3), p.roi, `on ${formatUsd(p.bankrollUsd)} bankroll`),
    tile(
      'Volatility',
      p.sessionVolatility === undefined ? 'n/a' : formatPercent(p.sessionVolatility, 3),
      undefined,
      'per session (n = 1), 1-min returns × √minutes',
    ),
    tile(
      'Max drawdown',
      formatUsd(p.maxDrawdownUsd),
      undefined,
      `${formatPercent(p.maxDrawdownFraction, 3)} of bankroll`,
    ),
    tile(
      'Utilization',
      formatPercent(p.meanUtilization, 1),
      undefined,
      `mean; peak ${formatPercent(p.peakUtilization, 1)}`,
    ),
    tile('Fees', formatUsd(p.feesUsd)),
    tile('Trades', formatCount(p.tradeCount), undefined, belowMinimumLine(sim)),
    tile(
      'Breaches',
      formatCount(p.leverageBreaches + p.exposureBreaches),
      undefined,
      `${formatCount(p.forcedReductions)} forced reductions`,
    ),
  ].join('');
  const gates = day.gates && day.gates.length > 0 ? gatesTable(day, day.gates) : '';
  const orders = day.promotion ? ordersTable(day, day.promotion) : '';
  return (
    `<section class="day" id="${dayAnchor(i)}" data-day="${escapeHtml(day.sessionDate)}">` +
    `<h2>Session ${escapeHtml(day.sessionDate)} <span class="sub">cohort ${escapeHtml(day.cohortId)} · ` +
    `${escapeHtml(sim.symbols.join(', '))} · ${formatCount(sim.agents.length)} agents · bankroll ${escapeHtml(formatUsd(sim.bankrollUsd))} ` +
    `(${escapeHtml(sim.allocationPolicyApplied)}) · ${formatCount(sim.timestamps.length)} bars</span></h2>` +
    `<div class="tiles">${tiles}</div>` +
    `<h3>Equity</h3>${equityChart(day)}` +
    `<div class="charts"><div><h3>Bankroll utilization</h3>${utilizationChart(day)}</div>` +
    `<div><h3>Hourly ROI (parent)</h3>${hourlyRoiChart(day)}</div></div>` +
    `<h3>Leaderboard</h3>${leaderboardTable(day)}${gates}${orders}</section>`
  );
}

function summarySection(days: readonly ReportDay[]): string {
  const rows = days.map((d, i) => {
    const p = d.score.parent;
    const best = d.score.leaderboard[0];
    const gates = d.gates && d.gates.length > 0 ? d.gates : undefined;
    const counts = countVerdicts(gates ?? []);
    return (
      '<tr>' +
      td(`<a href="#${dayAnchor(i)}">${escapeHtml(d.sessionDate)}</a>`) +
      td(escapeHtml(d.cohortId)) +
      num(formatCount(d.simulation.agents.length)) +
      num(formatUsd(d.simulation.bankrollUsd)) +
      num(formatUsd(p.totalPnlUsd), p.totalPnlUsd) +
      num(formatPercent(p.roi, 3), p.roi) +
      num(p.sessionVolatility === undefined ? 'n/a' : formatPercent(p.sessionVolatility, 3)) +
      num(formatPercent(p.maxDrawdownFraction, 3)) +
      num(formatPercent(p.meanUtilization, 1)) +
      num(formatPercent(p.peakUtilization, 1)) +
      num(formatCount(p.tradeCount)) +
      td(
        best
          ? `${escapeHtml(best.agentId)} <span class="${signClass(best.totalPnlUsd)}">${escapeHtml(formatUsd(best.totalPnlUsd))}</span>`
          : 'n/a',
      ) +
      td(
        gates
          ? `<span class="badge ${counts.failed === 0 ? 'pass' : 'fail'}">${counts.passed}/${gates.length} pass${counts.notJudged > 0 ? `, ${counts.notJudged} not judged` : ''}</span>`
          : '—',
      ) +
      td(d.promotion ? escapeHtml(d.promotion.candidateAgentId) : '—') +
      '</tr>'
    );
  });
  const body =
    rows.length > 0 ? rows.join('') : '<tr><td colspan="14">No sessions in this run.</td></tr>';
  return (
    '<section id="summary"><h2>Summary</h2>' +
    '<div class="scroll"><table data-table="summary">' +
    '<caption>Parent wallet (whole cohort), one row per session (n = 1 session each; no annualized Sharpe: one session is not evidence). ROI: session PnL ÷ bankroll; vol/sess: volatility of the 1-minute returns scaled to the session; max drawdown and utilization relative to the bankroll.</caption>' +
    headerRow([
      'session',
      'cohort',
      ['agents', 'n'],
      ['bankroll', 'n'],
      ['parent PnL', 'n'],
      ['ROI', 'n'],
      ['vol/sess', 'n'],
      ['max DD', 'n'],
      ['util mean', 'n'],
      ['util peak', 'n'],
      ['trades', 'n'],
      'best agent',
      'gates',
      'promoted',
    ]) +
    `<tbody>${body}</tbody></table></div></section>`
  );
}

function learningSection(points: readonly LearningPoint[]): string {
  const gens = points.map((p) => p.generation);
  const g0 = Math.min(...gens);
  const g1 = Math.max(...gens);
  const stepG = Math.max(1, Math.ceil((g1 - g0) / 10));
  const ticks: Tick[] = [];
  for (let g = Math.ceil(g0); g <= g1; g += stepG) ticks.push({ value: g, label: String(g) });
  const chart = lineChart({
    hook: 'learning',
    title: 'Learning: best and mean fitness per generation',
    description: points
      .map(
        (p) =>
          `generation ${p.generation}: best ${formatNumber(orNaN(p.bestFitness), 4)}, mean ${formatNumber(orNaN(p.meanFitness), 4)}`,
      )
      .join('; '),
    series: [
      {
        id: 'mean',
        label: 'mean fitness',
        xs: gens,
        ys: points.map((p) => orNaN(p.meanFitness)),
        color: '#8c959f',
        width: 2,
      },
      {
        id: 'best',
        label: 'best fitness',
        xs: gens,
        ys: points.map((p) => orNaN(p.bestFitness)),
        color: '#8250df',
        width: 2.5,
      },
    ],
    xDomain: g1 > g0 ? [g0, g1] : [g0 - 1, g0 + 1],
    xTicks: ticks,
    formatY: (v) => formatNumber(v, 3),
    yAxisLabel: 'fitness',
    width: 640,
    height: 280,
  });
  const rows = points.map((p, i) => {
    const prev = i > 0 ? points[i - 1] : undefined;
    const dBest = prev ? orNaN(p.bestFitness) - orNaN(prev.bestFitness) : Number.NaN;
    const dMean = prev ? orNaN(p.meanFitness) - orNaN(prev.meanFitness) : Number.NaN;
    const delta = (d: number) =>
      Number.isFinite(d) ? num(`${d > 0 ? '+' : ''}${formatNumber(d, 4)}`, d) : num('—');
    return (
      '<tr>' +
      num(String(p.generation)) +
      num(formatNumber(orNaN(p.bestFitness), 4)) +
      delta(dBest) +
      num(formatNumber(orNaN(p.meanFitness), 4)) +
      delta(dMean) +
      '</tr>'
    );
  });
  const legend =
    '<span><i class="bold" style="background:#8250df"></i>best fitness</span>' +
    '<span><i style="background:#8c959f"></i>mean fitness</span>';
  return (
    '<section id="learning"><h2>Learning <span class="sub">fitness of the genome pool per generation</span></h2><div class="split">' +
    `<figure class="learning">${chart}<div class="legend">${legend}</div></figure>` +
    '<div class="scroll"><table data-table="learning">' +
    headerRow([
      ['generation', 'n'],
      ['best fitness', 'n'],
      ['Δ best', 'n'],
      ['mean fitness', 'n'],
      ['Δ mean', 'n'],
    ]) +
    `<tbody>${rows.join('')}</tbody></table></div></div></section>`
  );
}

/**
 * Renders the run report as one self-contained HTML document (UTF-8, no script, no external
 * resource; see the module comment for sections and chart conventions). Every string from
 * `input` is HTML-escaped. Chart hooks: `svg[data-chart="equity-<date>"]`,
 * `"utilization-<date>"`, `"hourly-roi-<date>"`, `"learning"`; tables:
 * `table[data-table="summary" | "leaderboard-<date>" | "gates-<date>" | "orders-<date>" |
 * "learning"]`. Money in USD (2 decimals), ratios as percentages, times America/New_York.
 *
 * @throws ValidationError('days[i].cohortId' | 'days[i].sessionDate') when a day's simulation
 *   or score belongs to another cohort or session than the day says.
 */
export function renderRunReport(input: RunReportInput): string {
  checkDays(input.days);
  const learning = input.learning && input.learning.length > 0 ? input.learning : undefined;
  const toc = [
    '<a href="#summary">Summary</a>',
    ...(input.days.length > 0 ? ['<a href="#record">Trading record</a>'] : []),
    ...(input.day3 && input.day3.length > 0 ? ['<a href="#day3">Day-3</a>'] : []),
    ...(learning ? ['<a href="#learning">Learning</a>'] : []),
    ...input.days.map((d, i) => `<a href="#${dayAnchor(i)}">${escapeHtml(d.sessionDate)}</a>`),
  ].join('');
  return [
    '<!doctype html>',
    '<html lang="en"><head><meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">`,
    '<meta name="generator" content="stagegate run report">',
    `<title>${escapeHtml(input.title)}</title>`,
    `<style>${CSS}</style></head><body>`,
    `<header class="top"><h1>${escapeHtml(input.title)}</h1><div class="meta">`,
    `<span>environment <strong>${escapeHtml(input.environment)}</strong></span>`,
    `<span>generated <time datetime="${escapeHtml(input.generatedAtIso)}">${escapeHtml(input.generatedAtIso)}</time></span>`,
    `<span>${formatCount(input.days.length)} session${input.days.length === 1 ? '' : 's'}</span>`,
    '</div></header>',
    `<nav class="toc" aria-label="Contents">${toc}</nav>`,
    '<main>',
    summarySection(input.days),
    tradingRecordSection(input.days, input.benchmark),
    day3Section(input.day3 ?? []),
    learning ? learningSection(learning) : '',
    ...input.days.map(daySection),
    '</main>',
    '<footer><ul>',
    "<li>Times are in the session market's zone: America/New_York for equities, UTC for crypto. Money in USD; ROI, drawdown and utilization are fractions shown as percentages.</li>",
    `<li>Chart series are downsampled to at most ${MAX_POINTS_PER_SERIES} points each (first and last point kept, plus the minimum and maximum of each bucket), so peaks and troughs are preserved; tables use the full data.</li>`,
    '<li>Per-session figures only: session return (PnL ÷ capital), volatility (sample standard deviation of the 1-minute returns × √minutes in the session) and drawdown. A Sharpe ratio is computed on daily (session) returns and annualized by √252 only on at least 20 sessions (docs/evidence.md); no minute Sharpe is shown.</li>',
    '<li>This file is self-contained: it loads nothing from the network.</li>',
    '</ul></footer></body></html>',
    '',
  ].join('\n');
}
