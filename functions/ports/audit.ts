/**
 * Audit ports. Use cases record every decision through {@link AuditSink}; the verify/query
 * tooling reads stored records back through {@link AuditReader}.
 */

import type {
  AuditAnchor,
  AuditDayManifest,
  DatedStreamHead,
  NextRecord,
} from '../core/audit/manifest.js';
import type {
  AuditDraft,
  AuditEnvironment,
  AuditRecord,
  StreamHead,
} from '../core/audit/record.js';
import type { VerifyInput } from '../core/audit/verify.js';

export type { AuditDraft, AuditRecord } from '../core/audit/record.js';

/** Append-only, hash-chained audit trail. */
export interface AuditSink {
  /**
   * Validates the draft, chains it onto its stream (seq, prev_hash, hash) and stores it.
   * Resolves only once the record is durable.
   *
   * @returns the stored record (id, ts, seq, hash assigned).
   * @throws ValidationError when the draft is invalid (it is dead-lettered, nothing is
   *   recorded as valid).
   * @throws AuditWriteError when storage keeps failing after bounded retries, or the stream
   *   head stays contended; treat the decision as not recorded.
   */
  append(draft: AuditDraft): Promise<AuditRecord>;
  /**
   * Appends several drafts of ONE stream as consecutive records (one head advance in the S3
   * sink); all or nothing is committed. Same errors as {@link append}.
   */
  appendMany(drafts: readonly AuditDraft[]): Promise<AuditRecord[]>;
}

/** Where an append put its record in its stream's chain. */
export interface AuditReceipt {
  /** The record's ULID. */
  readonly id: string;
  readonly stream: string;
  /** 0-based position in the stream. */
  readonly seq: number;
  /** Hex SHA-256 of the record (its chain hash). */
  readonly hash: string;
  /** True when an earlier attempt had committed this key: nothing was appended now. */
  readonly replayed: boolean;
}

/** An {@link AuditSink} that can append a draft at most once per idempotency key. */
export interface IdempotentAuditSink extends AuditSink {
  /**
   * Appends `draft` unless its stream already committed `idempotencyKey` (an earlier attempt
   * of the same step, whose answer was lost), in which case that record's receipt is returned
   * and nothing is appended. Concurrent attempts with one key commit one record. A key is
   * remembered however many appends its stream takes after it, for
   * `AUDIT_IDEMPOTENCY_TTL_DAYS` after its record (core/audit/idempotency.ts).
   *
   * @throws ValidationError, AuditWriteError as {@link AuditSink.append}.
   */
  appendOnce(draft: AuditDraft, idempotencyKey: string): Promise<AuditReceipt>;
  /**
   * Appends `drafts` (one stream, at least one) as {@link AuditSink.appendMany} unless the
   * stream already committed `idempotencyKey`, in which case the records that key committed
   * are read back and returned with `replayed: true`, and nothing is appended. What a function
   * that appends its own records uses under a retry (core/audit/step-scoped.ts).
   *
   * @throws ValidationError, AuditWriteError as {@link AuditSink.appendMany}.
   */
  appendManyOnce(
    drafts: readonly AuditDraft[],
    idempotencyKey: string,
  ): Promise<{ records: AuditRecord[]; replayed: boolean }>;
}

/**
 * Reads back one stream's stored records of a time window: what a sweep checks before it
 * appends a record an older writer may have appended under another key (the S3 sink and the
 * in-memory one implement it).
 */
export interface AuditStreamReader {
  /**
   * The stored records of `stream` appended in the UTC hours from `fromIso`'s to `toIso`'s
   * (UTC ISO-8601, at most two days apart), oldest first; a record committed in the stream
   * head but whose object a crashed writer left unwritten is included (it is written first).
   *
   * @throws ValidationError when the window is not one (`core/audit/keys.ts`).
   * @throws AuditWriteError when S3 or DynamoDB keep failing after bounded retries.
   */
  readStreamHours(stream: string, fromIso: string, toIso: string): Promise<AuditRecord[]>;
}

