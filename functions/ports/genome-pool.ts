import type { GenomeGeneration } from '../core/learning/generation.js';

export type { GenomeGeneration };

/**
 * Persistence of the genome pool's generations (DynamoDB in AWS and locally).
 *
 * - `saveGeneration` writes a generation once and moves the CURRENT pointer to it in the same
 *   transaction, on condition that CURRENT is `generation − 1` (or absent for generation 0):
 *   optimistic concurrency between learning cycles. Saving the identical generation again (a
 *   retried step) is a no-op.
 * - `getCurrent` returns the generation CURRENT points to, `null` before generation 0 exists.
 * - `getGeneration(n)` returns generation `n`, `null` when it was never saved.
 *
 * Errors (functions/core/errors.ts): `GenerationAlreadyExistsError` (same number, different
 * content), `GenomePoolConflictError` (CURRENT is not `generation − 1`: another cycle won;
 * re-read and re-run), `GenomePoolCorruptError` (stored parts unreadable), `ValidationError`
 * (malformed generation), `TransientError` (retryable storage fault).
 */
export interface GenomePoolRepository {
  getCurrent(): Promise<GenomeGeneration | null>;
  saveGeneration(generation: GenomeGeneration): Promise<void>;
  getGeneration(generation: number): Promise<GenomeGeneration | null>;
}
