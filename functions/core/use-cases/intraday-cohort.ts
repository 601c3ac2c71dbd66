import * as z from 'zod';
import type { ArtifactStore } from '../../ports/artifact-store.js';
import type { Clock } from '../../ports/clock.js';
import type { CohortRepository } from '../../ports/cohort-repository.js';
import type { GenomePoolRepository } from '../../ports/genome-pool.js';
import type { MarketDataPort } from '../../ports/market-data.js';
import { decisionProvenance } from '../audit/record.js';
import { isTradingDay, type Market, marketDate } from '../calendar/market-calendar.js';
import { simulateBaselines } from '../cohort/baselines.js';
import { type CohortConfig, parseCohortConfig } from '../cohort/config.js';
import { type FillCosts, fillCostsOf } from '../cohort/fill-model.js';
import { type Genome, seedGenomePool } from '../cohort/genome.js';
import { simulateCohort } from '../cohort/simulate.js';
import { NoDailyHistoryError, parseOrThrow, ValidationError } from '../errors.js';
import { costsForMarket } from '../exchange/fee-schedules.js';
import { sessionDataHash } from '../market/session-hash.js';
import type { DailyBar, MarketSession } from '../market/types.js';
import { type CohortScore, scoreCohort } from '../scoring/score.js';
import {
  type AgentRow,
  type BaselineRow,
  BaselineRowSchema,
  type CohortRecord,
  CohortRequestSchema,
  type ParentSummary,
} from './cohort-records.js';
import { readSimulation, scoreKeyOf, simulationKeyOf } from './simulation-artifact.js';

/** Trailing daily bars used for the risk-weighted allocation's volatility estimate. */
const RISK_LOOKBACK_SESSIONS = 20;

/** The prepare step's answer for a scheduled run on a day the market is closed. */
export interface SkippedCohort {
  readonly skipped: true;
  readonly sessionDate: string;
  readonly reason: string;
}

/** Output of the prepare step: everything later steps need, validated. */
export interface PreparedCohort {
  readonly skipped: false;
  readonly cohortId: string;
  readonly executionId: string;
  readonly startedAtIso: string;
  readonly sessionDate: string;
  readonly symbols: readonly string[];
  readonly config: CohortConfig;
  /** Daily return standard deviation per symbol (fraction), over the trailing 20 sessions. */
  readonly riskEstimates: Readonly<Record<string, number>>;
  readonly market: {
    /** Calendar of the session (`market-calendar.ts`); absent in older executions: `equity-usa`. */
    readonly calendar?: MarketSession['market'];
    readonly barCount: number;
    readonly firstBarIso: string;
    readonly lastBarIso: string;
    /** Minutes without a trade, per symbol. */
    readonly missingBars: Readonly<Record<string, number>>;
    /**
     * Hex SHA-256 of the bars the cohort simulates (`sessionDataHash`): part of the
     * `cohort_scored` record's `data_hash`, so other bars for the same day show in the trail.
     */
    readonly barsHash: string;
  };
  /**
   * Set for a partial (intraday) cohort: it sees only the bars that had ended by this UTC
   * ISO-8601 time (the prepare step's clock, never the request); null for a complete cohort.
   * Promotions never read a partial cohort.
   */
  readonly partialUpToIso: string | null;
  /**
   * The cohort's baselines (`cohort/baselines.ts`), simulated once on the same bars and the
   * cohort's config; persisted with the cohort. Empty in executions started before baselines.
   */
  readonly baselines: readonly BaselineRow[];
}

export interface RunOutput {
  readonly cohortId: string;
  readonly simulationKey: string;
  readonly agentCount: number;
  readonly agentBars: number;
  /** Generation of the genome pool the agents came from (0 = seeded). */
  readonly genomeGeneration: number;
  /** `pool`: the persisted pool; `seeded`: a fresh pool (none fits this request). */
  readonly genomeSource: 'pool' | 'seeded';
}