/**
 * A sink that also takes a draft nobody has type-checked: JSON from a workflow (the ASL's
 * `RecordAudit` / `RecordRejection` / `RecordFailure` steps). The sink checks it against the
 * per-kind audit schema before anything is chained, as it does for a typed draft.
 */
export interface UntypedAuditSink {
  /**
   * Validates `draft` (any JSON) as an audit draft and appends it: as
   * {@link IdempotentAuditSink.appendOnce} under `idempotencyKey`, or as
   * {@link AuditSink.append} when the key is null (then `replayed` is false).
   *
   * @throws ValidationError when `draft` is not a valid draft of its kind: the draft and the
   *   error are dead-lettered first (`audit-dead-letter/...`), nothing is chained.
   * @throws AuditWriteError as {@link AuditSink.append}.
   */
  appendUntyped(draft: unknown, idempotencyKey: string | null): Promise<AuditReceipt>;
}

/** Which stored records to read. */
export interface AuditReadQuery {
  readonly environment: AuditEnvironment;
  /** One UTC day `YYYY-MM-DD`; all days when absent. */
  readonly date?: string;
  /**
   * Only the records of streams whose id starts with one of these prefixes (stream ids as
   * recorded, e.g. `promotion:` for every promotion's stream, `promotion:p-1` for one and any
   * stream whose id continues it); every stream when absent. A reader chooses the objects by
   * the stream their key names (`core/audit/keys.ts`) before it reads any, so the records of
   * other streams are never fetched; a key that does not follow the layout names no stream and
   * is left out. An empty list reads nothing.
   */
  readonly streamPrefixes?: readonly string[];
}

/** Reads stored records (with the key each was read from) and stream heads. */
export interface AuditReader {
  /**
   * Every stored record matching the query, each with its storage key; records that cannot
   * be parsed are returned as their raw text so verify can report them. Implementations
   * honour every field of the query (`streamPrefixes` included: see {@link AuditReadQuery}).
   *
   * @throws TransientError when storage keeps failing after bounded retries.
   */
  readRecords(query: AuditReadQuery): Promise<VerifyInput[]>;
  /**
   * Current heads of the given streams (streams without a head are left out).
   *
   * @throws TransientError when the head table keeps failing after bounded retries.
   */
  readHeads(streams: readonly string[]): Promise<Map<string, StreamHead>>;
}

/**
 * Day manifests, their anchor outside the audit bucket, and what the completeness checks read
 * besides the records (functions/core/audit/manifest.ts). One adapter serves the local
 * `audit verify`/`audit compact` and the AWS daily compaction.
 */
export interface AuditAnchorStore {
  /** Every stored manifest of the environment, as raw JSON (unparseable ones as their text). */
  readManifests(environment: AuditEnvironment): Promise<unknown[]>;
  /** The newest manifest's date and hash, null when nothing was ever anchored. */
  readAnchor(environment: AuditEnvironment): Promise<AuditAnchor | null>;
  /**
   * Stores `manifest` and moves the anchor to it if the anchor is still `expected`.
   *
   * @returns the manifest's storage key.
   * @throws TransientError when the anchor moved meanwhile (nothing anchored; retry).
   */
  writeManifest(manifest: AuditDayManifest, expected: AuditAnchor | null): Promise<string>;
  /** Every stream head of the environment, with the time its record was written. */
  listHeads(environment: AuditEnvironment): Promise<Map<string, DatedStreamHead>>;
  /**
   * The heads the check of one UTC day needs: every head whose record is of `date` or later
   * (with its `ts`), and the heads of `streams` (the streams with records that day).
   */
  headsSince(
    environment: AuditEnvironment,
    date: string,
    streams: readonly string[],
  ): Promise<Map<string, DatedStreamHead | StreamHead>>;
  /** For each stream, its first stored record after the UTC day `date` (seq, prev_hash). */
  firstRecordsAfter(environment: AuditEnvironment, date: string): Promise<Map<string, NextRecord>>;
}
