/**
 * The learning cycle: one generation step of a genetic algorithm over the genome pool, driven
 * by the results of the cohorts scored inside a recent lookback window. Pure and
 * deterministic: same input (including `seed` and `now`) → same output, bit for bit, whatever
 * the order of `pool` and `scored`.
 *
 * One cycle:
 * 1. The results are split by session (`splitSessions` in `fitness.ts`): with
 *    `validationSessions > 0`, the latest sessions completed in `(now − lookbackHours, now]`
 *    are held out for validation and the `trainingSessions` sessions before them train;
 *    without validation (or before a pool has two sessions) the results completed in the
 *    window train. Fitness of every pool genome on each part (formula and its rationale:
 *    `fitness.ts`), then a total ranking of each.
 *    Niching (`niching.ts`): behavioural clones (same symbol and same outcome on every session
 *    of the part) rank after every other genome that is not idle, their niche's best keeping
 *    its place; a clone is never an elite.
 * 2. Elitism: the best `eliteCount` genomes BY VALIDATION FITNESS (by training fitness when
 *    nothing validates) are carried over UNCHANGED (same id, generation and parents), so their
 *    results keep counting in later windows. Idle genomes and genomes whose symbol is no longer
 *    in `symbols` cannot be elites. Breeding (step 4) ranks by TRAINING fitness only: the
 *    validation sessions choose survivors, never parents.
 * 3. Immigrants: `round(poolSize × immigrantRate)` (at least 1 when the rate is > 0) new random
 *    genomes keep diversity: each takes the first strategy family and the first symbol the new
 *    pool still lacks (else a uniformly drawn one), so a cycle with at least as many immigrants
 *    as families and symbols always holds every family and every allowed symbol.
 * 4. Offspring fill the rest. Parent A by tournament (`tournamentSize`) over the pool. With
 *    probability `crossoverRate`, parent B by tournament among the other genomes of A's family
 *    and the child takes each gene and the symbol from A or B (uniform crossover), followed by
 *    Gaussian mutation at `mutationRate` per gene; when A's family has no other genome
 *    (cross-family crossover is meaningless), the child is a mutation of A instead. Otherwise
 *    the child is a mutation of A: Gaussian mutation at `mutationRate` per gene, at least one
 *    gene. The symbol then mutates with probability `symbolMutationRate`. Every child is
 *    clamped to `GENOME_BOUNDS` (`clampGenome`, integers rounded).
 * 5. A child identical to one of its parents, or whose id or content (family, symbol, genes) is
 *    already in the new pool, is redrawn (up to 8 times, then replaced by an immigrant, itself
 *    redrawn until new): the new pool has unique ids and no two identical genomes, and always differs from the old one in at least one genome.
 *
 * Offspring and immigrants get `generation = max(pool generations) + 1`, `parentIds` (empty for
 * immigrants) and their id from `genomeId`.
 */
import * as z from 'zod';
import {
  type Genome,
  genomeId,
  randomGenome,
  STRATEGY_FAMILIES,
  type StrategyFamily,
  validateGenome,
} from '../cohort/genome.js';
import { parseOrThrow, ValidationError } from '../errors.js';
import { createRandom } from '../random.js';
import {
  DEFAULT_FITNESS_POLICY,
  evaluateFitness,
  type FitnessPolicy,
  type GenomeFitness,
  type ScoredGenomeResult,
  type SessionSplit,
  splitSessions,
  type ValidationStatus,
} from './fitness.js';
import { rankWithNiches } from './niching.js';
import {
  clampDraft,
  type GenomeDraft,
  gaussianMutation,
  mutateSymbol,
  sameContent,
  tournamentSelect,
  uniformCrossover,
} from './operators.js';

/** Lookback windows the configuration allows, hours. */
export const LOOKBACK_HOURS = [6, 12, 24] as const;
export type LookbackHours = (typeof LOOKBACK_HOURS)[number];

/** Defaults of the optional knobs of {@link LearningCycleInput}. */
export const LEARNING_DEFAULTS = {
  immigrantRate: 0.1,
  mutationScale: 0.1,
  symbolMutationRate: 0.05,
} as const;

