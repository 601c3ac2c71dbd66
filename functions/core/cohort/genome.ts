/**
 * Genomes: the heritable description of one trading agent (strategy family, traded symbol,
 * numeric parameters). The cohort simulator runs one agent per genome; the learning cycle
 * mutates, crosses and selects them between cohorts.
 *
 * Strategy families (see `strategies.ts` for the exact rules):
 * - `momentum`: time-series momentum over a lookback (Jegadeesh & Titman, 1993; Moskowitz,
 *   Ooi & Pedersen, "Time series momentum", J. Financial Economics 104, 2012).
 * - `bollinger_reversion`: mean reversion to Bollinger Bands, a moving average ± k population
 *   standard deviations (John Bollinger, early 1980s; "Bollinger on Bollinger Bands", 2001).
 * - `donchian_breakout`: Donchian channel breakout (Richard Donchian, 1960s) with a stop at a
 *   multiple of the Average True Range (J. Welles Wilder, "New Concepts in Technical Trading
 *   Systems", 1978), as in the Turtle rules.
 * - `opening_range_breakout`: breakout of the session's opening range (Toby Crabel, "Day
 *   Trading with Short Term Price Patterns and Opening Range Breakout", 1990).
 */
import { createHash } from 'node:crypto';
import * as z from 'zod';
import { parseOrThrow, ValidationError } from '../errors.js';
import { createRandom, type Random } from '../random.js';

/**
 * The fixed reference strategies every cohort also runs (`baselines.ts`): `buy_and_hold` (the
 * whole slice long from the session's first bar to the flatten) and `flat` (never trades).
 * They are never seeded, bred, ranked or promoted.
 */
export type BaselineFamily = 'buy_and_hold' | 'flat';

export type StrategyFamily =
  | 'momentum'
  | 'bollinger_reversion'
  | 'donchian_breakout'
  | 'opening_range_breakout'
  | BaselineFamily;

/**
 * Every learnable family, in the round-robin order {@link seedGenomePool} uses (the baselines
 * are not among them: learning never draws one).
 */
export const STRATEGY_FAMILIES: readonly StrategyFamily[] = [
  'momentum',
  'bollinger_reversion',
  'donchian_breakout',
  'opening_range_breakout',
];

/** The baseline families, in the order a cohort's baselines are listed. */
export const BASELINE_FAMILIES: readonly BaselineFamily[] = ['flat', 'buy_and_hold'];

/** Whether `family` is a baseline (never bred, ranked or promoted). */
export function isBaselineFamily(family: string): family is BaselineFamily {
  return (BASELINE_FAMILIES as readonly string[]).includes(family);
}

/** Inclusive range of one gene; `integer` genes hold whole numbers. */
export interface GeneBounds {
  readonly min: number;
  readonly max: number;
  readonly integer: boolean;
}

/** Target position notional as a fraction of agent equity (gross, before the leverage clip). */
const RISK_FRACTION: GeneBounds = { min: 0.05, max: 2, integer: false };

/**
 * The genes of every family and their ranges. Windows are counted in 1-minute bars.
 *
 * - all: `riskFraction` (fraction of agent equity held when in a position, 0.05..2).
 * - momentum: `lookback` bars (2..120), `threshold` return over the lookback that triggers
 *   a position (fraction, 0.0002..0.02).
 * - bollinger_reversion: `window` bars (5..120), `k` band width in standard deviations (1..3.5).
 * - donchian_breakout: `window` bars of the channel (5..120), `atrWindow` bars of Wilder's ATR
 *   (5..60), `atrStop` stop distance in ATRs from the entry close (0.5..5).
 * - opening_range_breakout: `rangeMinutes` from the session open (5..90), `stopRangeMultiple`
 *   stop distance beyond the broken range edge in range widths (0.25..2; 1 = opposite edge).
 * - baselines: `buy_and_hold` holds `riskFraction` = 1 (the whole slice, unlevered); `flat`
 *   has no gene.
 */
export const GENOME_BOUNDS: Readonly<Record<StrategyFamily, Readonly<Record<string, GeneBounds>>>> =
  {
    momentum: {
      lookback: { min: 2, max: 120, integer: true },
      threshold: { min: 0.0002, max: 0.02, integer: false },
      riskFraction: RISK_FRACTION,
    },
    bollinger_reversion: {
      window: { min: 5, max: 120, integer: true },
      k: { min: 1, max: 3.5, integer: false },
      riskFraction: RISK_FRACTION,
    },
    donchian_breakout: {
      window: { min: 5, max: 120, integer: true },
      atrWindow: { min: 5, max: 60, integer: true },
      atrStop: { min: 0.5, max: 5, integer: false },
      riskFraction: RISK_FRACTION,
    },
    opening_range_breakout: {
      rangeMinutes: { min: 5, max: 90, integer: true },
      stopRangeMultiple: { min: 0.25, max: 2, integer: false },
      riskFraction: RISK_FRACTION,
    },
    buy_and_hold: {
      riskFraction: { min: 1, max: 1, integer: false },
    },
    flat: {},
  };

/** One agent's heritable description. */
export interface Genome {
  /** Deterministic id, `g<generation>-<12 hex of sha256(content)>` (see {@link genomeId}). */
  readonly id: string;
  readonly family: StrategyFamily;
  /** Traded ticker, upper case, e.g. `SPY`. */
  readonly symbol: string;
  /** 0 for a seeded genome, parent generation + 1 for offspring. */
  readonly generation: number;
  readonly parentIds: readonly string[];
  /** Genes of the family, see {@link GENOME_BOUNDS}. */
  readonly params: Readonly<Record<string, number>>;
}

