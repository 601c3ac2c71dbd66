/**
 * S3AuditSink's write protocol against in-memory fakes of S3 and DynamoDB, so faults can be
 * injected at exact points (the real servers are exercised in test/integration/audit).
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import type { S3Client } from '@aws-sdk/client-s3';
import { HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { S3AuditSink } from '../../../functions/adapters/audit/s3-audit-sink.js';
import { verifyChains } from '../../../functions/core/audit/verify.js';
import { AuditWriteError, ValidationError } from '../../../functions/core/errors.js';
import { ManualClock } from '../../../functions/ports/clock.js';
import { MemoryAuditSink } from '../../support/doubles/memory-audit-sink.js';
import { gateDraft, seededPrng, T0 } from './fixtures.js';

class FakeS3 {
  readonly objects = new Map<string, string>();
  putCalls = 0;
  failPuts = 0;
  async send(command: unknown): Promise<unknown> {
    await Promise.resolve();
    if (command instanceof PutObjectCommand) {
      this.putCalls += 1;
      if (this.failPuts > 0) {
        this.failPuts -= 1;
        throw Object.assign(new Error('SlowDown'), { $metadata: { httpStatusCode: 503 } });
      }
      this.objects.set(command.input.Key as string, String(command.input.Body));
      return {};
    }
    if (command instanceof HeadObjectCommand) {
      if (this.objects.has(command.input.Key as string)) return {};
      throw Object.assign(new Error('NotFound'), {
        name: 'NotFound',
        $metadata: { httpStatusCode: 404 },
      });
    }
    throw new Error(`unexpected S3 command ${String(command)}`);
  }
  client(): S3Client {
    return this as unknown as S3Client;
  }
}

class FakeDynamo {
  readonly items = new Map<string, Record<string, unknown>>();
  failReads = 0;
  alwaysConflict = false;
  /** Updates applied whose answer is then lost (the caller sees a network error). */
  loseAnswers = 0;
  async send(command: unknown): Promise<unknown> {
    await Promise.resolve();
    if (command instanceof GetCommand) {
      if (this.failReads > 0) {
        this.failReads -= 1;
        throw new Error('ProvisionedThroughputExceededException');
      }
      const item = this.items.get(String(command.input.Key?.pk));
      return { Item: item ? { ...item } : undefined };
    }
    if (command instanceof UpdateCommand) {
      const input = command.input;
      const pk = String(input.Key?.pk);
      const values = input.ExpressionAttributeValues ?? {};
      const current = this.items.get(pk);
      const ok =
        !this.alwaysConflict &&
        (input.ConditionExpression === 'attribute_not_exists(pk)'
          ? current === undefined
          : current !== undefined && current.seq === values[':expected']);
      if (!ok) {
        throw new ConditionalCheckFailedException({ message: 'conditional', $metadata: {} });
      }
      this.items.set(pk, {
        pk,
        sk: 'HEAD',
        seq: values[':seq'],
        hash: values[':hash'],
        record: values[':record'],
        object_key: values[':key'],
        updated_at: values[':at'],
      });
      if (this.loseAnswers > 0) {
        this.loseAnswers -= 1;
        throw Object.assign(new Error('socket hang up'), { name: 'TimeoutError' });
      }
      return {};
    }
    throw new Error(`unexpected DynamoDB command ${String(command)}`);
  }
  client(): DynamoDBDocumentClient {
    return this as unknown as DynamoDBDocumentClient;
  }
}

function setup(
  options: {
    s3?: FakeS3;
    dynamo?: FakeDynamo;
    clock?: ManualClock;
    maxHeadConflicts?: number;
    /** Seed of the ULIDs' random part (two writers never share one, as in production). */
    seed?: number;
  } = {},
) {
  const s3 = options.s3 ?? new FakeS3();
  const dynamo = options.dynamo ?? new FakeDynamo();
  const clock = options.clock ?? new ManualClock(T0);
  const sink = new S3AuditSink({
    s3: s3.client(),
    dynamo: dynamo.client(),
    tableName: 'stagegate',
    bucket: 'audit-bucket',
    environment: 'local',
    clock,
    prng: seededPrng(options.seed ?? 7),
    retry: { maxAttempts: 3, sleep: async () => {} },
    maxHeadConflicts: options.maxHeadConflicts ?? 5,
  });
  const stored = () =>
    [...s3.objects]
      .filter(([k]) => k.startsWith('audit/'))
      .map(([key, body]) => ({ key, record: JSON.parse(body) as unknown }));
  return { s3, dynamo, clock, sink, stored };
}