/** Input of {@link runLearningCycle}. Rates are probabilities in [0, 1]. */
export interface LearningCycleInput {
  /** The current pool (the evaluated generation); non-empty, unique ids, valid genomes. */
  readonly pool: readonly Genome[];
  /** Results of scored cohorts (any window; the cycle keeps those inside the lookback). */
  readonly scored: readonly ScoredGenomeResult[];
  readonly lookbackHours: LookbackHours;
  /** Current time, epoch ms UTC (from the `Clock` port). */
  readonly now: number;
  /** Seed of the cycle's PRNG (safe integer). */
  readonly seed: number;
  /** Size of the new generation, integer 1..100,000. */
  readonly poolSize: number;
  /** Tickers genomes may trade; children and immigrants only use these. */
  readonly symbols: readonly string[];
  /** Genomes carried over unchanged, integer 0..poolSize − 1. */
  readonly eliteCount: number;
  /** Per-gene probability of a Gaussian step. */
  readonly mutationRate: number;
  /** Probability that an offspring comes from crossover (else mutation). */
  readonly crossoverRate: number;
  /** Contestants per tournament, integer >= 1 (1 = uniform random selection). */
  readonly tournamentSize: number;
  /** Share of the new pool that is random immigrants. @default 0.1 */
  readonly immigrantRate?: number;
  /** Gaussian step standard deviation as a fraction of each gene's range. @default 0.1 */
  readonly mutationScale?: number;
  /** Probability that a child switches to another allowed symbol. @default 0.05 */
  readonly symbolMutationRate?: number;
  /** Fitness tunables. @default DEFAULT_FITNESS_POLICY */
  readonly fitnessPolicy?: Partial<FitnessPolicy>;
  /** Best fitness of the previous cycle, for `stats.improvedOverPrevious`. */
  readonly previousBestFitness?: number | null;
  /**
   * Latest sessions of the lookback held out to choose the elites, integer 0..30 (0 = no
   * validation: the window trains and chooses). @default 0
   */
  readonly validationSessions?: number;
  /** Sessions before the validation ones that breed, integer 1..250. @default 3 */
  readonly trainingSessions?: number;
}

export type LineageOperator = 'elite' | 'crossover' | 'mutation' | 'immigrant';

/** How one genome of the new pool came to be. */
export interface LineageEntry {
  readonly childId: string;
  /** Ids from the evaluated pool; an elite lists itself; an immigrant none. */
  readonly parentIds: readonly string[];
  readonly operator: LineageOperator;
  /** Fitness of each parent, aligned with `parentIds`. */
  readonly parentFitness: readonly number[];
}

export interface LearningCycleStats {
  /** Best fitness among genomes with results in the window; null when none had results. */
  readonly bestFitness: number | null;
  /** Mean fitness among genomes with results in the window; null when none had results. */
  readonly meanFitness: number | null;
  /** bestFitness > previousBestFitness; null when either is unknown. */
  readonly improvedOverPrevious: boolean | null;
  /** Genomes of the evaluated pool with results in the window. */
  readonly scoredGenomes: number;
  /** Results inside the window attributed to pool genomes. */
  readonly samplesInWindow: number;
  /** How many genomes of the new pool each operator produced. */
  readonly operators: Readonly<Record<LineageOperator, number>>;
  /**
   * The train/validation split of the cycle: training figures are the ones above; the
   * validation part's best and mean fitness and scored genomes (null/0 unless `split`).
   * Absent in generations saved before the split existed.
   */
  readonly validation?: ValidationStats;
  /** Niching and coverage of the cycle; absent in generations saved before it existed. */
  readonly diversity?: DiversityStats;
}

/** How diverse the cycle kept the pool (`niching.ts`, the immigrants' coverage rule). */
export interface DiversityStats {
  /** Genomes of the evaluated pool ranked after the rest as behavioural clones (training). */
  readonly clonesDemoted: number;
  /** Distinct strategy families in the new pool. */
  readonly families: number;
  /** Distinct symbols in the new pool. */
  readonly symbols: number;
}

/** The validation part of a cycle, as persisted with its statistics. */
export interface ValidationStats {
  readonly status: ValidationStatus;
  readonly reason: string;
  /** `YYYY-MM-DD`, ascending. */
  readonly trainingSessionDates: readonly string[];
  /** `YYYY-MM-DD`, ascending; empty unless `split`. */
  readonly validationSessionDates: readonly string[];
  readonly bestFitness: number | null;
  readonly meanFitness: number | null;
  readonly scoredGenomes: number;
}

