/**
 * {@link AuditReader} over the audit bucket (paginated listing + one GET per object) and the
 * stream heads in DynamoDB.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { auditPrefix, parseAuditObjectKey } from '../../core/audit/keys.js';
import type { StreamHead } from '../../core/audit/record.js';
import type { VerifyInput } from '../../core/audit/verify.js';
import { TransientError } from '../../core/errors.js';
import type { AuditReader, AuditReadQuery } from '../../ports/audit.js';
import type { RetryPolicy } from './retry.js';
import { describeError, withRetries } from './retry.js';
import { readStreamHead } from './stream-heads.js';

export interface S3AuditReaderOptions {
  readonly s3: S3Client;
  readonly bucket: string;
  /** Head table; without it `readHeads` returns an empty map. */
  readonly dynamo?: DynamoDBDocumentClient;
  readonly tableName?: string;
  /** Objects fetched in parallel. Default 16. */
  readonly concurrency?: number;
  /** Page size of the listing (max 1,000). Default 1,000. */
  readonly pageSize?: number;
  readonly retry?: RetryPolicy;
}

/** One listed object. */
export interface ListedObject {
  readonly key: string;
  readonly size: number;
  readonly etag: string;
}

/** Runs `fn` over `items` with at most `limit` in flight; results keep the input order. */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next;
      next += 1;
      out[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return out;
}

/**
 * Whether the record stored under `key` is of a stream `streamPrefixes` selects (all keys when
 * it is absent; a key outside the layout names no stream and is never selected by a filter).
 */
function keySelected(key: string, streamPrefixes: readonly string[] | undefined): boolean {
  if (streamPrefixes === undefined) return true;
  const stream = parseAuditObjectKey(key)?.stream;
  return stream !== undefined && streamPrefixes.some((p) => stream.startsWith(p));
}

/** Reads audit records and heads back from S3 and DynamoDB. */
export class S3AuditReader implements AuditReader {
  constructor(private readonly options: S3AuditReaderOptions) {}

  /**
   * Every object under `prefix` (all pages), or only those whose key sorts after `startAfter`.
   *
   * @throws TransientError when listing keeps failing after bounded retries.
   */
  async list(prefix: string, startAfter?: string): Promise<ListedObject[]> {
    const out: ListedObject[] = [];
    let token: string | undefined;
    do {
      const page = await this.retrying(`list ${prefix}`, () =>
        this.options.s3.send(
          new ListObjectsV2Command({
            Bucket: this.options.bucket,
            Prefix: prefix,
            StartAfter: token ? undefined : startAfter,
            ContinuationToken: token,
            MaxKeys: this.options.pageSize ?? 1_000,
          }),
        ),
      );
      for (const o of page.Contents ?? []) {
        if (o.Key) out.push({ key: o.Key, size: o.Size ?? 0, etag: o.ETag ?? '' });
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return out;
  }

  /**
   * The object's body as bytes.
   *
   * @throws TransientError when the GET keeps failing after bounded retries.
   */
  async getBytes(key: string): Promise<Uint8Array> {
    return this.retrying(`get ${key}`, async () => {
      const out = await this.options.s3.send(
        new GetObjectCommand({ Bucket: this.options.bucket, Key: key }),
      );
      if (!out.Body) return new Uint8Array();
      return out.Body.transformToByteArray();
    });
  }

  /**
   * Records of one environment (optionally one UTC day, optionally only the streams of
   * `query.streamPrefixes`, chosen from the listed keys before any GET), each JSON line as one
   * input; a line that is not JSON is returned as its raw text (verify reports it as invalid).
   *
   * @throws TransientError when S3 keeps failing after bounded retries.
   */
  async readRecords(query: AuditReadQuery): Promise<VerifyInput[]> {
    const objects = (await this.list(auditPrefix(query.environment, query.date))).filter(
      (o) => o.key.endsWith('.jsonl') && keySelected(o.key, query.streamPrefixes),
    );
    const perObject = await mapLimit(objects, this.options.concurrency ?? 16, async (o) => {
      const text = Buffer.from(await this.getBytes(o.key)).toString('utf8');
      const lines = text.split('\n').filter((l) => l.trim() !== '');
      if (lines.length === 0) return [{ key: o.key, record: text } satisfies VerifyInput];
      return lines.map((line): VerifyInput => {
        try {
          return { key: o.key, record: JSON.parse(line) as unknown };
        } catch {
          return { key: o.key, record: line };
        }
      });
    });
    return perObject.flat();
  }

  /**
   * Heads of the given streams (needs `dynamo` + `tableName`).
   *
   * @throws TransientError when DynamoDB keeps failing after bounded retries.
   */
  async readHeads(streams: readonly string[]): Promise<Map<string, StreamHead>> {
    const { dynamo, tableName } = this.options;
    const out = new Map<string, StreamHead>();
    if (!dynamo || !tableName) return out;
    const heads = await mapLimit(streams, this.options.concurrency ?? 16, (s) =>
      this.retrying(`head ${s}`, () => readStreamHead(dynamo, tableName, s)),
    );
    streams.forEach((s, i) => {
      const h = heads[i];
      if (h) out.set(s, { seq: h.seq, hash: h.hash });
    });
    return out;
  }

  private retrying<T>(what: string, fn: () => Promise<T>): Promise<T> {
    return withRetries(
      fn,
      this.options.retry ?? {},
      (err, attempts) =>
        new TransientError(
          `audit read failed (${what}) after ${attempts} attempt(s): ${describeError(err)}`,
          {
            cause: err,
          },
        ),
    );
  }
}
