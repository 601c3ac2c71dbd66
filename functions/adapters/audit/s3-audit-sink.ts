/**
 * The audit sink on S3 (one JSON-lines object per record) with stream heads in DynamoDB.
 *
 * Write protocol (docs/audit.md, "Crash windows"): the DynamoDB head is the commit point and
 * holds a copy of the record (write-ahead); the S3 object is derived from it.
 *  1. read the head (consistent read);
 *  2. if the head's record object is not known to be in S3, write it (finishing a writer that
 *     crashed or failed between steps 4 and 5: same key, same bytes);
 *  3. chain the draft onto the head (seq + 1, prev_hash = head.hash);
 *  4. advance the head conditionally (`attribute_not_exists(pk)` / `seq = :expected`; a keyed
 *     append creates its key's item in the same transaction, `attribute_not_exists(pk)`,
 *     without reading the key first); when the key's condition failed, the key was committed
 *     before: read its item and return the records it committed, appending nothing; when only
 *     the head's failed, another writer won: go back to 1 (bounded);
 *  5. put the object (`If-None-Match: *`), retrying with backoff; resolve.
 * So there is never a fork (the conditional write serialises each stream) and never a hole
 * (a committed head record is always materialised by its writer or the next one).
 */
import type { S3Client } from '@aws-sdk/client-s3';
import {
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { monotonicFactory } from 'ulid';
import { CODE_VERSION } from '../../config/code-version.js';
import { AUDIT_IDEMPOTENCY_TTL_DAYS } from '../../core/audit/idempotency.js';
import {
  auditObjectKey,
  auditObjectKeyPrefix,
  auditStreamHourPrefixes,
  deadLetterKey,
} from '../../core/audit/keys.js';
import type {
  AuditDraft,
  AuditEnvironment,
  AuditRecord,
  ParsedAuditDraft,
  StreamHead,
} from '../../core/audit/record.js';
import {
  AUDIT_SCHEMA_VERSION,
  auditDraftSchema,
  chainRecord,
  parseAuditRecord,
  serializeAuditRecord,
  toAuditTs,
  toValidationError,
} from '../../core/audit/record.js';
import { AuditWriteError, ValidationError } from '../../core/errors.js';
import type {
  AuditReceipt,
  AuditStreamReader,
  IdempotentAuditSink,
  UntypedAuditSink,
} from '../../ports/audit.js';
import type { Clock } from '../../ports/clock.js';
import type { RetryPolicy } from './retry.js';
import { backoffDelay, defaultSleep, describeError, httpStatusOf, withRetries } from './retry.js';
import type { IdempotencyEntry, KeyCommit, StoredStreamHead } from './stream-heads.js';
import { advanceStreamHead, readStreamHead } from './stream-heads.js';

export interface S3AuditSinkOptions {
  /** S3 client (locally: `forcePathStyle`, `requestChecksumCalculation: 'WHEN_REQUIRED'`). */
  readonly s3: S3Client;
  readonly dynamo: DynamoDBDocumentClient;
  /** Single table holding the stream heads (pk S, sk S). */
  readonly tableName: string;
  /** Audit bucket. */
  readonly bucket: string;
  /** Environment this sink writes; drafts for another environment are rejected. */
  readonly environment: AuditEnvironment;
  /** Source of `ts` and of the ULID time component. */
  readonly clock: Clock;
  /** Random source for ULIDs, [0, 1). Default: the `ulid` package's crypto PRNG. */
  readonly prng?: () => number;
  /** Retries of each S3/DynamoDB call. Default 4 attempts, 50 ms base, 2 s cap. */
  readonly retry?: RetryPolicy;
  /** Called once per dead-lettered draft (the composition root counts it as a metric). */
  readonly onDeadLetter?: (key: string) => void;
  /** Head re-reads after losing a conditional write to another writer. Default 16. */
  readonly maxHeadConflicts?: number;
  /**
   * Stamped on every record as `payload.provenance.code_version`. Default: this build's
   * {@link CODE_VERSION} (baked at build time).
   */
  readonly codeVersion?: string;
}

/** Bounded set of S3 keys known to exist (skips a HEAD request on the hot path). */
class KnownKeys {
  private readonly keys = new Set<string>();
  constructor(private readonly max: number) {}
  has(key: string): boolean {
    return this.keys.has(key);
  }
  add(key: string): void {
    this.keys.add(key);
    if (this.keys.size > this.max) {
      const oldest = this.keys.values().next().value;
      if (oldest !== undefined) this.keys.delete(oldest);
    }
  }
}

/** The chain position of a record or a committed key's entry. */
const receiptOf = (r: { id: string; seq: number; hash: string }) => ({
  id: r.id,
  seq: r.seq,
  hash: r.hash,
});

function safeForJson(value: unknown): unknown {
  try {
    return JSON.parse(
      JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)) ??
        'null',
    );
  } catch {
    return String(value);
  }
}