export interface LearningCycleResult {
  /** The new generation: elites (best first), then offspring, then immigrants. */
  readonly pool: Genome[];
  /** One entry per genome of the new pool, same order. */
  readonly lineage: LineageEntry[];
  /** Training fitness of every genome of the evaluated pool, best first (breeding ranks by it). */
  readonly fitness: GenomeFitness[];
  /**
   * Validation fitness of every genome of the evaluated pool, best first (the elites are its
   * head); null when nothing validates (`stats.validation.status` is not `split`).
   */
  readonly validationFitness: GenomeFitness[] | null;
  readonly seed: number;
  readonly stats: LearningCycleStats;
}

const finite = z.number().refine(Number.isFinite, 'must be finite');
const rate = z.number().min(0).max(1);

const ScoredSchema = z.object({
  genomeId: z.string().min(1),
  fitnessInputs: z.object({
    totalPnlUsd: finite,
    roi: finite,
    maxDrawdownFraction: finite.refine((v) => v >= 0, 'must be >= 0'),
    tradeCount: z.number().int().min(0),
  }),
  sessionDate: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date YYYY-MM-DD'),
  completedAtIso: z.string().datetime({ offset: true }),
});

const ParamsSchema = z.object({
  scored: z.array(ScoredSchema),
  lookbackHours: z.union([z.literal(6), z.literal(12), z.literal(24)]),
  now: finite.refine((v) => v >= 0, 'must be epoch ms >= 0'),
  seed: z.number().int().refine(Number.isSafeInteger, 'must be a safe integer'),
  poolSize: z.number().int().min(1).max(100_000),
  symbols: z.array(z.string().min(1)).min(1),
  eliteCount: z.number().int().min(0),
  mutationRate: rate,
  crossoverRate: rate,
  tournamentSize: z.number().int().min(1).max(10_000),
  immigrantRate: rate.optional(),
  mutationScale: z.number().gt(0).max(1).optional(),
  symbolMutationRate: rate.optional(),
  fitnessPolicy: z
    .object({
      drawdownPenalty: finite.refine((v) => v >= 0, 'must be >= 0').optional(),
      minTrades: z.number().int().min(0).optional(),
      idlePenalty: finite.refine((v) => v >= 0, 'must be >= 0').optional(),
    })
    .optional(),
  previousBestFitness: finite.nullable().optional(),
  validationSessions: z.number().int().min(0).max(30).optional(),
  trainingSessions: z.number().int().min(1).max(250).optional(),
});

function parseInput(input: LearningCycleInput): Genome[] {
  parseOrThrow(ParamsSchema, input, '', 'input');
  if (input.eliteCount >= input.poolSize) {
    throw new ValidationError(
      'eliteCount',
      `must be below poolSize (${input.poolSize}) so every cycle makes new genomes, got ${input.eliteCount}`,
    );
  }
  if (!Array.isArray(input.pool) || input.pool.length === 0) {
    throw new ValidationError(
      'pool',
      'must hold at least one genome (seed it with seedGenomePool)',
    );
  }
  const seen = new Set<string>();
  return input.pool.map((raw, i) => {
    const g = validateGenome(raw, `pool[${i}]`);
    if (seen.has(g.id)) throw new ValidationError(`pool[${i}].id`, `duplicate genome id ${g.id}`);
    seen.add(g.id);
    return g;
  });
}

const MAX_CHILD_ATTEMPTS = 8;

/** Strategy content of a genome (family, symbol, genes): equal keys trade identically. */
function contentKey(g: GenomeDraft): string {
  return JSON.stringify([
    g.family,
    g.symbol,
    Object.keys(g.params)
      .sort()
      .map((k) => [k, g.params[k]]),
  ]);
}

/**
 * Step 2: the elites, best first: not idle, not a clone, on an allowed symbol. A
 * validation-chosen elite may rank anywhere on training; breeding reads the training rank only.
 */
