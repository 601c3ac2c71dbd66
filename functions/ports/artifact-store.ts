/**
 * Claim-check storage for documents too large for a Step Functions payload (256 KB):
 * simulation results, shard results and score documents. Keys are immutable once written.
 *
 * A document is JSON-compatible data (objects, arrays, strings, numbers, booleans, null); the
 * store chooses the encoding (S3: the compact SGA1 format, `adapters/s3/artifact-codec.ts`),
 * and what `getJson` returns equals what `putJson` was given, as after a JSON round trip
 * (except that numbers in long numeric arrays keep NaN, ±Infinity and −0).
 *
 * Errors: `NotFoundError` for a missing key, `ValidationError('artifact')` for an unreadable
 * one, `TransientError` for retryable storage faults.
 */
export interface ArtifactStore {
  /** Stores `document` under `key`; returns the key and its stored size in bytes. */
  putJson(key: string, document: unknown): Promise<{ key: string; bytes: number }>;
  /** Reads the document at `key`. */
  getJson(key: string): Promise<unknown>;
}