describe('S3AuditSink', () => {
  it('chains appends and writes one object per record under the contract key', async () => {
    // Prepare
    const { sink, clock, stored } = setup();
    // Act
    const a = await sink.append(gateDraft());
    clock.advance(3_600_000);
    const b = await sink.append(gateDraft());
    // Assess
    expect([a.seq, b.seq]).toEqual([0, 1]);
    expect(b.prev_hash).toBe(a.hash);
    expect(stored().map((s) => s.key)).toEqual([
      `audit/env=local/dt=2024-03-04/hour=14/promotion_3Ap-1/0000000000-${a.id}.jsonl`,
      `audit/env=local/dt=2024-03-04/hour=15/promotion_3Ap-1/0000000001-${b.id}.jsonl`,
    ]);
    expect(verifyChains(stored()).ok).toBe(true);
  });

  it('dead-letters an invalid draft and throws ValidationError without recording it', async () => {
    // Prepare
    const { sink, s3, dynamo } = setup();
    const draft = { ...gateDraft(), kind: 'trade_made' };
    // Act
    const act = sink.append(draft as never);
    // Assess
    await expect(act).rejects.toThrow(ValidationError);
    const [key, body] = [...s3.objects][0]!;
    expect(key).toMatch(/^audit-dead-letter\/env=local\/dt=2024-03-04\/[0-9A-Z]{26}\.json$/);
    expect(JSON.parse(body)).toMatchObject({
      draft: { kind: 'trade_made' },
      error: { field: 'audit.kind' },
    });
    expect(dynamo.items.size).toBe(0);
  });

  it('rejects a draft for another environment', async () => {
    // Prepare
    const { sink, s3 } = setup();
    // Act
    const act = sink.append(gateDraft({ environment: 'prod' }));
    // Assess
    await expect(act).rejects.toMatchObject({
      name: 'ValidationError',
      field: 'audit.environment',
    });
    expect([...s3.objects.keys()][0]).toMatch(/^audit-dead-letter\//);
  });

  it('retries a failing S3 put with backoff and then succeeds', async () => {
    // Prepare
    const { sink, s3, stored } = setup();
    s3.failPuts = 2;
    // Act
    const rec = await sink.append(gateDraft());
    // Assess
    expect(s3.putCalls).toBe(3);
    expect(stored()).toHaveLength(1);
    expect(rec.seq).toBe(0);
  });

  it('throws AuditWriteError after bounded retries, and the next append heals the chain', async () => {
    // Prepare
    const { sink, s3, stored } = setup();
    await sink.append(gateDraft());
    s3.failPuts = 3;
    // Act
    const failed = sink.append(gateDraft());
    // Assess
    await expect(failed).rejects.toBeInstanceOf(AuditWriteError);
    await expect(failed).rejects.toMatchObject({ operation: 'put-object', retryable: true });
    expect(stored()).toHaveLength(1);
    // Act: the next writer finds the committed head record missing in S3 and writes it
    const next = await sink.append(gateDraft());
    // Assess
    expect(next.seq).toBe(2);
    expect(stored()).toHaveLength(3);
    expect(verifyChains(stored()).ok).toBe(true);
  });

  it('records once when the head update was applied but its answer was lost (the retry finds its own record)', async () => {
    // Prepare
    const { sink, dynamo, stored } = setup();
    const first = await sink.append(gateDraft());
    dynamo.loseAnswers = 1;
    // Act: the update is applied, the sink sees an error and retries it
    const second = await sink.append(gateDraft());
    const third = await sink.append(gateDraft());
    // Assess: no second copy of the retried record; the chain goes on from it
    expect([first.seq, second.seq, third.seq]).toEqual([0, 1, 2]);
    expect(stored()).toHaveLength(3);
    expect(new Set(stored().map((s) => (s.record as { id: string }).id)).size).toBe(3);
    expect(verifyChains(stored()).ok).toBe(true);
  });

  it('records a batch once when its head update was applied but its answer was lost', async () => {
    // Prepare
    const { sink, dynamo, stored } = setup();
    dynamo.loseAnswers = 1;
    // Act
    const batch = await sink.appendMany([gateDraft(), gateDraft(), gateDraft()]);
    // Assess
    expect(batch.map((r) => r.seq)).toEqual([0, 1, 2]);
    expect(stored()).toHaveLength(3);
    expect(verifyChains(stored()).ok).toBe(true);
  });

  it('serialises concurrent writers on one stream without forks', async () => {
    // Prepare
    const s3 = new FakeS3();
    const dynamo = new FakeDynamo();
    const clock = new ManualClock(T0);
    // every round one writer wins, so 8 writers need up to 8 rounds
    const one = setup({ s3, dynamo, clock, maxHeadConflicts: 8, seed: 7 });
    const two = setup({ s3, dynamo, clock, maxHeadConflicts: 8, seed: 8 });
    // Act
    const records = await Promise.all(
      Array.from({ length: 8 }, (_, i) => (i % 2 ? one.sink : two.sink).append(gateDraft())),
    );
    // Assess
    expect(records.map((r) => r.seq).sort((x, y) => x - y)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(verifyChains(one.stored()).ok).toBe(true);
  });

  it('gives up with AuditWriteError when the head stays contended', async () => {
    // Prepare
    const { sink, dynamo } = setup();
    dynamo.alwaysConflict = true;
    // Act
    const act = sink.append(gateDraft());
    // Assess
    await expect(act).rejects.toMatchObject({ name: 'AuditWriteError', operation: 'advance-head' });
  });

  it('throws AuditWriteError when the head table keeps failing', async () => {
    // Prepare
    const { sink, dynamo, s3 } = setup();
    dynamo.failReads = 10;
    // Act
    const act = sink.append(gateDraft());
    // Assess
    await expect(act).rejects.toMatchObject({ name: 'AuditWriteError', operation: 'read-head' });
    expect(s3.objects.size).toBe(0);
  });
});

describe('MemoryAuditSink', () => {
  it('chains like the S3 sink and keeps rejected drafts aside', async () => {
    // Prepare
    const sink = new MemoryAuditSink(new ManualClock(T0), seededPrng(1));
    // Act
    await sink.append(gateDraft());
    await sink.append(gateDraft());
    const bad = sink.append({ ...gateDraft(), payload: 'nope' } as never);
    // Assess
    await expect(bad).rejects.toThrow(ValidationError);
    expect(sink.rejected).toHaveLength(1);
    const stored = await sink.readRecords({ environment: 'local' });
    expect(verifyChains(stored).ok).toBe(true);
    const heads = await sink.readHeads(['promotion:p-1', 'cohort:none']);
    expect(verifyChains(stored, { heads }).ok).toBe(true);
    expect([...heads.keys()]).toEqual(['promotion:p-1']);
  });
});