function electElites(
  ranked: readonly GenomeFitness[],
  clones: ReadonlyMap<string, string>,
  byId: ReadonlyMap<string, Genome>,
  symbols: readonly string[],
  count: number,
): Genome[] {
  const symbolSet = new Set(symbols);
  return ranked
    .filter((f) => f.status !== 'idle' && !clones.has(f.genomeId))
    .map((f) => byId.get(f.genomeId) as Genome)
    .filter((g) => symbolSet.has(g.symbol))
    .slice(0, count);
}

type Random = ReturnType<typeof createRandom>;

/**
 * The new pool under construction: its genomes and lineage in order, and the ids and strategy
 * content already in it (two genomes with different ids but the same content would be
 * duplicate rows).
 */
class NextPool {
  readonly genomes: Genome[] = [];
  readonly lineage: LineageEntry[] = [];
  private readonly ids = new Set<string>();
  private readonly contents = new Set<string>();

  constructor(
    private readonly rng: Random,
    private readonly symbols: readonly string[],
    private readonly generation: number,
  ) {}

  push(g: Genome, entry: Omit<LineageEntry, 'childId'>): void {
    this.genomes.push(g);
    this.ids.add(g.id);
    this.contents.add(contentKey(g));
    this.lineage.push({ childId: g.id, ...entry });
  }

  /** True when a genome of this id or this content is already in the pool. */
  holds(id: string, draft: GenomeDraft): boolean {
    return this.ids.has(id) || this.contents.has(contentKey(draft));
  }

  /** A random new genome (of `family`/`symbol` when given), redrawn until it is new. */
  immigrant(family?: StrategyFamily, symbol?: string): Genome {
    for (;;) {
      const g = randomGenome(
        this.rng,
        family ?? this.rng.pick(STRATEGY_FAMILIES),
        symbol === undefined ? this.symbols : [symbol],
        this.generation,
      );
      if (!this.holds(g.id, g)) return g;
    }
  }

  pushImmigrant(family?: StrategyFamily, symbol?: string): void {
    this.push(this.immigrant(family, symbol), {
      parentIds: [],
      operator: 'immigrant',
      parentFitness: [],
    });
  }
}

/** What breeding reads: the old pool by rank and family, and the cycle's operator settings. */
interface Breeding {
  readonly rng: Random;
  readonly pool: readonly Genome[];
  readonly byFamily: ReadonlyMap<string, Genome[]>;
  readonly rank: (g: Genome) => number;
  readonly symbols: readonly string[];
  readonly generation: number;
  readonly input: LearningCycleInput;
  readonly mutationScale: number;
  readonly symbolMutationRate: number;
}

/**
 * Step 4, one attempt: a tournament parent A; with probability crossoverRate (and a mate of
 * A's family) a second parent B and uniform crossover, else mutation of A; the child's
 * symbol may mutate. Returns the clamped draft and its parents.
 */
function breedDraft(b: Breeding): { draft: GenomeDraft; parents: Genome[]; cross: boolean } {
  const { rng, input, symbols } = b;
  const a = tournamentSelect(rng, b.pool, input.tournamentSize, b.rank);
  const mates = (b.byFamily.get(a.family) as Genome[]).filter((g) => g.id !== a.id);
  const cross = rng.next() < input.crossoverRate && mates.length > 0;
  if (cross) {
    const mate = tournamentSelect(rng, mates, input.tournamentSize, b.rank);
    const mixed = uniformCrossover(rng, a, mate);
    const symbol = rng.next() < 0.5 ? a.symbol : mate.symbol;
    const draft = {
      family: a.family,
      symbol: mutateSymbol(rng, symbol, symbols, b.symbolMutationRate),
      generation: b.generation,
      parentIds: [a.id, mate.id],
      params: gaussianMutation(rng, a.family, mixed, input.mutationRate, b.mutationScale, false),
    };
    return { draft: clampDraft(draft), parents: [a, mate], cross };
  }
  const draft = {
    family: a.family,
    symbol: mutateSymbol(rng, a.symbol, symbols, b.symbolMutationRate),
    generation: b.generation,
    parentIds: [a.id],
    params: gaussianMutation(rng, a.family, a.params, input.mutationRate, b.mutationScale, true),
  };
  return { draft: clampDraft(draft), parents: [a], cross };
}

/**
 * Step 4: `count` offspring, each from up to MAX_CHILD_ATTEMPTS attempts at a child new to the
 * pool and unlike its parents; an immigrant where every attempt failed.
 */