/**
 * The agents' genomes, from the pool of the session's market (`prepared.market.calendar`;
 * absent in older executions: `equity-usa`): the pool's current generation when it fits the
 * request (same size, only the requested symbols); otherwise a pool seeded from the config
 * seed, saved as that market's generation 0 when the market has no pool yet (so its learning
 * cycles have a start).
 */
export async function genomesFor(
  deps: { readonly genomePool: GenomePoolRepository; readonly clock: Clock },
  prepared: Pick<PreparedCohort, 'symbols' | 'config' | 'market'>,
): Promise<{ genomes: Genome[]; generation: number; source: 'pool' | 'seeded' }> {
  const market = prepared.market.calendar ?? 'equity-usa';
  const current = await deps.genomePool.getCurrent(market);
  const symbols = new Set(prepared.symbols);
  if (
    current &&
    current.genomes.length === prepared.config.agentCount &&
    current.genomes.every((g) => symbols.has(g.symbol))
  ) {
    return { genomes: [...current.genomes], generation: current.generation, source: 'pool' };
  }
  const genomes = seedGenomePool(
    prepared.config.agentCount,
    prepared.symbols,
    prepared.config.seed,
  );
  if (!current) {
    await deps.genomePool.saveGeneration(market, {
      generation: 0,
      genomes,
      lineage: [],
      fitness: [],
      seed: prepared.config.seed,
      createdAtIso: new Date(deps.clock.now()).toISOString(),
      trials: new Set(genomes.map((g) => g.id)).size,
    });
    return { genomes, generation: 0, source: 'pool' };
  }
  return { genomes, generation: 0, source: 'seeded' };
}

export interface ScoreOutput {
  readonly cohortId: string;
  readonly scoreKey: string;
  readonly parent: ParentSummary;
  /** The top of the leaderboard (at most 5 rows), for audit payloads and notifications. */
  readonly top: readonly AgentRow[];
  /** Agents that never traded in the session (a genome that cannot act is a failed agent). */
  readonly idleAgents: number;
  /**
   * What the scored cohort rests on (docs/audit.md#provenance), for the `cohort_scored`
   * record: `config_hash` over the cohort config and symbols, `data_hash` over the session
   * date, the bars' hash, the partial cut-off, the risk estimates and every agent's genome.
   */
  readonly provenance: { readonly config_hash: string; readonly data_hash: string };
}

/**
 * `{ config_hash, data_hash }` of a scored cohort (see {@link ScoreOutput.provenance}).
 *
 * @param genomes the simulated agents' genomes, in agent order.
 */
export function cohortProvenance(
  prepared: Pick<
    PreparedCohort,
    'config' | 'symbols' | 'sessionDate' | 'market' | 'partialUpToIso' | 'riskEstimates'
  >,
  genomes: readonly unknown[],
): { config_hash: string; data_hash: string } {
  return decisionProvenance(
    { cohort: prepared.config, symbols: prepared.symbols },
    {
      session_date: prepared.sessionDate,
      bars_hash: prepared.market.barsHash,
      partial_up_to: prepared.partialUpToIso,
      risk_estimates: prepared.riskEstimates,
      genomes,
    },
  );
}

export interface PersistOutput {
  readonly cohortId: string;
  readonly agentRows: number;
}

/**
 * The session date a request targets: `sessionDate` if given; else, for `equity-usa` (the
 * default), the America/New_York calendar date of `scheduledTime`; for `crypto` (24 h UTC
 * sessions, their own calendar), the last UTC day that had closed by `scheduledTime` (a
 * schedule at 00:05 UTC runs the cohort of the day that just ended: every bar it reads is
 * older than the firing).
 */
export function resolveSessionDate(req: {
  sessionDate?: string;
  scheduledTime?: string;
  market?: 'equity-usa' | 'crypto';
}): string {
  if (req.sessionDate) return req.sessionDate;
  const at = Date.parse(req.scheduledTime ?? '');
  if (req.market === 'crypto') return new Date(at - 86_400_000).toISOString().slice(0, 10);
  return marketDate(at, 'equity-usa');
}