/** S3 + DynamoDB implementation of {@link IdempotentAuditSink} (and {@link AuditStreamReader}). */
export class S3AuditSink implements IdempotentAuditSink, UntypedAuditSink, AuditStreamReader {
  private readonly nextId: (seedTime: number) => string;
  private readonly known = new KnownKeys(4_096);
  /** Heads this sink advanced and whose object it stored, by stream (bounded, oldest out). */
  private readonly lastHeads = new Map<string, StoredStreamHead>();

  private rememberHead(stream: string, head: StoredStreamHead): void {
    this.lastHeads.set(stream, head);
    if (this.lastHeads.size > 1_024) {
      const oldest = this.lastHeads.keys().next().value;
      if (oldest !== undefined) this.lastHeads.delete(oldest);
    }
  }
  private readonly retry: RetryPolicy;

  constructor(private readonly options: S3AuditSinkOptions) {
    this.nextId = monotonicFactory(options.prng);
    this.retry = options.retry ?? {};
    this.codeVersion = options.codeVersion ?? CODE_VERSION;
  }

  /** Stamped on every record (`payload.provenance.code_version`). */
  private readonly codeVersion: string;

  /**
   * Validates, chains and stores one record.
   *
   * @returns the stored record.
   * @throws ValidationError when the draft breaks the draft schema (or names another
   *   environment); the draft and the error go to `audit-dead-letter/...` first.
   * @throws AuditWriteError when S3 or DynamoDB keep failing after bounded retries, or the
   *   stream head stays contended for `maxHeadConflicts` rounds. If the failure came after
   *   the head moved, the record is committed in the head and the next append on the stream
   *   writes its object; verify reports the stream as `head-mismatch` until then.
   */
  async append(draft: AuditDraft): Promise<AuditRecord> {
    const parsed = await this.validate(draft);
    const out = await this.commitBatch([parsed], null);
    return (out.records as AuditRecord[])[0] as AuditRecord;
  }

  /**
   * {@link append} at most once per `idempotencyKey` on the draft's stream: the key gets its
   * own item in the heads table, created in the same transaction as the head update that
   * commits its record (stream-heads.ts, `advanceStreamHead`). The transaction is sent first;
   * the key's item is read only when DynamoDB cancels it on the key's condition. So a retried
   * step whose first attempt committed (answer lost, or the object write failed after the
   * head moved) gets the first record's receipt however many appends the stream took since,
   * and two concurrent attempts commit one record (the loser's transaction is cancelled on
   * the key; it reads the key and gets the winner's record). A key is remembered
   * `AUDIT_IDEMPOTENCY_TTL_DAYS` (core/audit/idempotency.ts).
   *
   * @returns the receipt; `replayed` when an earlier attempt had committed the key.
   * @throws ValidationError, AuditWriteError as {@link append}.
   */
  async appendOnce(draft: AuditDraft, idempotencyKey: string): Promise<AuditReceipt> {
    return this.appendUntyped(draft, idempotencyKey);
  }

  /**
   * A draft from a workflow's JSON, validated here ({@link append} when `idempotencyKey` is
   * null, else {@link appendOnce}).
   *
   * @throws ValidationError, AuditWriteError as {@link append}.
   */
  async appendUntyped(draft: unknown, idempotencyKey: string | null): Promise<AuditReceipt> {
    const parsed = await this.validate(draft);
    const out = await this.commitBatch([parsed], idempotencyKey);
    if (out.replay) return { ...receiptOf(out.replay), stream: parsed.stream, replayed: true };
    const r = (out.records as AuditRecord[])[0] as AuditRecord;
    return { ...receiptOf(r), stream: r.stream, replayed: false };
  }

  private async validate(draft: unknown): Promise<ParsedAuditDraft> {
    const result = auditDraftSchema.safeParse(draft);
    let error: ValidationError | null = null;
    if (!result.success) {
      error = toValidationError(result.error);
    } else if (result.data.environment !== this.options.environment) {
      error = new ValidationError(
        'audit.environment',
        `this sink writes ${this.options.environment}, draft is for ${result.data.environment}`,
      );
    }
    if (result.success && error === null) return result.data;
    const rejected = error ?? new ValidationError('audit', 'invalid draft');
    await this.deadLetter(draft, rejected, result.success ? [] : result.error.issues);
    throw rejected;
  }