function breedOffspring(
  b: Breeding,
  next: NextPool,
  count: number,
  fitnessValue: (g: Genome) => number,
): void {
  for (let i = 0; i < count; i++) {
    let made = false;
    for (let attempt = 0; attempt < MAX_CHILD_ATTEMPTS && !made; attempt++) {
      const { draft: child, parents, cross } = breedDraft(b);
      const id = genomeId(child);
      if (next.holds(id, child) || parents.some((p) => sameContent(child, p))) continue;
      next.push(
        { id, ...child },
        {
          parentIds: parents.map((p) => p.id),
          operator: cross ? 'crossover' : 'mutation',
          parentFitness: parents.map(fitnessValue),
        },
      );
      made = true;
    }
    if (!made) next.pushImmigrant();
  }
}

/** The old pool grouped by strategy family (pool order kept). */
function groupByFamily(pool: readonly Genome[]): Map<string, Genome[]> {
  const byFamily = new Map<string, Genome[]>();
  for (const g of pool) {
    const list = byFamily.get(g.family);
    if (list) list.push(g);
    else byFamily.set(g.family, [g]);
  }
  return byFamily;
}

/**
 * Runs one learning cycle (see the module comment for every step and its source).
 *
 * Example: a 30-genome pool, eliteCount 3, immigrantRate 0.1 → 3 elites, 24 offspring,
 * 3 immigrants; `lineage[i].childId === pool[i].id`.
 *
 * @throws ValidationError naming the field: a malformed input (rates outside [0, 1],
 *   lookbackHours not 6/12/24, eliteCount >= poolSize, empty symbols, a result with a
 *   non-finite figure or a bad `completedAtIso`), an empty pool, an invalid genome
 *   (`pool[i].params.<gene>`) or a duplicate id (`pool[i].id`).
 */
export function runLearningCycle(input: LearningCycleInput): LearningCycleResult {
  const validPool = parseInput(input);
  const symbols = [...new Set(input.symbols)];
  const policy: FitnessPolicy = {
    ...DEFAULT_FITNESS_POLICY,
    ...stripUndefined(input.fitnessPolicy),
  };
  const immigrantRate = input.immigrantRate ?? LEARNING_DEFAULTS.immigrantRate;

  // Canonical order: results never depend on the order of the input arrays.
  const pool = [...validPool].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const { split, fitnessRows, ranked, validationRanked, electionClones, clones } = rankParts(
    pool,
    input,
    policy,
  );
  const fitnessOf = new Map(fitnessRows.map((f) => [f.genomeId, f]));
  const rankOf = new Map(ranked.map((f, i) => [f.genomeId, i]));
  const byId = new Map(pool.map((g) => [g.id, g]));
  const fitnessValue = (g: Genome) => (fitnessOf.get(g.id) as GenomeFitness).fitness;

  const rng = createRandom(input.seed);
  const childGeneration = pool.reduce((m, g) => Math.max(m, g.generation), 0) + 1;
  const next = new NextPool(rng, symbols, childGeneration);

  // 2. Elites: chosen on the validation sessions when there are any.
  const electionRanked = validationRanked ?? ranked;
  const elected = electElites(electionRanked, electionClones, byId, symbols, input.eliteCount);
  for (const elite of elected) {
    next.push(elite, {
      parentIds: [elite.id],
      operator: 'elite',
      parentFitness: [fitnessValue(elite)],
    });
  }

  // 3. Immigrant count (drawn last, after the offspring).
  const room = input.poolSize - next.genomes.length;
  const wanted = immigrantRate > 0 ? Math.max(1, Math.round(input.poolSize * immigrantRate)) : 0;
  const immigrants = Math.min(room, wanted);

  // 4. Offspring.
  const breeding: Breeding = {
    rng,
    pool,
    byFamily: groupByFamily(pool),
    rank: (g: Genome) => rankOf.get(g.id) as number,
    symbols,
    generation: childGeneration,
    input,
    mutationScale: input.mutationScale ?? LEARNING_DEFAULTS.mutationScale,
    symbolMutationRate: input.symbolMutationRate ?? LEARNING_DEFAULTS.symbolMutationRate,
  };
  breedOffspring(breeding, next, room - immigrants, fitnessValue);

  // 3 (cont.). Immigrants, first of the families and symbols the new pool lacks.
  for (let i = 0; i < immigrants; i++) {
    const family = STRATEGY_FAMILIES.find((f) => !next.genomes.some((g) => g.family === f));
    const symbol = symbols.find((x) => !next.genomes.some((g) => g.symbol === x));
    next.pushImmigrant(family, symbol);
  }

  const { genomes, lineage } = next;
  return {
    pool: genomes,
    lineage,
    fitness: ranked,
    validationFitness: validationRanked,
    seed: input.seed,
    stats: {
      ...stats(ranked, lineage, input.previousBestFitness ?? null),
      validation: validationStats(split, validationRanked),
      diversity: diversityStats(genomes, clones),
    },
  };
}

