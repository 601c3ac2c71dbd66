/**
 * Claim-check storage for documents too large for a Step Functions payload (256 KB):
 * simulation results and score documents. Keys are immutable once written.
 *
 * Errors: `NotFoundError` for a missing key, `TransientError` for retryable storage faults.
 */
export interface ArtifactStore {
  /** Stores `document` as JSON under `key`; returns the key and its size in bytes. */
  putJson(key: string, document: unknown): Promise<{ key: string; bytes: number }>;
  /** Reads the JSON document at `key`. */
  getJson(key: string): Promise<unknown>;
}
