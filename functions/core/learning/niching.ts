/**
 * Niching of the learning cycle against behavioural clones: genomes whose genes differ but
 * whose trading outcome is the same on every session read (same symbol, and per session the
 * same return, fills and PnL to the last bit) are one niche. Only the niche's best-ranked
 * genome keeps its place; the others (the clones) rank after every genome that is not a clone,
 * so nine opening-range agents on one symbol that made the same two fills cannot take nine
 * places among the elites and the tournament winners.
 *
 * This is fitness sharing (Goldberg & Richardson, "Genetic algorithms with sharing for
 * multimodal function optimization", ICGA 1987) with a niche radius of zero in outcome space
 * and the whole share given to the niche's best: a division by the niche count (the paper's
 * form) does not penalize a negative fitness, a demotion does. Measuring similarity on
 * behaviour rather than genes is the novelty/behaviour-space view of Lehman & Stanley
 * ("Abandoning objectives", Evolutionary Computation 19(2), 2011).
 */
import type { Genome } from '../cohort/genome.js';
import { compareFitness, type GenomeFitness, type ScoredGenomeResult } from './fitness.js';

/** A ranking of fitness rows with behavioural clones demoted. */
export interface NichedRanking {
  /** Best first: non-clones (by `compareFitness`), then clones, then idle genomes. */
  readonly ranked: GenomeFitness[];
  /** Clone id → the id of its niche's best-ranked genome. */
  readonly cloneOf: ReadonlyMap<string, string>;
}

/**
 * Ranks `rows` (fitness of `pool` on `results`) best first with clones demoted (module
 * comment). Only `scored` genomes form niches; unscored genomes have no outcome to compare and
 * idle ones already rank last.
 */
export function rankWithNiches(
  pool: readonly Genome[],
  rows: readonly GenomeFitness[],
  results: readonly ScoredGenomeResult[],
): NichedRanking {
  const symbolOf = new Map(pool.map((g) => [g.id, g.symbol]));
  const outcomes = new Map<string, string[]>();
  for (const r of results) {
    const f = r.fitnessInputs;
    const key = `${r.sessionDate}|${f.roi}|${f.tradeCount}|${f.totalPnlUsd}|${f.maxDrawdownFraction}`;
    const list = outcomes.get(r.genomeId);
    if (list) list.push(key);
    else outcomes.set(r.genomeId, [key]);
  }
  const sorted = [...rows].sort(compareFitness);
  const representative = new Map<string, string>();
  const cloneOf = new Map<string, string>();
  for (const row of sorted) {
    if (row.status !== 'scored') continue;
    const signature = JSON.stringify([
      symbolOf.get(row.genomeId),
      [...(outcomes.get(row.genomeId) ?? [])].sort(),
    ]);
    const first = representative.get(signature);
    if (first === undefined) representative.set(signature, row.genomeId);
    else cloneOf.set(row.genomeId, first);
  }
  const tier = (row: GenomeFitness) =>
    row.status === 'idle' ? 2 : cloneOf.has(row.genomeId) ? 1 : 0;
  const ranked = sorted
    .map((row, i) => ({ row, i }))
    .sort((a, b) => tier(a.row) - tier(b.row) || a.i - b.i)
    .map(({ row }) => row);
  return { ranked, cloneOf };
}