/** Step 1: the session split and the fitness of every pool genome on each part. */
function rankParts(pool: readonly Genome[], input: LearningCycleInput, policy: FitnessPolicy) {
  const split = splitSessions(pool, input.scored, {
    windowStartMs: input.now - input.lookbackHours * 3_600_000,
    windowEndMs: input.now,
    validationSessions: input.validationSessions ?? 0,
    trainingSessions: input.trainingSessions ?? 3,
  });
  const everything = Number.NEGATIVE_INFINITY;
  const fitnessRows = evaluateFitness(pool, split.training, everything, input.now, policy);
  const training = rankWithNiches(pool, fitnessRows, split.training);
  const validation =
    split.status === 'split'
      ? rankWithNiches(
          pool,
          evaluateFitness(pool, split.validation, everything, input.now, policy),
          split.validation,
        )
      : null;
  return {
    split,
    fitnessRows,
    ranked: training.ranked,
    validationRanked: validation?.ranked ?? null,
    // Elites are chosen on validation when there is one: its clones cannot be elites.
    electionClones: (validation ?? training).cloneOf,
    clones: training.cloneOf.size,
  };
}

function diversityStats(next: readonly Genome[], clones: number): DiversityStats {
  return {
    clonesDemoted: clones,
    families: new Set(next.map((g) => g.family)).size,
    symbols: new Set(next.map((g) => g.symbol)).size,
  };
}

function validationStats(
  split: SessionSplit,
  ranked: readonly GenomeFitness[] | null,
): ValidationStats {
  const withResults = (ranked ?? []).filter((f) => f.samples > 0);
  return {
    status: split.status,
    reason: split.reason,
    trainingSessionDates: split.trainingSessionDates,
    validationSessionDates: split.validationSessionDates,
    bestFitness: withResults.length
      ? withResults.reduce((m, f) => Math.max(m, f.fitness), Number.NEGATIVE_INFINITY)
      : null,
    meanFitness: withResults.length
      ? withResults.reduce((s, f) => s + f.fitness, 0) / withResults.length
      : null,
    scoredGenomes: withResults.length,
  };
}

function stripUndefined<T extends object>(o: T | undefined): Partial<T> {
  if (!o) return {};
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function stats(
  ranked: readonly GenomeFitness[],
  lineage: readonly LineageEntry[],
  previousBest: number | null,
): LearningCycleStats {
  const withResults = ranked.filter((f) => f.samples > 0);
  const bestFitness = withResults.length
    ? withResults.reduce((m, f) => Math.max(m, f.fitness), Number.NEGATIVE_INFINITY)
    : null;
  const meanFitness = withResults.length
    ? withResults.reduce((s, f) => s + f.fitness, 0) / withResults.length
    : null;
  const operators: Record<LineageOperator, number> = {
    elite: 0,
    crossover: 0,
    mutation: 0,
    immigrant: 0,
  };
  for (const l of lineage) operators[l.operator]++;
  return {
    bestFitness,
    meanFitness,
    improvedOverPrevious:
      bestFitness === null || previousBest === null ? null : bestFitness > previousBest,
    scoredGenomes: withResults.length,
    samplesInWindow: withResults.reduce((s, f) => s + f.samples, 0),
    operators,
  };
}

/** Re-exported so callers need one import for the cycle's vocabulary. */
export type {
  FitnessInputs,
  FitnessPolicy,
  GenomeFitness,
  ScoredGenomeResult,
  ValidationStatus,
} from './fitness.js';
export { DEFAULT_FITNESS_POLICY } from './fitness.js';