/**
 * A cohort id unique per execution and readable: `coh-YYYYMMDD-<execution name tail>`.
 * Retries of a step inside one execution reuse it; a new execution gets a new one.
 */
export function cohortIdFor(sessionDate: string, executionName: string): string {
  const tail = executionName.replace(/[^A-Za-z0-9-]/g, '').slice(-26) || 'x';
  return `coh-${sessionDate.replaceAll('-', '')}-${tail}`;
}

/** Parses a request field by field; throws ValidationError naming the field. */
function parseRequest(raw: unknown) {
  return parseOrThrow(CohortRequestSchema, raw, 'request');
}

/** Sample standard deviation of simple daily returns of `closes` (fraction); NaN if < 3. */
function dailyVolatility(closes: readonly number[]): number {
  if (closes.length < 3) return Number.NaN;
  const rets: number[] = [];
  for (let i = 1; i < closes.length; i++) {
    const prev = closes[i - 1] as number;
    rets.push((closes[i] as number) / prev - 1);
  }
  const mean = rets.reduce((a, b) => a + b, 0) / rets.length;
  const variance = rets.reduce((a, r) => a + (r - mean) ** 2, 0) / (rets.length - 1);
  return Math.sqrt(variance);
}

/**
 * A partial cohort runs on the current session only (`sessionDate` is today on the market's
 * calendar at `nowMs`, epoch ms UTC) and only on a trading day.
 *
 * @throws ValidationError naming `request.sessionDate` or `request.partial`.
 */
function checkPartialSession(sessionDate: string, market: Market, nowMs: number): void {
  const today = marketDate(nowMs, market);
  if (sessionDate !== today) {
    throw new ValidationError(
      'request.sessionDate',
      `a partial cohort runs on the current session (${today} on the ${market} calendar), not ${sessionDate}`,
    );
  }
  if (!isTradingDay(sessionDate, market)) {
    throw new ValidationError(
      'request.partial',
      `${market} market closed on ${sessionDate}: no session to start a partial cohort on`,
    );
  }
}

/**
 * Daily volatility σ per symbol (fraction per day) from the split- and dividend-adjusted closes
 * of the last RISK_LOOKBACK_SESSIONS sessions before `sessionDate` (45 calendar days read); a
 * symbol without daily history, or with σ not finite and positive, is left out.
 */
async function dailyRiskEstimates(
  marketData: MarketDataPort,
  symbols: readonly string[],
  sessionDate: string,
): Promise<Record<string, number>> {
  const riskEstimates: Record<string, number> = {};
  const from = new Date(Date.parse(`${sessionDate}T00:00:00Z`) - 45 * 86_400_000)
    .toISOString()
    .slice(0, 10);
  const dayBefore = new Date(Date.parse(`${sessionDate}T00:00:00Z`) - 86_400_000)
    .toISOString()
    .slice(0, 10);
  for (const symbol of symbols) {
    // Split- and dividend-adjusted closes: a split is never read as a volatility spike. A
    // symbol without daily history gets no σ (risk-weighted allocation falls back to equal).
    let daily: readonly DailyBar[];
    try {
      daily = (await marketData.loadDailyHistory(symbol, from, dayBefore)).bars;
    } catch (err) {
      if (!(err instanceof NoDailyHistoryError)) throw err;
      daily = [];
    }
    const sigma = dailyVolatility(daily.slice(-RISK_LOOKBACK_SESSIONS - 1).map((d) => d.close));
    if (Number.isFinite(sigma) && sigma > 0) riskEstimates[symbol] = sigma;
  }
  return riskEstimates;
}

/**
 * Prepare step: validates the request and the cohort config, resolves the session (a
 * scheduled run on a day the market calendar says is closed returns a skip), loads
 * the session's bars once to prove they are usable, and estimates per-symbol risk.
 *
 * @throws ValidationError (bad request or config field), UnknownSymbolError, NoSessionError,
 *   DataFileMissingError, DataFileCorruptError (from the market-data port).
 */
