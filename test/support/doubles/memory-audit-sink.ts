/**
 * In-memory {@link AuditSink} + {@link AuditReader} with the same chaining, validation and key
 * layout as the S3 sink: for unit tests of use cases and for throw-away local runs.
 */
import { monotonicFactory } from 'ulid';
import {
  auditObjectKey,
  auditStreamHourPrefixes,
  partitionOf,
} from '../../../functions/core/audit/keys.js';
import type {
  AuditDraft,
  AuditRecord,
  ParsedAuditDraft,
  StreamHead,
} from '../../../functions/core/audit/record.js';
import {
  auditDraftSchema,
  chainRecord,
  toAuditTs,
  toValidationError,
} from '../../../functions/core/audit/record.js';
import type { VerifyInput } from '../../../functions/core/audit/verify.js';
import type {
  AuditReader,
  AuditReadQuery,
  AuditReceipt,
  AuditStreamReader,
  IdempotentAuditSink,
  UntypedAuditSink,
} from '../../../functions/ports/audit.js';
import type { Clock } from '../../../functions/ports/clock.js';

/** Keeps every appended record (and its would-be S3 key) in memory. */
export class MemoryAuditSink
  implements IdempotentAuditSink, UntypedAuditSink, AuditReader, AuditStreamReader
{
  private readonly heads = new Map<string, StreamHead>();
  private readonly stored: { key: string; record: AuditRecord }[] = [];
  /**
   * Committed idempotency keys, by `stream` + key (unbounded: tests are short): the pending
   * append, set before it is awaited, so concurrent attempts with one key append once.
   */
  private readonly keys = new Map<string, Promise<AuditRecord>>();
  /**
   * Batches committed by `appendManyOnce`, by `stream` + key: the pending append itself, set
   * before it is awaited, so concurrent attempts with one key commit one batch (as the S3
   * sink's conditional write does); a failed attempt leaves the key free.
   */
  private readonly batches = new Map<string, Promise<AuditRecord[]>>();
  private readonly nextId: (seedTime: number) => string;
  /** Drafts rejected by validation, with the error (the dead letters). */
  readonly rejected: { draft: unknown; error: unknown }[] = [];

  /** @param clock source of `ts`; @param prng ULID randomness in [0, 1) (default crypto). */
  constructor(
    private readonly clock: Clock,
    prng?: () => number,
  ) {
    this.nextId = monotonicFactory(prng);
  }

  /**
   * Chains and keeps the record.
   *
   * @throws ValidationError when the draft is invalid (kept in `rejected`).
   */
  /** Appends each draft in order (see AuditSink.appendMany). */
  async appendMany(drafts: readonly AuditDraft[]): Promise<AuditRecord[]> {
    const out: AuditRecord[] = [];
    for (const d of drafts) out.push(await this.append(d));
    return out;
  }

  async append(draft: AuditDraft | ParsedAuditDraft): Promise<AuditRecord> {
    const now = this.clock.now();
    let record: AuditRecord;
    try {
      const stream = (draft as { stream?: unknown }).stream;
      const head = typeof stream === 'string' ? (this.heads.get(stream) ?? null) : null;
      record = chainRecord(draft, head, this.nextId(now), toAuditTs(now));
    } catch (err) {
      this.rejected.push({ draft, error: err });
      throw err;
    }
    this.heads.set(record.stream, { seq: record.seq, hash: record.hash });
    this.stored.push({ key: auditObjectKey(record), record });
    return record;
  }

  /** Appends unless `idempotencyKey` was committed on the stream (see IdempotentAuditSink). */
  async appendOnce(
    draft: AuditDraft | ParsedAuditDraft,
    idempotencyKey: string,
  ): Promise<AuditReceipt> {
    const slot = `${String((draft as { stream?: unknown }).stream)}\u0000${idempotencyKey}`;
    const done = this.keys.get(slot);
    if (done === undefined) this.keys.set(slot, this.append(draft));
    let record: AuditRecord;
    try {
      record = await (this.keys.get(slot) as Promise<AuditRecord>);
    } catch (err) {
      this.keys.delete(slot);
      throw err;
    }
    const { id, stream, seq, hash } = record;
    return { id, stream, seq, hash, replayed: done !== undefined };
  }

  /** Validates a draft from a workflow's JSON and appends it (see UntypedAuditSink). */
  async appendUntyped(draft: unknown, idempotencyKey: string | null): Promise<AuditReceipt> {
    const parsed = auditDraftSchema.safeParse(draft);
    if (!parsed.success) {
      const error = toValidationError(parsed.error);
      this.rejected.push({ draft, error });
      throw error;
    }
    if (idempotencyKey !== null) return this.appendOnce(parsed.data, idempotencyKey);
    const { id, stream, seq, hash } = await this.append(parsed.data);
    return { id, stream, seq, hash, replayed: false };
  }

  /** Appends the batch unless `idempotencyKey` was committed on its stream (IdempotentAuditSink). */
  async appendManyOnce(
    drafts: readonly AuditDraft[],
    idempotencyKey: string,
  ): Promise<{ records: AuditRecord[]; replayed: boolean }> {
    const slot = `${String((drafts[0] as { stream?: unknown }).stream)}\u0000${idempotencyKey}`;
    const done = this.batches.get(slot);
    if (done) return { records: structuredClone(await done), replayed: true };
    const pending = this.appendMany(drafts);
    this.batches.set(slot, pending);
    try {
      return { records: await pending, replayed: false };
    } catch (err) {
      this.batches.delete(slot);
      throw err;
    }
  }

  /** Every record appended so far, in append order. */
  records(): readonly AuditRecord[] {
    return this.stored.map((s) => s.record);
  }

  async readRecords(query: AuditReadQuery): Promise<VerifyInput[]> {
    return this.stored
      .filter((s) => s.record.environment === query.environment)
      .filter((s) => !query.date || partitionOf(s.record.ts).dt === query.date)
      .filter(
        (s) =>
          !query.streamPrefixes || query.streamPrefixes.some((p) => s.record.stream.startsWith(p)),
      )
      .map((s) => ({ key: s.key, record: structuredClone(s.record) }));
  }

  /** One stream's records of the UTC hours from `fromIso` to `toIso` (AuditStreamReader). */
  async readStreamHours(stream: string, fromIso: string, toIso: string): Promise<AuditRecord[]> {
    auditStreamHourPrefixes('local', stream, fromIso, toIso);
    return this.stored
      .filter((s) => s.record.stream === stream)
      .filter((s) =>
        auditStreamHourPrefixes(s.record.environment, stream, fromIso, toIso).some((p) =>
          s.key.startsWith(p),
        ),
      )
      .map((s) => structuredClone(s.record));
  }

  async readHeads(streams: readonly string[]): Promise<Map<string, StreamHead>> {
    const out = new Map<string, StreamHead>();
    for (const s of streams) {
      const head = this.heads.get(s);
      if (head) out.set(s, head);
    }
    return out;
  }
}