  private async deadLetter(draft: unknown, error: ValidationError, issues: unknown[]) {
    const now = this.options.clock.now();
    const ts = toAuditTs(now);
    const id = this.nextId(now);
    const key = deadLetterKey(this.options.environment, ts, id);
    this.options.onDeadLetter?.(key);
    const body = JSON.stringify({
      schema_version: AUDIT_SCHEMA_VERSION,
      id,
      ts,
      environment: this.options.environment,
      error: { field: error.field, message: error.message, issues: safeForJson(issues) },
      draft: safeForJson(draft),
    });
    try {
      await this.io('put-dead-letter', 'dead-letter', () =>
        this.options.s3.send(
          new PutObjectCommand({
            Bucket: this.options.bucket,
            Key: key,
            Body: `${body}\n`,
            ContentType: 'application/json',
            IfNoneMatch: '*',
          }),
        ),
      );
    } catch (err) {
      // The draft is rejected either way; keep the storage fault as the cause.
      (error as { cause?: unknown }).cause = err;
    }
  }

  /**
   * Validates, chains and stores several records of ONE stream with a single head advance
   * (the head item also keeps the batch, so an interrupted writer's objects are finished by
   * the next append), then writes the objects in parallel. Same guarantees as {@link append}.
   *
   * @returns the stored records, in order.
   * @throws ValidationError when any draft is invalid (nothing of the batch is written) or
   *   the drafts name different streams; AuditWriteError as {@link append}.
   */
  async appendMany(drafts: readonly AuditDraft[]): Promise<AuditRecord[]> {
    if (drafts.length === 0) return [];
    const [only] = drafts;
    if (drafts.length === 1 && only) return [await this.append(only)];
    const out = await this.commitBatch(await this.validateBatch(drafts), null);
    return out.records ?? [];
  }

  /**
   * {@link appendMany} at most once per `idempotencyKey` on the drafts' stream (one draft is a
   * batch of one): the key's item is committed in the same transaction as the head update,
   * with the batch's `ts` and size, so an attempt that finds the key reads the committed
   * records back (from the head item, or by their key prefix in the bucket) and returns them
   * with `replayed: true`, appending nothing. Concurrent attempts commit one batch.
   *
   * @returns the stored records in order (the earlier attempt's when replayed).
   * @throws ValidationError (as {@link appendMany}; also for an empty batch), AuditWriteError
   *   as {@link append}, and when a replayed record can no longer be read back.
   */
  async appendManyOnce(
    drafts: readonly AuditDraft[],
    idempotencyKey: string,
  ): Promise<{ records: AuditRecord[]; replayed: boolean }> {
    if (drafts.length === 0) throw new ValidationError('audit', 'appendManyOnce needs a draft');
    const parsed = await this.validateBatch(drafts);
    const out = await this.commitBatch(parsed, idempotencyKey);
    if (out.records) return { records: out.records, replayed: false };
    const replay = out.replay as IdempotencyEntry & { head: StoredStreamHead | null };
    return { records: await this.readBack(parsed[0] as ParsedAuditDraft, replay), replayed: true };
  }

  private async validateBatch(drafts: readonly AuditDraft[]): Promise<ParsedAuditDraft[]> {
    const parsed: ParsedAuditDraft[] = [];
    for (const d of drafts) parsed.push(await this.validate(d));
    const stream = (parsed[0] as ParsedAuditDraft).stream;
    if (parsed.some((p) => p.stream !== stream)) {
      throw new ValidationError('audit.stream', 'appendMany takes drafts of one stream');
    }
    return parsed;
  }

  /** The records an idempotency entry committed, read from the head item or the bucket. */
  private async readBack(
    first: ParsedAuditDraft,
    entry: IdempotencyEntry & { head: StoredStreamHead | null },
  ): Promise<AuditRecord[]> {
    const stream = first.stream;
    if (entry.ts === undefined) {
      throw new AuditWriteError('read-replay', stream, `key ${entry.key} has no ts to read back`);
    }
    const lines = new Map<number, string>();
    for (const b of [...(entry.head?.batch ?? []), { line: entry.head?.record ?? null, key: '' }]) {
      if (b.line === null) continue;
      const r = parseAuditRecord(JSON.parse(b.line));
      lines.set(r.seq, b.line);
    }
    const count = entry.count ?? 1;
    const records: AuditRecord[] = [];
    for (let seq = entry.seq - count + 1; seq <= entry.seq; seq += 1) {
      const line =
        lines.get(seq) ??
        (await this.readObjectLine(
          auditObjectKeyPrefix({ environment: first.environment, ts: entry.ts, stream, seq }),
          stream,
        ));
      records.push(parseAuditRecord(JSON.parse(line)));
    }
    return records;
  }

