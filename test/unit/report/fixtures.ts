/**
 * Synthetic run-report inputs: hand-built simulation results (deterministic wavy equity and
 * exposure curves, no market data) scored with the real `scoreCohort`.
 */
import { parseCohortConfig } from '../../../functions/core/cohort/config.js';
import { STRATEGY_FAMILIES, type StrategyFamily } from '../../../functions/core/cohort/genome.js';
import type { AgentResult, SimulationResult } from '../../../functions/core/cohort/simulate.js';
import type { GateResult } from '../../../functions/core/gates/types.js';
import type { ReportDay, RunReportInput } from '../../../functions/core/report/render.js';
import { scoreCohort } from '../../../functions/core/scoring/score.js';

export const MINUTE_MS = 60_000;

/** Options of {@link syntheticDay}. */
export interface SyntheticDayOptions {
  readonly agents?: number;
  readonly bars?: number;
  readonly bankrollUsd?: number;
  /** Agent ids to use instead of `a0001`, ...; shorter lists are completed with defaults. */
  readonly agentIds?: readonly string[];
  /** Symbol of every agent (default cycles SPY/BAC/AIG). */
  readonly symbol?: string;
  readonly cohortId?: string;
  /** Every agent gets the same wave (amplitude 2 USD, no phase shift): the parent's swing is n × 2. */
  readonly inPhase?: boolean;
}

/** 09:30 America/New_York on `date` (October 2013 is EDT, UTC−4). */
export function openMs(date: string): number {
  return Date.parse(`${date}T13:30:00Z`);
}

/**
 * A simulated cohort of `agents` agents over `bars` minutes: agent i's equity is its
 * allocation plus a sine wave of amplitude (i + 1) % 7 − 3 USD, its gross exposure half its
 * allocation times |sin|.
 */
export function syntheticSimulation(
  date: string,
  options: SyntheticDayOptions = {},
): SimulationResult {
  const n = options.agents ?? 5;
  const bars = options.bars ?? 390;
  const bankrollUsd = options.bankrollUsd ?? 1_000;
  const config = parseCohortConfig({ bankrollUsd, agentCount: n });
  const allocation = bankrollUsd / n;
  const open = openMs(date);
  const timestamps = Array.from({ length: bars }, (_, t) => open + t * MINUTE_MS);
  const symbols = ['SPY', 'BAC', 'AIG'];
  const agents: AgentResult[] = Array.from({ length: n }, (_, i) => {
    const amp = options.inPhase ? 2 : ((i + 1) % 7) - 3;
    const phase = options.inPhase ? 0 : i;
    const equityCurve = timestamps.map((_, t) => allocation + amp * Math.sin((t + phase) / 40));
    const grossExposureCurve = timestamps.map(
      (_, t) => 0.5 * allocation * Math.abs(Math.sin(t / 30)),
    );
    const family = STRATEGY_FAMILIES[i % STRATEGY_FAMILIES.length] as StrategyFamily;
    const symbol = options.symbol ?? (symbols[i % symbols.length] as string);
    const final = equityCurve.at(-1) as number;
    return {
      agentId: options.agentIds?.[i] ?? `a${String(i + 1).padStart(4, '0')}`,
      genome: { id: `g0-${i}`, family, symbol, generation: 0, parentIds: [], params: {} },
      allocationUsd: allocation,
      equityCurve,
      grossExposureCurve,
      finalCashUsd: final,
      positions: [],
      realizedPnlUsd: final - allocation + 0.01,
      unrealizedPnlUsd: 0,
      feesUsd: 0.01,
      fills: [],
      leverageBreaches: i % 2,
      exposureBreaches: 0,
      forcedReductions: 0,
      tradeCount: 2 * i,
    };
  });
  const parentEquity = timestamps.map((_, t) =>
    agents.reduce((s, a) => s + (a.equityCurve[t] as number), 0),
  );
  const parentGross = timestamps.map((_, t) =>
    agents.reduce((s, a) => s + (a.grossExposureCurve[t] as number), 0),
  );
  return {
    cohortId: options.cohortId ?? `coh-${date}`,
    sessionDate: date,
    market: 'equity-usa',
    sessionOpenMs: open,
    bankrollUsd,
    config,
    allocationPolicyApplied: 'equal',
    symbols,
    timestamps,
    parent: { unallocatedCashUsd: 0, equityCurve: parentEquity, grossExposureCurve: parentGross },
    agents,
  };
}

