/**
 * A persisted generation of the genome pool and its zod schema (used by the repository to
 * validate what it writes and what it reads back).
 */
import * as z from 'zod';
import { type Genome, GenomeSchema, isBaselineFamily } from '../cohort/genome.js';
import { parseOrThrow, ValidationError } from '../errors.js';
import type { GenomeFitness } from './fitness.js';
import type {
  DiversityStats,
  LearningCycleStats,
  LineageEntry,
  ValidationStats,
} from './learning-cycle.js';

/**
 * One generation of the genome pool as persisted: the genomes the next cohorts draw from, how
 * each came to be, and the fitness of the generation it was bred from.
 */
export interface GenomeGeneration {
  /** 0 for the seeded pool, then +1 per learning cycle (integer >= 0). */
  readonly generation: number;
  readonly genomes: readonly Genome[];
  /** One entry per genome (empty for a seeded generation 0). */
  readonly lineage: readonly LineageEntry[];
  /**
   * Training fitness of the PREVIOUS generation's genomes that produced this one (empty for
   * 0): what breeding ranked by.
   */
  readonly fitness: readonly GenomeFitness[];
  /**
   * Validation fitness of the same genomes (what chose the elites), best first; absent or null
   * when nothing validated (`stats.validation`).
   */
  readonly validationFitness?: readonly GenomeFitness[] | null;
  /** PRNG seed of the learning cycle (or of `seedGenomePool` for generation 0). */
  readonly seed: number;
  /** When the generation was created, UTC ISO-8601 (from the `Clock` port). */
  readonly createdAtIso: string;
  /** The learning cycle's statistics; absent or null for generation 0. */
  readonly stats?: LearningCycleStats | null;
  /**
   * Distinct genomes evaluated from generation 0 through this one (the N of the deflated
   * Sharpe ratio): generation 0's size, then + each cycle's non-elite children. Absent in
   * generations saved before it was counted (`trialsThrough` walks back then).
   */
  readonly trials?: number;
}

const operator = z.enum(['elite', 'crossover', 'mutation', 'immigrant']);

export const LineageEntrySchema = z.object({
  childId: z.string().min(1),
  parentIds: z.array(z.string()),
  operator,
  parentFitness: z.array(z.number()),
}) satisfies z.ZodType<LineageEntry>;

export const GenomeFitnessSchema = z.object({
  genomeId: z.string().min(1),
  fitness: z.number(),
  samples: z.number().int().min(0),
  status: z.enum(['scored', 'idle', 'unscored']),
  meanRoi: z.number().nullable(),
  meanMaxDrawdownFraction: z.number().nullable(),
  // Generations saved before the per-session Sharpe carried a minute-return `meanSharpe`
  // (dropped on read; nothing decides on it).
  sessionSharpe: z.number().nullable().default(null),
  tradeCount: z.number().int().min(0),
  totalPnlUsd: z.number(),
}) satisfies z.ZodType<GenomeFitness>;

export const ValidationStatsSchema = z.object({
  status: z.enum(['off', 'split', 'unavailable']),
  reason: z.string(),
  trainingSessionDates: z.array(z.string()),
  validationSessionDates: z.array(z.string()),
  bestFitness: z.number().nullable(),
  meanFitness: z.number().nullable(),
  scoredGenomes: z.number().int().min(0),
}) satisfies z.ZodType<ValidationStats>;

export const DiversityStatsSchema = z.object({
  clonesDemoted: z.number().int().min(0),
  families: z.number().int().min(0),
  symbols: z.number().int().min(0),
}) satisfies z.ZodType<DiversityStats>;

export const LearningCycleStatsSchema = z.object({
  bestFitness: z.number().nullable(),
  meanFitness: z.number().nullable(),
  improvedOverPrevious: z.boolean().nullable(),
  scoredGenomes: z.number().int().min(0),
  samplesInWindow: z.number().int().min(0),
  operators: z.object({
    elite: z.number().int().min(0),
    crossover: z.number().int().min(0),
    mutation: z.number().int().min(0),
    immigrant: z.number().int().min(0),
  }),
  validation: ValidationStatsSchema.optional(),
  diversity: DiversityStatsSchema.optional(),
}) satisfies z.ZodType<LearningCycleStats>;

export const GenomeGenerationSchema = z.object({
  generation: z.number().int().min(0).max(9_999_999_999),
  /** The pool's genomes: never a baseline (`cohort/baselines.ts`), which is not bred. */
  genomes: z
    .array(
      GenomeSchema.refine((g) => !isBaselineFamily(g.family), {
        message: 'a baseline (flat, buy_and_hold) is never a genome of the pool',
        path: ['family'],
      }),
    )
    .min(1),
  lineage: z.array(LineageEntrySchema),
  fitness: z.array(GenomeFitnessSchema),
  validationFitness: z.array(GenomeFitnessSchema).nullable().optional(),
  seed: z.number().int(),
  createdAtIso: z.string().datetime({ offset: true }),
  stats: LearningCycleStatsSchema.nullable().optional(),
  trials: z.number().int().min(1).optional(),
}) satisfies z.ZodType<GenomeGeneration>;

/**
 * Validates an untrusted generation (shape only; genes are checked by `validateGenome` where
 * genomes are used). Also checks that genome ids are unique and that a non-empty lineage has
 * one entry per genome, in order.
 *
 * @throws ValidationError naming the path, e.g. `genomes[3].id` or `lineage`.
 */
export function parseGenomeGeneration(input: unknown): GenomeGeneration {
  const g = parseOrThrow(GenomeGenerationSchema, input, '', 'generation') as GenomeGeneration;
  const ids = new Set<string>();
  g.genomes.forEach((genome, i) => {
    if (ids.has(genome.id)) {
      throw new ValidationError(`genomes[${i}].id`, `duplicate genome id ${genome.id}`);
    }
    ids.add(genome.id);
  });
  if (g.lineage.length > 0) {
    const aligned =
      g.lineage.length === g.genomes.length &&
      g.lineage.every((l, i) => l.childId === g.genomes[i]?.id);
    if (!aligned) throw new ValidationError('lineage', 'must have one entry per genome, in order');
  }
  return g;
}
