/**
 * Genetic operators of the learning cycle. Every function draws its randomness from the
 * injected {@link Random}, so a cycle is reproducible from its seed.
 *
 * - Tournament selection (Goldberg & Deb, "A comparative analysis of selection schemes used in
 *   genetic algorithms", FOGA 1991): draw `k` contestants uniformly with replacement, keep the
 *   best ranked.
 * - Uniform crossover (Syswerda, "Uniform crossover in genetic algorithms", ICGA 1989): each
 *   gene comes from either parent with probability 1/2. Only between parents of the same
 *   strategy family (they share gene names and meanings).
 * - Gaussian mutation (Bäck & Schwefel, "An overview of evolutionary algorithms for parameter
 *   optimization", Evolutionary Computation 1(1), 1993): gene + N(0, (scale × (max − min))²),
 *   the step scaled to each gene's range in `GENOME_BOUNDS`; integer genes are rounded and
 *   every gene is clamped to its bounds (`clampGenome`).
 */
import { clampGenome, GENOME_BOUNDS, type Genome } from '../cohort/genome.js';
import type { Random } from '../random.js';

/** Genome content before its id is minted. */
export type GenomeDraft = Omit<Genome, 'id'>;

/**
 * Index (into `rankOf`'s domain) of the best of `k` contestants drawn uniformly with
 * replacement from `candidates`. `rankOf` maps a candidate to its rank (0 = best).
 * `candidates` must not be empty.
 */
export function tournamentSelect<T>(
  rng: Random,
  candidates: readonly T[],
  k: number,
  rankOf: (item: T) => number,
): T {
  let best = rng.pick(candidates);
  for (let i = 1; i < k; i++) {
    const challenger = rng.pick(candidates);
    if (rankOf(challenger) < rankOf(best)) best = challenger;
  }
  return best;
}

/** Uniform crossover of two same-family parents: each gene and the symbol from either. */
export function uniformCrossover(rng: Random, a: Genome, b: Genome): Record<string, number> {
  const params: Record<string, number> = {};
  for (const name of Object.keys(GENOME_BOUNDS[a.family])) {
    const from = rng.next() < 0.5 ? a : b;
    params[name] = from.params[name] as number;
  }
  return params;
}

/**
 * Gaussian mutation of `params` (a family's genes): each gene mutates with probability
 * `rate`; with `atLeastOne`, one uniformly chosen gene mutates when the draw picked none.
 * The step is `normal() × scale × (max − min)`. Not clamped: the caller clamps.
 */
export function gaussianMutation(
  rng: Random,
  family: Genome['family'],
  params: Readonly<Record<string, number>>,
  rate: number,
  scale: number,
  atLeastOne: boolean,
): Record<string, number> {
  const names = Object.keys(GENOME_BOUNDS[family]);
  const out: Record<string, number> = { ...params };
  let mutated = 0;
  const step = (name: string) => {
    const b = GENOME_BOUNDS[family][name];
    if (!b) return;
    out[name] = (out[name] as number) + rng.normal() * scale * (b.max - b.min);
    mutated++;
  };
  for (const name of names) if (rng.next() < rate) step(name);
  if (atLeastOne && mutated === 0) step(rng.pick(names));
  return out;
}

/**
 * The traded symbol of a child: a parent's symbol, replaced by a different allowed symbol
 * with probability `rate`, and always replaced when it is not in `symbols` (the configured
 * universe changed).
 */
export function mutateSymbol(
  rng: Random,
  symbol: string,
  symbols: readonly string[],
  rate: number,
): string {
  const allowed = symbols.includes(symbol);
  if (allowed && (symbols.length < 2 || rng.next() >= rate)) return symbol;
  const others = symbols.filter((s) => s !== symbol);
  return rng.pick(others.length ? others : symbols);
}

/** Clamps a draft's genes to `GENOME_BOUNDS` (integers rounded), see `clampGenome`. */
export function clampDraft(draft: GenomeDraft): GenomeDraft {
  const { id: _ignored, ...rest } = clampGenome({ id: '', ...draft });
  return rest;
}

/** True when two genomes have the same family, symbol and genes. */
export function sameContent(a: GenomeDraft, b: GenomeDraft): boolean {
  if (a.family !== b.family || a.symbol !== b.symbol) return false;
  const names = Object.keys(GENOME_BOUNDS[a.family]);
  return names.every((n) => a.params[n] === b.params[n]);
}