  /**
   * One stream's records of a window ({@link AuditStreamReader.readStreamHours}): the head is
   * read first (which writes its record's object when a crashed writer left it missing), then
   * the stream's objects of each UTC hour are listed (ListObjectsV2, paginated) and read.
   */
  async readStreamHours(stream: string, fromIso: string, toIso: string): Promise<AuditRecord[]> {
    const prefixes = auditStreamHourPrefixes(this.options.environment, stream, fromIso, toIso);
    await this.readHead(stream);
    const records: AuditRecord[] = [];
    for (const prefix of prefixes) {
      for (const key of await this.listKeys(prefix, stream)) {
        records.push(parseAuditRecord(JSON.parse(await this.getLine(key, stream))));
      }
    }
    return records.sort((a, b) => a.seq - b.seq);
  }

  /** Every object key under `prefix`. */
  private listKeys(prefix: string, stream: string): Promise<string[]> {
    return this.io('list-stream', stream, async () => {
      const keys: string[] = [];
      let token: string | undefined;
      do {
        const page = await this.options.s3.send(
          new ListObjectsV2Command({
            Bucket: this.options.bucket,
            Prefix: prefix,
            ContinuationToken: token,
          }),
        );
        for (const o of page.Contents ?? []) if (o.Key) keys.push(o.Key);
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
      return keys;
    });
  }

  /** The text of the object `key`. */
  private getLine(key: string, stream: string): Promise<string> {
    return this.io('read-stream', stream, async () => {
      const got = await this.options.s3.send(
        new GetObjectCommand({ Bucket: this.options.bucket, Key: key }),
      );
      return (await got.Body?.transformToString('utf8')) ?? '';
    });
  }

  /** The one object under `prefix` (a record's key up to its id), as its text. */
  private async readObjectLine(prefix: string, stream: string): Promise<string> {
    return this.io('read-replay', stream, async () => {
      const listed = await this.options.s3.send(
        new ListObjectsV2Command({ Bucket: this.options.bucket, Prefix: prefix, MaxKeys: 2 }),
      );
      const key = listed.Contents?.[0]?.Key;
      if (!key || (listed.Contents?.length ?? 0) !== 1) {
        throw new Error(
          `expected one object under ${prefix}, found ${listed.Contents?.length ?? 0}`,
        );
      }
      const got = await this.options.s3.send(
        new GetObjectCommand({ Bucket: this.options.bucket, Key: key }),
      );
      return (await got.Body?.transformToString('utf8')) ?? '';
    });
  }

  /**
   * The append loop of every append (key null: none): read the head, chain, advance the head
   * conditionally (with the key's item when keyed: the transaction goes first, and the key is
   * read only when DynamoDB cancels it on the key's condition), store the objects.
   */
  private async commitBatch(
    parsed: readonly ParsedAuditDraft[],
    idempotencyKey: string | null,
  ): Promise<{
    records?: AuditRecord[];
    replay?: IdempotencyEntry & { head: StoredStreamHead | null };
  }> {
    const stream = (parsed[0] as ParsedAuditDraft).stream;
    const maxConflicts = this.options.maxHeadConflicts ?? 16;
    for (let round = 0; round < maxConflicts; round += 1) {
      const cached = round === 0 ? this.lastHeads.get(stream) : undefined;
      const head = cached ?? (await this.readHead(stream));
      // A key kept in the head item by an older release (never in a key item of its own).
      // A replay reads its records back from a fresh, materialized head (a cached one may be behind).
      const legacy = idempotencyKey && head?.idempotency?.find((e) => e.key === idempotencyKey);
      if (legacy)
        return { replay: { ...legacy, head: cached ? await this.readHead(stream) : head } };
      const { records, items, key } = this.chainBatch(parsed, head, idempotencyKey);
      const last = records.at(-1) as AuditRecord;
      const lastItem = items.at(-1) as { key: string; line: string };
      const advance = await this.io('advance-head', stream, () =>
        advanceStreamHead(
          this.options.dynamo,
          this.options.tableName,
          last,
          lastItem.line,
          lastItem.key,
          items.slice(0, -1),
          key,
        ),
      );
      this.lastHeads.delete(stream);
      if (advance.outcome === 'key_committed') {
        return { replay: { ...advance.entry, head: await this.readHead(stream) } };
      }
      if (advance.outcome === 'lost') {
        if (cached) continue; // stale cache: re-read at once, no backoff
        await (this.retry.sleep ?? defaultSleep)(backoffDelay(this.retry, Math.min(round, 5)));
        continue;
      }
      await Promise.all(items.map((it) => this.putObject(it.key, it.line, stream)));
      this.rememberHead(stream, {
        seq: last.seq,
        hash: last.hash,
        record: lastItem.line,
        objectKey: lastItem.key,
        idempotency: head?.idempotency ?? [],
      });
      return { records };
    }
    throw new AuditWriteError(
      'advance-head',
      stream,
      `stream head still contended after ${maxConflicts} rounds`,
    );
  }

  /** The stream's head (consistent read), its record's objects written when they are missing. */
  private async readHead(stream: string): Promise<StoredStreamHead | null> {
    const head = await this.io('read-head', stream, () =>
      readStreamHead(this.options.dynamo, this.options.tableName, stream),
    );
    if (head) await this.materialize(head, stream);
    return head;
  }

  /** Chains `parsed` after `head`: the records, their objects, and the key to commit. */
  private chainBatch(
    parsed: readonly ParsedAuditDraft[],
    head: StoredStreamHead | null,
    idempotencyKey: string | null,
  ): { records: AuditRecord[]; items: { key: string; line: string }[]; key?: KeyCommit } {
    const now = this.options.clock.now();
    const records: AuditRecord[] = [];
    let prev: StreamHead | null = head;
    for (const p of parsed) {
      const r = chainRecord(p, prev, this.nextId(now), toAuditTs(now), this.codeVersion);
      records.push(r);
      prev = { seq: r.seq, hash: r.hash };
    }
    const items = records.map((r) => ({ key: auditObjectKey(r), line: serializeAuditRecord(r) }));
    if (idempotencyKey === null) return { records, items };
    const last = records.at(-1) as AuditRecord;
    const entry = { key: idempotencyKey, ...receiptOf(last), ts: last.ts, count: records.length };
    const expiresAt = Math.floor(now / 1000) + AUDIT_IDEMPOTENCY_TTL_DAYS * 86_400;
    return { records, items, key: { entry, expiresAt } };
  }

  /** Ensures the head record's object (and its batch's) exist (finishes an interrupted writer). */
  private async materialize(head: StoredStreamHead, stream: string): Promise<void> {
    for (const b of head.batch ?? []) await this.materializeOne(b.key, b.line, stream);
    if (head.record === null || head.objectKey === null) return;
    await this.materializeOne(head.objectKey, head.record, stream);
  }

  private async materializeOne(key: string, line: string, stream: string): Promise<void> {
    if (this.known.has(key)) return;
    const exists = await this.io('head-object', stream, async () => {
      try {
        await this.options.s3.send(
          new HeadObjectCommand({ Bucket: this.options.bucket, Key: key }),
        );
        return true;
      } catch (err) {
        if (httpStatusOf(err) === 404 || (err as Error).name === 'NotFound') return false;
        throw err;
      }
    });
    if (!exists) await this.putObject(key, line, stream);
    else this.known.add(key);
  }

  private async putObject(key: string, line: string, stream: string): Promise<void> {
    await this.io('put-object', stream, async () => {
      try {
        await this.options.s3.send(
          new PutObjectCommand({
            Bucket: this.options.bucket,
            Key: key,
            Body: line,
            ContentType: 'application/x-ndjson',
            // Real S3 refuses to overwrite (412); s3rver ignores it, keys are unique anyway.
            IfNoneMatch: '*',
          }),
        );
      } catch (err) {
        // 412: the object already exists; its key embeds the record id, so another writer
        // finishing this very record put it there.
        if (httpStatusOf(err) !== 412) throw err;
      }
    });
    this.known.add(key);
  }

  private io<T>(operation: string, stream: string, fn: () => Promise<T>): Promise<T> {
    return withRetries(
      fn,
      this.retry,
      (err, attempts) =>
        new AuditWriteError(operation, stream, `${attempts} attempt(s): ${describeError(err)}`, {
          cause: err,
        }),
    );
  }
}