/** Shape check of a genome (gene ranges are checked by {@link validateGenome}). */
export const GenomeSchema = z.object({
  id: z.string().min(1),
  family: z.enum([
    'momentum',
    'bollinger_reversion',
    'donchian_breakout',
    'opening_range_breakout',
    'buy_and_hold',
    'flat',
  ]),
  symbol: z.string().min(1),
  generation: z.number().int().min(0),
  parentIds: z.array(z.string()).readonly(),
  params: z.record(z.string(), z.number()),
}) satisfies z.ZodType<Genome>;

/**
 * Content address of a genome: `g<generation>-` + the first 12 hex digits of the SHA-256 of
 * its canonical JSON (family, symbol, generation, parent ids, params with sorted keys).
 */
export function genomeId(content: Omit<Genome, 'id'>): string {
  const params = Object.fromEntries(
    Object.keys(content.params)
      .sort()
      .map((k) => [k, content.params[k]]),
  );
  const canonical = JSON.stringify([
    content.family,
    content.symbol,
    content.generation,
    [...content.parentIds],
    params,
  ]);
  const hash = createHash('sha256').update(canonical).digest('hex').slice(0, 12);
  return `g${content.generation}-${hash}`;
}

/**
 * Validates an untrusted genome: its shape, then that it has exactly its family's genes, each
 * finite, inside {@link GENOME_BOUNDS} and whole where the gene is an integer.
 *
 * @param field path used in error messages, e.g. `genomes[3]`.
 * @throws ValidationError naming the offending path, e.g. `genomes[3].params.lookback`.
 */
export function validateGenome(input: unknown, field = 'genome'): Genome {
  const genome = parseOrThrow(GenomeSchema, input, field) as Genome;
  const bounds = GENOME_BOUNDS[genome.family];
  for (const name of Object.keys(genome.params)) {
    if (!(name in bounds)) {
      throw new ValidationError(
        `${field}.params.${name}`,
        `is not a gene of ${genome.family}; genes: ${Object.keys(bounds).join(', ')}`,
      );
    }
  }
  for (const [name, b] of Object.entries(bounds)) {
    const v = genome.params[name];
    const ok = v !== undefined && v >= b.min && v <= b.max && (!b.integer || Number.isInteger(v));
    if (!ok) {
      throw new ValidationError(
        `${field}.params.${name}`,
        `must be ${b.integer ? 'an integer ' : ''}between ${b.min} and ${b.max}, got ${v ?? 'nothing'}`,
      );
    }
  }
  return genome;
}

/**
 * Draws a generation-`generation` genome of `family` with no parents: the symbol uniformly
 * from `symbols`, each gene uniformly inside its bounds (integers inclusive).
 *
 * @throws ValidationError('symbols') when `symbols` is empty.
 */
export function randomGenome(
  rng: Random,
  family: StrategyFamily,
  symbols: readonly string[],
  generation: number,
): Genome {
  if (symbols.length === 0) throw new ValidationError('symbols', 'must not be empty');
  const symbol = rng.pick(symbols);
  const params: Record<string, number> = {};
  for (const [name, b] of Object.entries(GENOME_BOUNDS[family])) {
    params[name] = b.integer ? rng.int(b.min, b.max) : rng.uniform(b.min, b.max);
  }
  const content = { family, symbol, generation, parentIds: [], params };
  return { id: genomeId(content), ...content };
}

/**
 * The initial (generation 0) pool: `count` random genomes, families round-robin
 * (momentum, bollinger_reversion, donchian_breakout, opening_range_breakout, momentum, ...)
 * and symbols round-robin per family cycle, so every family × symbol pair appears once per
 * `4 × symbols.length` genomes. Same (count, symbols, seed) → identical pool.
 *
 * @param seed 32-bit unsigned integer (the cohort config's `seed`).
 * @throws ValidationError('count') unless 0 <= count <= 100,000 (integer);
 *   ValidationError('symbols') when empty.
 */
export function seedGenomePool(count: number, symbols: readonly string[], seed: number): Genome[] {
  if (!Number.isInteger(count) || count < 0 || count > 100_000) {
    throw new ValidationError('count', `must be an integer between 0 and 100000, got ${count}`);
  }
  if (symbols.length === 0) throw new ValidationError('symbols', 'must not be empty');
  const rng = createRandom(seed);
  const families = STRATEGY_FAMILIES.length;
  const pool: Genome[] = [];
  for (let i = 0; i < count; i++) {
    const family = STRATEGY_FAMILIES[i % families] as StrategyFamily;
    const symbol = symbols[Math.floor(i / families) % symbols.length] as string;
    pool.push(randomGenome(rng, family, [symbol], 0));
  }
  return pool;
}

/**
 * Pulls every gene of the genome's family into its bounds (integers rounded to the nearest
 * whole number first), fills a missing or non-finite gene with the middle of its range, and
 * drops genes the family does not have. Keeps `id`, `generation` and `parentIds`: the
 * learning cycle mints the offspring's id with {@link genomeId} after clamping.
 */
export function clampGenome(genome: Genome): Genome {
  const params: Record<string, number> = {};
  for (const [name, b] of Object.entries(GENOME_BOUNDS[genome.family])) {
    const raw = genome.params[name];
    let v = raw === undefined || !Number.isFinite(raw) ? (b.min + b.max) / 2 : raw;
    if (b.integer) v = Math.round(v);
    params[name] = Math.min(b.max, Math.max(b.min, v));
  }
  return { ...genome, params };
}