export async function prepareCohort(
  deps: {
    readonly marketData: MarketDataPort;
    readonly clock: Clock;
    /**
     * The stage's equity costs (its fee preset, `lib/config` `fees`); absent: the cohort
     * config's defaults. A crypto session pays Alpaca's crypto fee whatever they are.
     */
    readonly equityCosts?: FillCosts;
  },
  input: {
    readonly request: unknown;
    readonly executionId: string;
    readonly executionName: string;
  },
): Promise<PreparedCohort | SkippedCohort> {
  const request = parseRequest(input.request);
  const config = parseCohortConfig({
    bankrollUsd: request.bankrollUsd,
    agentCount: request.agentCount,
    allocation: request.allocation,
    seed: request.seed,
    ...(deps.equityCosts ? fillCostsOf(deps.equityCosts) : {}),
  });
  const sessionDate = resolveSessionDate(request);
  const market = request.market ?? 'equity-usa';
  if (request.source === 'schedule' && !isTradingDay(sessionDate, market)) {
    // A schedule firing on a closed day is a skip, not an error (no retry, no alarm).
    return { skipped: true, sessionDate, reason: `${market} market closed on ${sessionDate}` };
  }
  const symbols = request.symbols.map((s) => s.toUpperCase());
  // A partial cohort runs on today's bars up to the step's own clock: the request can name
  // neither another day nor a time (no input of a deployed workflow sets the time).
  const nowMs = deps.clock.now();
  if (request.partial) checkPartialSession(sessionDate, market, nowMs);
  const session = request.partial
    ? await deps.marketData.loadSessionUpTo(sessionDate, symbols, nowMs)
    : await deps.marketData.loadSession(sessionDate, symbols);
  if (session.timestamps.length === 0) {
    throw new ValidationError(
      request.partial ? 'request.partial' : 'request.sessionDate',
      request.partial
        ? `no bar of the ${sessionDate} session has ended yet at ${new Date(nowMs).toISOString()}`
        : `no regular-session bars on ${sessionDate}`,
    );
  }
  const missingBars: Record<string, number> = {};
  for (const series of session.series) {
    let missing = 0;
    for (const c of series.close) if (Number.isNaN(c)) missing++;
    missingBars[series.symbol] = missing;
  }
  const riskEstimates = await dailyRiskEstimates(deps.marketData, symbols, sessionDate);
  const first = session.timestamps[0] as number;
  const last = session.timestamps[session.timestamps.length - 1] as number;
  const cohortId = cohortIdFor(sessionDate, input.executionName);
  // The symbols' market picks the fee schedule the cohort is simulated with (and records).
  const costed: CohortConfig = { ...config, ...costsForMarket(config, session.market) };
  return {
    skipped: false,
    cohortId,
    executionId: input.executionId,
    startedAtIso: new Date(nowMs).toISOString(),
    sessionDate,
    symbols,
    config: costed,
    riskEstimates,
    market: {
      calendar: session.market,
      barCount: session.timestamps.length,
      firstBarIso: new Date(first).toISOString(),
      lastBarIso: new Date(last).toISOString(),
      missingBars,
      barsHash: sessionDataHash(session),
    },
    partialUpToIso: request.partial ? new Date(nowMs).toISOString() : null,
    baselines: simulateBaselines({ cohortId, session, config: costed }),
  };
}

/**
 * The bars a prepared cohort simulates: the whole session, or for a partial cohort the bars
 * that had ended by {@link PreparedCohort.partialUpToIso}.
 */
export function loadPreparedSession(
  marketData: MarketDataPort,
  prepared: Pick<PreparedCohort, 'sessionDate' | 'symbols'> & {
    readonly partialUpToIso?: string | null;
  },
): Promise<MarketSession> {
  return prepared.partialUpToIso
    ? marketData.loadSessionUpTo(
        prepared.sessionDate,
        prepared.symbols,
        Date.parse(prepared.partialUpToIso),
      )
    : marketData.loadSession(prepared.sessionDate, prepared.symbols);
}