/** {@link syntheticSimulation} scored, as one report day. */
export function syntheticDay(date: string, options: SyntheticDayOptions = {}): ReportDay {
  const simulation = syntheticSimulation(date, options);
  return {
    sessionDate: date,
    cohortId: simulation.cohortId,
    simulation,
    score: scoreCohort(simulation),
  };
}

export const GATES: GateResult[] = [
  {
    gate: 'kill_switch',
    verdict: 'pass',
    observed: 'off',
    threshold: 'off',
    unit: 'state',
    reason: 'kill switch is off',
    breakerAction: 'none',
  },
  {
    gate: 'drawdown_parent',
    verdict: 'fail',
    observed: 0.123456789,
    threshold: 0.1,
    unit: 'fraction of peak equity',
    reason: 'parent drawdown 0.12 above max 0.1',
    breakerAction: 'flatten',
  },
  {
    gate: 'var_historical',
    verdict: 'fail',
    observed: null,
    threshold: 0.02,
    unit: 'fraction of capital',
    reason: 'daily returns missing: failing closed',
    breakerAction: 'pause_entries',
  },
];

/** Three sessions, 5 agents each; the last has gates and a promotion; a learning history. */
export function threeDayInput(agents = 5): RunReportInput {
  const d1 = syntheticDay('2013-10-07', { agents });
  const d2 = syntheticDay('2013-10-08', { agents });
  const d3 = syntheticDay('2013-10-09', { agents });
  return {
    title: 'stagegate run report',
    generatedAtIso: '2013-10-09T21:00:00.000Z',
    environment: 'test',
    days: [
      d1,
      d2,
      {
        ...d3,
        gates: GATES,
        promotion: {
          candidateAgentId: d3.score.leaderboard[0]?.agentId ?? 'a0001',
          orders: [
            {
              clientOrderId: 'sg-coh-2013-10-09-a0001-1',
              symbol: 'SPY',
              side: 'buy',
              qty: 3,
              status: 'filled',
              filledQty: 3,
              filledAvgPriceUsd: 1234.5,
            },
          ],
          reconciliation: 'clean',
        },
      },
    ],
    learning: [
      { generation: 0, bestFitness: 0.5, meanFitness: 0.1 },
      { generation: 1, bestFitness: 0.75, meanFitness: 0.2 },
      { generation: 2, bestFitness: 0.7, meanFitness: 0.3 },
    ],
  };
}

/** The `<svg data-chart="hook">...</svg>` element of `html` (charts never nest). */
export function chart(html: string, hook: string): string | undefined {
  const start = html.indexOf(`<svg xmlns="http://www.w3.org/2000/svg" data-chart="${hook}"`);
  if (start < 0) return undefined;
  const end = html.indexOf('</svg>', start);
  return html.slice(start, end + '</svg>'.length);
}

/** The `<table data-table="name">...</table>` element of `html`. */
export function table(html: string, name: string): string | undefined {
  const start = html.indexOf(`<table data-table="${name}"`);
  if (start < 0) return undefined;
  return html.slice(start, html.indexOf('</table>', start) + '</table>'.length);
}

/** Number of non-overlapping occurrences of `needle` in `haystack`. */
export function count(haystack: string, needle: string): number {
  return haystack.split(needle).length - 1;
}

/** The `points` attribute of each `<polyline>` of `svg`, parsed as [x, y] pairs. */
export function polylines(svg: string): { series: string; points: [number, number][] }[] {
  return [...svg.matchAll(/<polyline data-series="([^"]*)" points="([^"]*)"/g)].map((m) => ({
    series: m[1] as string,
    points: (m[2] as string)
      .split(' ')
      .filter((p) => p.length > 0)
      .map((p) => p.split(',').map(Number) as [number, number]),
  }));
}
