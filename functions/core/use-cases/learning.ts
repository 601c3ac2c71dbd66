/**
 * The scheduled learning cycle (`statemachines/learning-cycle.asl.json`): evolves ONE market's
 * persisted genome pool (the request's `market`, `equity-usa` when absent) from that market's
 * scored cohorts inside the lookback window, saves the next
 * generation with its lineage and fitness, and records `learning_cycle`. The next cohort
 * starts from the new pool, so Day 2 and Day 3 are not re-runs of Day 1.
 */
import * as z from 'zod';
import type { AuditSink } from '../../ports/audit.js';
import type { Clock } from '../../ports/clock.js';
import type { CohortRepository } from '../../ports/cohort-repository.js';
import type { GenomePoolRepository } from '../../ports/genome-pool.js';
import type { AuditDraft } from '../audit/record.js';
import type { Market } from '../calendar/market-calendar.js';
import { parseOrThrow } from '../errors.js';
import {
  type DiversityStats,
  runLearningCycle,
  type ValidationStats,
} from '../learning/learning-cycle.js';
import { scoredResultsFromCohorts } from '../learning/scored-results.js';
import { nextTrials, trialsThrough } from './day3-evidence.js';

/** Learning settings from the per-environment config. */
export const LearningConfigSchema = z.strictObject({
  /** Scored cohorts completed within this many hours feed fitness. */
  lookbackHours: z.union([z.literal(6), z.literal(12), z.literal(24)]),
  /** Genomes carried over unchanged. */
  eliteCount: z.number().int().min(0),
  /** Per-gene probability of a Gaussian step, [0, 1]. */
  mutationRate: z.number().min(0).max(1),
  /** Probability an offspring comes from crossover, [0, 1]. */
  crossoverRate: z.number().min(0).max(1),
  /** Contestants per tournament. */
  tournamentSize: z.number().int().min(1),
  /**
   * Latest sessions of the lookback held out to choose the elites (validation; 0 = none),
   * integer 0..30. Breeding never sees them (`splitSessions`, docs/evidence.md). @default 1
   */
  validationSessions: z.number().int().min(0).max(30).default(1),
  /** Sessions before the validation ones that breed, integer 1..250. @default 3 */
  trainingSessions: z.number().int().min(1).max(250).default(3),
});
export type LearningConfig = z.infer<typeof LearningConfigSchema>;

/** @throws ValidationError naming `learning.<field>`. */
export function parseLearningConfig(input: unknown): LearningConfig {
  return parseOrThrow(LearningConfigSchema, input, 'learning');
}

/** What starts a learning cycle. Strict: unknown keys (e.g. `now`) are refused, not stripped. */
export const LearningRequestSchema = z.strictObject({
  source: z.enum(['schedule', 'cli', 'event', 'test']),
  /** PRNG seed; default: derived from the current generation and the time. */
  seed: z.number().int().optional(),
  /**
   * The market whose genome pool the cycle breeds, from that market's cohorts only (`crypto`:
   * 24 h UTC sessions; `equity-usa`: NYSE sessions, also cohorts recorded before the market was
   * stored). The session-ingestion chain passes its session's market; the equity and crypto
   * learning schedules send theirs. Absent: `equity-usa` (requests from before pools were per
   * market meant the equity pool), never every market's cohorts.
   */
  market: z.enum(['equity-usa', 'crypto']).optional(),
});

export interface LearningDeps {
  readonly clock: Clock;
  readonly cohorts: CohortRepository;
  readonly genomePool: GenomePoolRepository;
  readonly audit: AuditSink;
  readonly environment: AuditDraft['environment'];
  readonly config: LearningConfig;
}

export interface LearningOutput {
  readonly status: 'evolved' | 'skipped';
  readonly reason: string;
  readonly fromGeneration: number | null;
  readonly generation: number | null;
  readonly poolSize: number;
  readonly cohortsInWindow: number;
  readonly bestFitness: number | null;
  readonly meanFitness: number | null;
  readonly improvedOverPrevious: boolean | null;
  /**
   * The cycle's train/validation split (`split`, `unavailable`, `off`) and its session dates;
   * null when skipped.
   */
  readonly validation: {
    readonly status: 'off' | 'split' | 'unavailable';
    readonly reason: string;
    readonly trainingSessionDates: readonly string[];
    readonly validationSessionDates: readonly string[];
    readonly bestFitness: number | null;
  } | null;
}

/** Cohorts listed when looking for those inside the lookback (newest first). */
const COHORT_SCAN = 100;