/**
 * Run step: takes the agents' genomes from the pool (see {@link genomesFor}), simulates the cohort over the session and stores the
 * full {@link SimulationResult} as an artifact.
 *
 * @throws the market-data port's errors, ValidationError from the simulator.
 */
export async function runCohort(
  deps: {
    readonly marketData: MarketDataPort;
    readonly artifacts: ArtifactStore;
    readonly genomePool: GenomePoolRepository;
    readonly clock: Clock;
  },
  prepared: PreparedCohort,
): Promise<RunOutput> {
  const session = await loadPreparedSession(deps.marketData, prepared);
  const { genomes, generation, source } = await genomesFor(deps, prepared);
  const result = simulateCohort({
    cohortId: prepared.cohortId,
    session,
    genomes,
    config: prepared.config,
    riskEstimates: prepared.riskEstimates,
  });
  const simulationKey = simulationKeyOf(prepared);
  await deps.artifacts.putJson(simulationKey, result);
  return {
    cohortId: prepared.cohortId,
    simulationKey,
    agentCount: result.agents.length,
    agentBars: result.agents.length * session.timestamps.length,
    genomeGeneration: generation,
    genomeSource: source,
  };
}

function toAgentRows(score: CohortScore): AgentRow[] {
  return score.leaderboard.map((a) => ({
    rank: a.rank,
    agentId: a.agentId,
    genomeId: a.genomeId,
    family: a.family,
    symbol: a.symbol,
    allocationUsd: a.allocationUsd,
    totalPnlUsd: a.totalPnlUsd,
    realizedPnlUsd: a.realizedPnlUsd,
    unrealizedPnlUsd: a.unrealizedPnlUsd,
    feesUsd: a.feesUsd,
    roi: a.roi,
    meanHourlyRoi: a.meanHourlyRoi,
    sharpe: a.sharpe,
    maxDrawdownFraction: a.maxDrawdownFraction,
    maxDrawdownOfPeakFraction: a.maxDrawdownOfPeakFraction,
    sessionVolatility: a.sessionVolatility,
    bankrollUtilization: a.bankrollUtilization,
    leverageBreaches: a.leverageBreaches,
    exposureBreaches: a.exposureBreaches,
    tradeCount: a.tradeCount,
  }));
}

function toParentSummary(score: CohortScore): ParentSummary {
  const p = score.parent;
  return {
    totalPnlUsd: p.totalPnlUsd,
    realizedPnlUsd: p.realizedPnlUsd,
    unrealizedPnlUsd: p.unrealizedPnlUsd,
    feesUsd: p.feesUsd,
    roi: p.roi,
    sharpe: p.sharpe,
    ...(p.sessionVolatility === undefined ? {} : { sessionVolatility: p.sessionVolatility }),
    maxDrawdownFraction: p.maxDrawdownFraction,
    meanUtilization: p.meanUtilization,
    peakUtilization: p.peakUtilization,
    hourlyRoi: [...p.hourlyRoi],
  };
}

const SimulationKeySchema = z.object({ simulationKey: z.string().min(1) });

/**
 * Score step: reads the simulation artifact, scores every agent and the parent wallet,
 * stores the {@link CohortScore} as an artifact and returns the summary.
 *
 * @throws NotFoundError when the simulation artifact is missing.
 */
export async function scoreCohortStep(
  deps: { readonly artifacts: ArtifactStore },
  input: { readonly prepared: PreparedCohort; readonly run: RunOutput },
): Promise<ScoreOutput> {
  const { simulationKey } = SimulationKeySchema.parse(input.run);
  const result = await readSimulation(deps.artifacts, simulationKey);
  const score = scoreCohort(result);
  const scoreKey = scoreKeyOf(simulationKey);
  await deps.artifacts.putJson(scoreKey, score);
  return {
    cohortId: input.prepared.cohortId,
    scoreKey,
    parent: toParentSummary(score),
    top: toAgentRows(score).slice(0, 5),
    idleAgents: score.leaderboard.filter((a) => a.tradeCount === 0).length,
    provenance: cohortProvenance(
      input.prepared,
      result.agents.map((a) => a.genome),
    ),
  };
}

