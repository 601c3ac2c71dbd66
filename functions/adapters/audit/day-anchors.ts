/**
 * Storage of the audit day manifests and their anchor (functions/core/audit/manifest.ts):
 * manifests are JSON objects `audit-manifests/env={env}/dt={date}.json` in the audit bucket;
 * the anchor (the newest manifest's date and hash) is the item `pk = AUDIT_ANCHOR#{env}`,
 * `sk = LATEST` of the stream-head table, outside the bucket. Also lists the stream heads
 * (through their index), so verify can tell a stream whose objects were all deleted.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import {
  AUDIT_MANIFEST_PREFIX,
  auditPrefix,
  manifestKey,
  parseAuditObjectKey,
} from '../../core/audit/keys.js';
import type {
  AuditAnchor,
  AuditDayManifest,
  DatedStreamHead,
  NextRecord,
} from '../../core/audit/manifest.js';
import type { AuditEnvironment, StreamHead } from '../../core/audit/record.js';
import { TransientError } from '../../core/errors.js';
import type { AuditAnchorStore } from '../../ports/audit.js';
import { mapLimit, S3AuditReader } from './s3-audit-reader.js';
import { isConditionalCheckFailure, queryStreamHeads, readStreamHead } from './stream-heads.js';

const ANCHOR_SK = 'LATEST';
const anchorPk = (environment: AuditEnvironment) => `AUDIT_ANCHOR#${environment}`;

/** Reads and writes manifests and the anchor; lists stream heads. */
export class AuditDayAnchors implements AuditAnchorStore {
  private readonly reader: S3AuditReader;

  constructor(
    private readonly options: {
      readonly s3: S3Client;
      readonly bucket: string;
      readonly dynamo: DynamoDBDocumentClient;
      readonly tableName: string;
    },
  ) {
    this.reader = new S3AuditReader({ s3: options.s3, bucket: options.bucket });
  }

  /** Every stored manifest of the environment, as raw JSON (a non-JSON object as its text). */
  async readManifests(environment: AuditEnvironment): Promise<unknown[]> {
    const objects = (await this.reader.list(`${AUDIT_MANIFEST_PREFIX}env=${environment}/`)).filter(
      (o) => o.key.endsWith('.json'),
    );
    return mapLimit(objects, 8, async (o) => {
      const text = Buffer.from(await this.reader.getBytes(o.key)).toString('utf8');
      try {
        return JSON.parse(text) as unknown;
      } catch {
        return text;
      }
    });
  }

  /** The anchor, null when nothing was ever anchored. Strongly consistent. */
  async readAnchor(environment: AuditEnvironment): Promise<AuditAnchor | null> {
    const out = await this.options.dynamo.send(
      new GetCommand({
        TableName: this.options.tableName,
        Key: { pk: anchorPk(environment), sk: ANCHOR_SK },
        ConsistentRead: true,
      }),
    );
    const item = out.Item;
    if (!item || typeof item.date !== 'string' || typeof item.hash !== 'string') return null;
    return { date: item.date, hash: item.hash };
  }

  /**
   * Stores `manifest`, then moves the anchor to it if the anchor is still `expected` (the
   * manifest's predecessor): two concurrent anchorings cannot both win.
   *
   * @throws TransientError when the anchor moved meanwhile (nothing anchored; retry).
   */
  async writeManifest(manifest: AuditDayManifest, expected: AuditAnchor | null): Promise<string> {
    const key = manifestKey(manifest.environment, manifest.date);
    await this.options.s3.send(
      new PutObjectCommand({
        Bucket: this.options.bucket,
        Key: key,
        Body: `${JSON.stringify(manifest)}\n`,
        ContentType: 'application/json',
      }),
    );
    try {
      await this.options.dynamo.send(
        new PutCommand({
          TableName: this.options.tableName,
          Item: {
            pk: anchorPk(manifest.environment),
            sk: ANCHOR_SK,
            date: manifest.date,
            hash: manifest.hash,
            object_key: key,
          },
          ConditionExpression: expected ? '#hash = :expected' : 'attribute_not_exists(pk)',
          ExpressionAttributeNames: expected ? { '#hash': 'hash' } : undefined,
          ExpressionAttributeValues: expected ? { ':expected': expected.hash } : undefined,
        }),
      );
    } catch (err) {
      if (isConditionalCheckFailure(err)) {
        throw new TransientError(
          `audit anchor of ${manifest.environment} moved while anchoring ${manifest.date}`,
        );
      }
      throw err;
    }
    return key;
  }

  /**
   * Every stream head of the environment, keyed by stream: Queries of the sparse head index
   * (stream-heads.ts `AUDIT_HEADS_INDEX`), so the cost grows with the number of streams, not
   * with the rest of the table.
   */
  listHeads(environment: AuditEnvironment): Promise<Map<string, DatedStreamHead>> {
    return queryStreamHeads(this.options.dynamo, this.options.tableName, environment);
  }

  /**
   * The heads the check of the UTC day `date` needs: those written that day or later (one
   * Query per index shard, about one day of heads for a daily run), plus the heads of
   * `streams` the index did not return (strongly consistent GetItems: a stream whose newest
   * record has an earlier `ts` than its day's records, e.g. a replayed clock).
   */
  async headsSince(
    environment: AuditEnvironment,
    date: string,
    streams: readonly string[],
  ): Promise<Map<string, DatedStreamHead | StreamHead>> {
    const { dynamo, tableName } = this.options;
    const out: Map<string, DatedStreamHead | StreamHead> = await queryStreamHeads(
      dynamo,
      tableName,
      environment,
      date,
    );
    const missing = streams.filter((s) => !out.has(s));
    const heads = await mapLimit(missing, 16, (s) => readStreamHead(dynamo, tableName, s));
    missing.forEach((s, i) => {
      const h = heads[i];
      if (h) out.set(s, { seq: h.seq, hash: h.hash });
    });
    return out;
  }

  /**
   * For each stream, the first stored record after the UTC day `date`. Lists only the keys
   * after that day's partition (`StartAfter`), so a daily run reads about one day of keys, and
   * GETs one object per stream.
   */
  async firstRecordsAfter(
    environment: AuditEnvironment,
    date: string,
  ): Promise<Map<string, NextRecord>> {
    const prefix = auditPrefix(environment);
    // Every key of day `date` starts `dt=<date>/`; `dt=<date>~` sorts after all of them ('~'
    // 0x7E > '/' 0x2F) and before every later day's keys (they differ in a digit of the date).
    const listed = await this.reader.list(prefix, `${prefix}dt=${date}~`);
    const firstKey = new Map<string, { key: string; seq: number }>();
    for (const o of listed) {
      const parts = parseAuditObjectKey(o.key);
      if (!parts || parts.dt <= date) continue;
      const seen = firstKey.get(parts.stream);
      if (!seen || parts.seq < seen.seq) firstKey.set(parts.stream, { key: o.key, seq: parts.seq });
    }
    const entries = [...firstKey.entries()];
    const texts = await mapLimit(entries, 16, async ([, f]) =>
      Buffer.from(await this.reader.getBytes(f.key)).toString('utf8'),
    );
    const out = new Map<string, NextRecord>();
    entries.forEach(([stream, f], i) => {
      try {
        const r = JSON.parse((texts[i] ?? '').split('\n')[0] ?? '') as { prev_hash?: unknown };
        out.set(stream, { seq: f.seq, prevHash: String(r.prev_hash) });
      } catch {
        out.set(stream, { seq: f.seq, prevHash: '' });
      }
    });
    return out;
  }
}
