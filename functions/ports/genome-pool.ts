import type { Market } from '../core/calendar/market-calendar.js';
import type { GenomeGeneration } from '../core/learning/generation.js';

export type { GenomeGeneration };

/**
 * Persistence of the genome pools' generations (DynamoDB in AWS and locally): ONE pool per
 * market (`equity-usa`, `crypto`), each with its own generations, CURRENT pointer, lineage and
 * trial count. A market's cohorts draw from its pool only and a learning cycle breeds one
 * market's pool from that market's cohorts only, so a stage that trades both markets never
 * mixes their genomes. Pools stored before pools were per market read as `equity-usa`.
 *
 * - `saveGeneration` writes a generation of `market`'s pool once and moves that pool's CURRENT
 *   pointer to it in the same transaction, on condition that CURRENT is `generation − 1` (or
 *   absent for generation 0): optimistic concurrency between learning cycles of the market.
 *   Saving the identical generation again (a retried step) is a no-op.
 * - `getCurrent` returns the generation `market`'s CURRENT points to, `null` before that pool's
 *   generation 0 exists.
 * - `getGeneration(market, n)` returns generation `n` of `market`'s pool, `null` when it was
 *   never saved.
 *
 * Errors (functions/core/errors.ts): `GenerationAlreadyExistsError` (same number, different
 * content), `GenomePoolConflictError` (CURRENT is not `generation − 1`: another cycle won;
 * re-read and re-run), `GenomePoolCorruptError` (stored parts unreadable), `ValidationError`
 * (malformed generation), `TransientError` (retryable storage fault).
 */
export interface GenomePoolRepository {
  getCurrent(market: Market): Promise<GenomeGeneration | null>;
  saveGeneration(market: Market, generation: GenomeGeneration): Promise<void>;
  getGeneration(market: Market, generation: number): Promise<GenomeGeneration | null>;
}
