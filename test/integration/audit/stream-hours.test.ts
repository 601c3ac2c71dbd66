/**
 * `S3AuditSink.readStreamHours` on DynamoDB Local + s3rver: one stream's records of a window
 * of UTC hours (what the Conclude sweep reads before it appends the record of a signature an
 * older door stored without its key), including a record committed in the stream head whose
 * object its writer never stored, and none of another stream or of an hour outside the window.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3AuditSink } from '../../../functions/adapters/audit/s3-audit-sink.js';
import type { AuditDraft } from '../../../functions/core/audit/record.js';
import { AuditWriteError, ValidationError } from '../../../functions/core/errors.js';
import { ManualClock } from '../../../functions/ports/clock.js';
import { type LocalServers, startLocalServers } from '../../../local/servers.js';
import {
  localDynamoTable,
  localS3Client,
  withFailingPuts,
} from '../../support/local-audit-store.js';

const BUCKET = 'stagegate-audit-hours';
const TABLE = 'stagegate-hours';
let servers: LocalServers;
let dynamo: DynamoDBDocumentClient;
let s3: S3Client;
const clock = new ManualClock(Date.UTC(2024, 2, 4, 15, 10, 0));

const sinkOver = (client: S3Client) =>
  new S3AuditSink({
    s3: client,
    dynamo,
    tableName: TABLE,
    bucket: BUCKET,
    environment: 'local',
    clock,
    retry: { maxAttempts: 1, baseDelayMs: 1 },
  });

const draft = (stream: string, decision: 'approved' | 'rejected'): AuditDraft => ({
  kind: 'approval_decided',
  actor: 'web:olivia@example.com',
  stream,
  environment: 'local',
  subject: {},
  payload: { decision, reason: null, approval_id: 'Ab3dEf6hIj9kLm2nOp5qRs' },
});

beforeAll(async () => {
  servers = await startLocalServers({ buckets: [BUCKET] });
  dynamo = await localDynamoTable(servers, TABLE);
  s3 = localS3Client(servers);
});

afterAll(async () => {
  await servers?.stop();
});

describe('S3AuditSink.readStreamHours', () => {
  it("reads one stream's records of the window's hours, with a head record whose object was never stored", async () => {
    // Prepare: stream A at 15:10 and 16:05 (its 16:05 object lost), 17:30; stream B at 15:20
    const sink = sinkOver(s3);
    await sink.append(draft('execution:hours-a', 'approved'));
    clock.set(Date.UTC(2024, 2, 4, 15, 20, 0));
    await sink.append(draft('execution:hours-b', 'approved'));
    clock.set(Date.UTC(2024, 2, 4, 16, 5, 0));
    await expect(
      sinkOver(withFailingPuts(localS3Client(servers))).append(
        draft('execution:hours-a', 'rejected'),
      ),
    ).rejects.toBeInstanceOf(AuditWriteError);

    // Act
    const read = await sinkOver(s3).readStreamHours(
      'execution:hours-a',
      '2024-03-04T15:59:00.000Z',
      '2024-03-04T16:14:00.000Z',
    );
    const wide = await sinkOver(s3).readStreamHours(
      'execution:hours-a',
      '2024-03-04T15:00:00.000Z',
      '2024-03-04T16:00:00.000Z',
    );
    clock.set(Date.UTC(2024, 2, 4, 17, 30, 0));
    await sink.append(draft('execution:hours-a', 'approved'));
    const before = await sinkOver(s3).readStreamHours(
      'execution:hours-a',
      '2024-03-04T15:00:00.000Z',
      '2024-03-04T16:59:59.999Z',
    );

    // Assess
    const summary = (rs: { seq: number; ts: string; payload: string }[]) =>
      rs.map((r) => [r.seq, r.ts.slice(11, 16), JSON.parse(r.payload).decision]);
    expect(summary(read)).toEqual([
      [0, '15:10', 'approved'],
      [1, '16:05', 'rejected'],
    ]);
    expect(summary(wide)).toEqual(summary(read));
    expect(summary(before)).toEqual(summary(read));
  });

  it('refuses a window that is not one (more than 48 hours, or reversed)', async () => {
    const sink = sinkOver(s3);
    await expect(
      sink.readStreamHours('execution:hours-a', '2024-03-01T00:00:00Z', '2024-03-04T00:00:00Z'),
    ).rejects.toBeInstanceOf(ValidationError);
    await expect(
      sink.readStreamHours('execution:hours-a', '2024-03-04T16:00:00Z', '2024-03-04T15:00:00Z'),
    ).rejects.toBeInstanceOf(ValidationError);
  });
});