type PoolGeneration = NonNullable<Awaited<ReturnType<GenomePoolRepository['getCurrent']>>>;
type StoredCohort = Awaited<ReturnType<CohortRepository['get']>>;
type CycleResult = ReturnType<typeof runLearningCycle>;
type CycleBase = Pick<LearningOutput, 'fromGeneration' | 'poolSize' | 'cohortsInWindow'>;

/** A skipped cycle's output: why, and the generation it stays at. */
function skippedOutput(base: CycleBase, reason: string, generation: number | null): LearningOutput {
  return {
    ...base,
    status: 'skipped',
    reason,
    generation,
    bestFitness: null,
    meanFitness: null,
    improvedOverPrevious: null,
    validation: null,
  };
}

/** The core's cycle over the pool with the config's operators, on the cohorts read. */
function evolvePool(
  config: LearningConfig,
  current: PoolGeneration,
  cohorts: readonly StoredCohort[],
  seed: number,
  now: number,
): CycleResult {
  const symbols = [
    ...new Set(cohorts.flatMap((c) => c.symbols).concat(current.genomes.map((g) => g.symbol))),
  ].sort();
  return runLearningCycle({
    pool: current.genomes,
    scored: scoredResultsFromCohorts(cohorts),
    lookbackHours: config.lookbackHours,
    now,
    seed,
    poolSize: current.genomes.length,
    symbols,
    eliteCount: Math.min(config.eliteCount, current.genomes.length - 1),
    mutationRate: config.mutationRate,
    crossoverRate: config.crossoverRate,
    tournamentSize: config.tournamentSize,
    previousBestFitness: current.stats?.bestFitness ?? null,
    validationSessions: config.validationSessions,
    trainingSessions: config.trainingSessions,
  });
}

/**
 * Saves the next generation (pool, lineage, fitness, stats and the running trial count).
 * @returns the new generation number.
 * @throws GenomePoolConflictError when another cycle saved it first.
 */
async function saveNextGeneration(
  pool: GenomePoolRepository,
  market: Market,
  current: PoolGeneration,
  result: CycleResult,
  now: number,
): Promise<number> {
  const generation = current.generation + 1;
  const previousTrials = current.trials ?? (await trialsThrough(pool, market, current.generation));
  await pool.saveGeneration(market, {
    generation,
    genomes: result.pool,
    lineage: result.lineage,
    fitness: result.fitness,
    validationFitness: result.validationFitness,
    seed: result.seed,
    createdAtIso: new Date(now).toISOString(),
    stats: result.stats,
    ...(previousTrials === null ? {} : { trials: nextTrials(previousTrials, result.lineage) }),
  });
  return generation;
}

/** The `learning_cycle` payload of an evolved generation. */
function evolvedPayload(
  config: LearningConfig,
  fromGeneration: number,
  generation: number,
  result: CycleResult,
  recentCohortIds: readonly string[],
): Record<string, unknown> {
  const stats = result.stats;
  return {
    status: 'evolved',
    from_generation: fromGeneration,
    generation,
    seed: result.seed,
    lookback_hours: config.lookbackHours,
    cohorts_in_window: recentCohortIds,
    best_fitness: stats.bestFitness,
    mean_fitness: stats.meanFitness,
    improved_over_previous: stats.improvedOverPrevious,
    operators: stats.operators,
    ...auditSplit(stats.validation as ValidationStats, stats.diversity),
    lineage: result.lineage.map((l) => ({
      child: l.childId,
      parents: l.parentIds,
      operator: l.operator,
      parent_fitness: l.parentFitness,
    })),
  };
}

/**
 * Runs one learning cycle at `clock.now()`. Skips (and records why) when there is no pool yet
 * or no scored cohort of the pool's genomes inside the lookback: selection on no evidence is
 * noise. Never overwrites a generation (the repository's conditional writes).
 *
 * @throws ValidationError (bad request), GenomePoolConflictError (another cycle won the race).
 */
