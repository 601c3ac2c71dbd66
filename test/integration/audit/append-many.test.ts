/**
 * Batched appends (AuditSink.appendMany) on real DynamoDB Local + s3rver: one head advance
 * for the batch, every record chained and stored, and a writer that dies after the head moved
 * but before its objects were written is finished by the next append.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3AuditSink } from '../../../functions/adapters/audit/s3-audit-sink.js';
import type { AuditDraft } from '../../../functions/core/audit/record.js';
import { ManualClock } from '../../../functions/ports/clock.js';
import { verifyAudit } from '../../../local/audit/duckdb.js';
import { type LocalServers, startLocalServers } from '../../../local/servers.js';
import {
  localDynamoTable,
  localS3Client,
  withFailingPuts,
} from '../../support/local-audit-store.js';

const BUCKET = 'stagegate-audit-batch';
const TABLE = 'stagegate-batch';
let servers: LocalServers;
let dynamo: DynamoDBDocumentClient;

const s3Client = (inject?: boolean) => {
  const c = localS3Client(servers);
  return inject ? withFailingPuts(c) : c;
};

const sink = (client: S3Client) =>
  new S3AuditSink({
    s3: client,
    dynamo,
    tableName: TABLE,
    bucket: BUCKET,
    environment: 'dev',
    clock: new ManualClock(Date.UTC(2024, 2, 4, 15, 0, 0)),
    retry: { maxAttempts: 2, baseDelayMs: 1 },
  });

const gate = (stream: string, i: number): AuditDraft => ({
  kind: 'gate_evaluated',
  actor: 'stagegate/evaluate-gates',
  stream,
  environment: 'dev',
  subject: { promotion_id: 'p-batch' },
  payload: { gate: `g${i}`, verdict: 'pass', observed: i, threshold: 10, reason: `gate ${i}` },
});

const verify = () =>
  verifyAudit({
    s3Client: s3Client(),
    bucket: BUCKET,
    environment: 'dev',
    heads: { dynamo, tableName: TABLE },
  });

beforeAll(async () => {
  servers = await startLocalServers({ buckets: [BUCKET] });
  dynamo = await localDynamoTable(servers, TABLE);
});

afterAll(async () => {
  await servers?.stop();
});

describe('appendMany', () => {
  it('chains a batch after a single append and verifies', async () => {
    const audit = sink(s3Client());
    await audit.append(gate('promotion:ok', 0));
    const batch = await audit.appendMany([1, 2, 3, 4, 5].map((i) => gate('promotion:ok', i)));
    expect(batch.map((r) => r.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(batch[0]?.prev_hash).not.toBe(batch[1]?.prev_hash);
    expect(await verify()).toMatchObject({ ok: true, checked: 6 });
  });

  it('a writer dying after the head moved: the next append writes the whole batch', async () => {
    // Prepare: the stream exists (verify reads streams from their stored objects)
    await sink(s3Client()).append(gate('promotion:crash', 0));
    // Act: the batch commits in the head, every object put fails
    await expect(
      sink(s3Client(true)).appendMany([1, 2, 3, 4].map((i) => gate('promotion:crash', i))),
    ).rejects.toMatchObject({
      name: 'AuditWriteError',
    });
    const pending = await verify();
    const next = await sink(s3Client()).append(gate('promotion:crash', 5));
    const healed = await verify();

    // Assess
    expect(pending.firstBreak).toMatchObject({
      stream: 'promotion:crash',
      reason: 'head-mismatch',
    });
    expect(next.seq).toBe(5);
    expect(healed).toMatchObject({ ok: true, checked: 12 });
  });

  it('refuses drafts of different streams, writing nothing', async () => {
    await expect(
      sink(s3Client()).appendMany([gate('promotion:a', 0), gate('promotion:b', 1)]),
    ).rejects.toMatchObject({
      name: 'ValidationError',
    });
  });
});