/**
 * Persist step: writes the complete cohort (header + every agent row) to the repository.
 *
 * @throws NotFoundError when the score artifact is missing; the repository's errors.
 */
export async function persistCohort(
  deps: {
    readonly artifacts: ArtifactStore;
    readonly cohorts: CohortRepository;
    readonly clock: Clock;
    readonly environment: string;
  },
  input: {
    readonly prepared: PreparedCohort;
    readonly run: RunOutput;
    readonly score: ScoreOutput;
  },
): Promise<PersistOutput> {
  const score = (await deps.artifacts.getJson(input.score.scoreKey)) as CohortScore;
  const p = input.prepared;
  const leaderboard = toAgentRows(score);
  const record: CohortRecord = {
    cohortId: p.cohortId,
    environment: deps.environment,
    status: 'complete',
    sessionDate: p.sessionDate,
    executionId: p.executionId,
    startedAtIso: p.startedAtIso,
    completedAtIso: new Date(deps.clock.now()).toISOString(),
    symbols: [...p.symbols],
    bankrollUsd: p.config.bankrollUsd,
    agentCount: p.config.agentCount,
    allocation: p.config.allocation,
    seed: p.config.seed,
    barCount: p.market.barCount,
    ...(p.market.calendar ? { market: p.market.calendar } : {}),
    genomeGeneration: input.run.genomeGeneration,
    artifacts: { simulationKey: input.run.simulationKey, scoreKey: input.score.scoreKey },
    parent: toParentSummary(score),
    leaderboard,
    baselines: [...p.baselines],
    ...(p.partialUpToIso ? { partial: { upToIso: p.partialUpToIso } } : {}),
  };
  await deps.cohorts.saveCompleted(record);
  return { cohortId: p.cohortId, agentRows: leaderboard.length };
}

/** Validates a {@link PreparedCohort} coming back from the state machine. */
export const PreparedCohortSchema = z.object({
  skipped: z.literal(false),
  cohortId: z.string().min(1),
  executionId: z.string().min(1),
  startedAtIso: z.string(),
  sessionDate: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
  symbols: z.array(z.string()).min(1),
  config: z.custom<CohortConfig>((v) => {
    try {
      parseCohortConfig(v);
      return true;
    } catch {
      return false;
    }
  }, 'must be a valid cohort config'),
  riskEstimates: z.record(z.string(), z.number()),
  market: z.object({
    calendar: z.enum(['equity-usa', 'crypto']).optional(),
    barCount: z.number().int().positive(),
    firstBarIso: z.string(),
    lastBarIso: z.string(),
    missingBars: z.record(z.string(), z.number()),
    barsHash: z.string().regex(/^[0-9a-f]{64}$/),
  }),
  partialUpToIso: z.string().datetime().nullable().default(null),
  baselines: z.array(BaselineRowSchema).default([]),
});

export const RunOutputSchema = z.object({
  cohortId: z.string(),
  simulationKey: z.string().min(1),
  agentCount: z.number().int(),
  agentBars: z.number(),
  genomeGeneration: z.number().int().min(0),
  genomeSource: z.enum(['pool', 'seeded']),
});

export const ScoreOutputSchema = z.object({
  cohortId: z.string(),
  scoreKey: z.string().min(1),
  parent: z.record(z.string(), z.unknown()),
  top: z.array(z.record(z.string(), z.unknown())),
  idleAgents: z.number().int().min(0),
  provenance: z.object({
    config_hash: z.string().regex(/^[0-9a-f]{64}$/),
    data_hash: z.string().regex(/^[0-9a-f]{64}$/),
  }),
});