export async function learningCycle(
  deps: LearningDeps,
  input: { readonly request: unknown; readonly executionName: string },
): Promise<LearningOutput> {
  const parsed = parseOrThrow(LearningRequestSchema, input.request, 'request');
  const now = deps.clock.now();
  const stream = `learning:${input.executionName.replace(/[^A-Za-z0-9._:@/+-]/g, '') || 'x'}`;
  const market = parsed.market ?? 'equity-usa';
  const record = async (payload: Record<string, unknown>) =>
    deps.audit.append({
      kind: 'learning_cycle',
      actor: 'stagegate/learning-cycle',
      stream,
      environment: deps.environment,
      payload: { market, ...payload },
    });

  const current = await deps.genomePool.getCurrent(market);
  const { recent, read } = await cohortsOfMarket(deps, market, now);
  const base: CycleBase = {
    fromGeneration: current?.generation ?? null,
    poolSize: current?.genomes.length ?? 0,
    cohortsInWindow: recent.length,
  };
  if (!current) {
    const out = skippedOutput(
      base,
      `no ${market} genome pool yet (the market's first cohort seeds it)`,
      null,
    );
    await record({
      status: out.status,
      reason: out.reason,
      lookback_hours: deps.config.lookbackHours,
    });
    return out;
  }
  const cohorts = await Promise.all(read.map((c) => deps.cohorts.get(c.cohortId)));
  const seed =
    parsed.seed ??
    ((current.generation + 1) * 1_000_003 + Math.floor(now / 60_000)) % 2_147_483_647;
  const result = evolvePool(deps.config, current, cohorts, seed, now);
  if (result.stats.scoredGenomes === 0) {
    const out = skippedOutput(
      base,
      `no scored results of ${market} generation ${current.generation} in the last ${deps.config.lookbackHours} h`,
      current.generation,
    );
    await record({
      status: out.status,
      reason: out.reason,
      from_generation: current.generation,
      lookback_hours: deps.config.lookbackHours,
      cohorts_in_window: recent.length,
    });
    return out;
  }
  const generation = await saveNextGeneration(deps.genomePool, market, current, result, now);
  await record(
    evolvedPayload(
      deps.config,
      current.generation,
      generation,
      result,
      recent.map((c) => c.cohortId),
    ),
  );
  return evolvedOutput(
    base,
    `${market} generation ${generation} from ${result.stats.scoredGenomes} scored genome(s) in ${recent.length} cohort(s)`,
    generation,
    result,
  );
}

/** An evolved cycle's output: the new generation, its fitness and its train/validation split. */
function evolvedOutput(
  base: CycleBase,
  reason: string,
  generation: number,
  result: CycleResult,
): LearningOutput {
  const stats = result.stats;
  const validation = stats.validation as NonNullable<typeof stats.validation>;
  return {
    ...base,
    status: 'evolved',
    reason,
    generation,
    bestFitness: stats.bestFitness,
    meanFitness: stats.meanFitness,
    improvedOverPrevious: stats.improvedOverPrevious,
    validation: {
      status: validation.status,
      reason: validation.reason,
      trainingSessionDates: validation.trainingSessionDates,
      validationSessionDates: validation.validationSessionDates,
      bestFitness: validation.bestFitness,
    },
  };
}

function auditSplit(v: ValidationStats, diversity: DiversityStats | undefined) {
  return {
    validation: {
      status: v.status,
      reason: v.reason,
      training_sessions: v.trainingSessionDates,
      validation_sessions: v.validationSessionDates,
      best_validation_fitness: v.bestFitness,
    },
    diversity: diversity ?? null,
  };
}

/**
 * {@link cohortsToRead} over the listed cohorts of `market` (`equity-usa` takes cohorts stored
 * before cohorts named their market too).
 */
async function cohortsOfMarket(
  deps: Pick<LearningDeps, 'cohorts' | 'config'>,
  market: Market,
  now: number,
) {
  const listed = (await deps.cohorts.list(COHORT_SCAN)).filter(
    (c) => (c.market ?? 'equity-usa') === market,
  );
  return cohortsToRead(listed, now, deps.config);
}

/**
 * The cohorts of the lookback (`recent`: completed in `[now − lookbackHours, now]`) and those
 * the cycle reads (`read`): with validation, also the cohorts of the latest (validation +
 * training) session dates completed by `now`, since the training sessions lie before the
 * validation ones, possibly outside the lookback (the core splits them). Nothing completed
 * after `now`.
 */
function cohortsToRead<C extends { readonly completedAtIso: string; readonly sessionDate: string }>(
  listed: readonly C[],
  now: number,
  config: LearningConfig,
): { recent: C[]; read: C[] } {
  const since = now - config.lookbackHours * 3_600_000;
  const completed = listed.filter((c) => Date.parse(c.completedAtIso) <= now);
  const recent = completed.filter((c) => Date.parse(c.completedAtIso) >= since);
  const sessionsRead = new Set(
    [...new Set(completed.map((c) => c.sessionDate))]
      .sort()
      .slice(-(config.validationSessions + config.trainingSessions)),
  );
  const read = completed.filter(
    (c) => recent.includes(c) || (config.validationSessions > 0 && sessionsRead.has(c.sessionDate)),
  );
  return { recent, read };
}
