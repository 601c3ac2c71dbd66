/**
 * Idempotent `record-audit` (a Step Functions Retry must not append a record twice), on the
 * local stack: DynamoDB Local + s3rver, the real record-audit handler and S3AuditSink, and the
 * real audit Task states of the shipped ASL files run by the local interpreter. The first
 * attempt commits its record and then fails (its answer lost), the Retry re-sends the same
 * input: the stream holds one record, and the execution's output is that record's receipt.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { type DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Context } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3AuditSink } from '../../../functions/adapters/audit/s3-audit-sink.js';
import {
  idempotencyKeySk,
  readStreamHead,
  STREAM_HEAD_SK,
  streamHeadPk,
} from '../../../functions/adapters/audit/stream-heads.js';
import type { StoreRuntime } from '../../../functions/composition/stores.js';
import { AUDIT_IDEMPOTENCY_TTL_DAYS } from '../../../functions/core/audit/idempotency.js';
import type { AuditDraft } from '../../../functions/core/audit/record.js';
import { AuditWriteError } from '../../../functions/core/errors.js';
import { createHandler } from '../../../functions/handlers/record-audit.js';
import { ManualClock } from '../../../functions/ports/clock.js';
import { LocalStateMachine, localFunctionArn } from '../../../local/asl-runner.js';
import { verifyAudit } from '../../../local/audit/duckdb.js';
import { type LocalServers, startLocalServers } from '../../../local/servers.js';
import {
  localDynamoTable,
  localS3Client,
  withFailingPuts,
} from '../../support/local-audit-store.js';
import { REPO_ROOT } from '../../support/paths.js';

const BUCKET = 'stagegate-audit-idem';
const TABLE = 'stagegate-idem';
let servers: LocalServers;
let dynamo: DynamoDBDocumentClient;
let s3: S3Client;

const newSink = () =>
  new S3AuditSink({
    s3,
    dynamo,
    tableName: TABLE,
    bucket: BUCKET,
    environment: 'local',
    clock: new ManualClock(Date.UTC(2024, 2, 4, 15, 0, 0)),
    retry: { maxAttempts: 2, baseDelayMs: 1 },
  });

/** The audit Task state `name` of `statemachines/<file>`, alone, bound to `RecordAudit`. */
function auditStateMachine(file: string, name: string, opts: { withoutStep?: boolean } = {}) {
  const asl = JSON.parse(readFileSync(path.join(REPO_ROOT, 'statemachines', file), 'utf8')) as {
    States: Record<string, Record<string, unknown>>;
  };
  const state = structuredClone(asl.States[name]) as Record<string, unknown>;
  expect(state.Resource).toContain('RecordAuditFunctionArn');
  state.Resource = localFunctionArn('RecordAudit');
  delete state.Catch;
  delete state.Next;
  state.End = true;
  if (opts.withoutStep) delete (state.Parameters as Record<string, unknown>).step;
  return { StartAt: name, States: { [name]: state } };
}

/**
 * The real handler over a fresh sink (a cold Lambda per attempt); its first `failures`
 * attempts commit and then throw AuditWriteError, as when the answer is lost after the head
 * moved. Counts attempts.
 */
function flakyRecordAudit(failures: number) {
  const runtime = { env: { STAGE: 'local' }, audit: newSink() } as unknown as StoreRuntime;
  let attempts = 0;
  const fn = {
    placeholder: 'RecordAuditFunctionArn',
    name: 'RecordAudit',
    handler: async (event: unknown, context: Context) => {
      attempts += 1;
      const out = await createHandler(() => ({ ...runtime, audit: newSink() }))(event, context);
      if (attempts <= failures) {
        throw new AuditWriteError('put-object', 'injected', 'answer lost after the commit');
      }
      return out;
    },
  };
  return { fn, attempts: () => attempts };
}

const headSeq = async (stream: string) =>
  (await readStreamHead(dynamo, TABLE, stream))?.seq ?? null;

beforeAll(async () => {
  servers = await startLocalServers({ buckets: [BUCKET] });
  dynamo = await localDynamoTable(servers, TABLE);
  s3 = localS3Client(servers);
});

afterAll(async () => {
  await servers?.stop();
});

const cases = [
  {
    what: 'a draft step (promotion-pipeline RecordSkipped)',
    file: 'promotion-pipeline.asl.json',
    state: 'RecordSkipped',
    input: { staged: { reason: 'outside the promotion window' } },
  },
  {
    what: 'a Catch step (paper-session RecordFailure)',
    file: 'paper-session.asl.json',
    state: 'RecordFailure',
    input: {
      error: { Error: 'States.Timeout', Cause: 'tick timed out' },
      promotion: { promotion_id: 'p-1', session_date: '2024-03-04' },
    },
  },
] as const;

describe('record-audit retried by Step Functions on the local stack', () => {
  it.each(cases)('$what appends once when its first attempt committed', async (c) => {
    // Prepare
    const flaky = flakyRecordAudit(1);
    const machine = LocalStateMachine.fromDefinition(
      `idem-${c.state}`,
      auditStateMachine(c.file, c.state),
      [flaky.fn],
      { retryIntervalMs: 1 },
    );
    // Act
    const result = await machine.execute(structuredClone(c.input), {
      executionName: `idem-${c.state}`,
    });
    // Assess: two attempts, one record (seq 0) whose receipt is the step's output
    expect(result.status).toBe('SUCCEEDED');
    expect(flaky.attempts()).toBe(2);
    const stream = `execution:idem-${c.state}`;
    expect(await headSeq(stream)).toBe(0);
    const receipt = Object.values(result.output as Record<string, { seq: number }>).find(
      (v) => typeof v === 'object' && v !== null && 'seq' in v,
    );
    expect(receipt).toMatchObject({ stream, seq: 0 });
  });

  it('without the step key the same retry appends a second record (why the key exists)', async () => {
    // Prepare
    const flaky = flakyRecordAudit(1);
    const machine = LocalStateMachine.fromDefinition(
      'idem-nostep',
      auditStateMachine('promotion-pipeline.asl.json', 'RecordSkipped', { withoutStep: true }),
      [flaky.fn],
      { retryIntervalMs: 1 },
    );
    // Act
    const result = await machine.execute(
      { staged: { reason: 'outside the promotion window' } },
      { executionName: 'idem-nostep' },
    );
    // Assess
    expect(result.status).toBe('SUCCEEDED');
    expect(await headSeq('execution:idem-nostep')).toBe(1);
  });

  it('two executions with the same content each append their own record', async () => {
    // Prepare
    const input = { staged: { reason: 'same reason' } };
    const def = auditStateMachine('promotion-pipeline.asl.json', 'RecordSkipped');
    const flaky = flakyRecordAudit(0);
    const machine = LocalStateMachine.fromDefinition('idem-two', def, [flaky.fn]);
    // Act
    await machine.execute(input, { executionName: 'idem-two-a' });
    await machine.execute(input, { executionName: 'idem-two-b' });
    // Assess
    expect(await headSeq('execution:idem-two-a')).toBe(0);
    expect(await headSeq('execution:idem-two-b')).toBe(0);
  });
});

describe('S3AuditSink.appendOnce', () => {
  const draft = (stream: string, reason: string): AuditDraft => ({
    kind: 'schedule_skipped',
    actor: 'stagegate/promotion-pipeline',
    stream,
    environment: 'local',
    payload: { schedule: 'promotion', reason },
  });

  it('concurrent attempts with one key commit one record; the others get its receipt', async () => {
    // Act: six cold writers race on one new stream with the same key
    const receipts = await Promise.all(
      Array.from({ length: 6 }, () => newSink().appendOnce(draft('execution:race', 'r'), 'k1')),
    );
    // Assess
    expect(await headSeq('execution:race')).toBe(0);
    expect(new Set(receipts.map((r) => r.id)).size).toBe(1);
    expect(receipts.filter((r) => !r.replayed)).toHaveLength(1);
  });

  it('a retry after the object write failed finishes that record instead of adding one', async () => {
    // Prepare: the head moves, every S3 put fails
    const broken = withFailingPuts(localS3Client(servers));
    const first = new S3AuditSink({
      s3: broken,
      dynamo,
      tableName: TABLE,
      bucket: BUCKET,
      environment: 'local',
      clock: new ManualClock(Date.UTC(2024, 2, 4, 15, 0, 0)),
      retry: { maxAttempts: 1, baseDelayMs: 1 },
    });
    await expect(first.appendOnce(draft('execution:put-lost', 'x'), 'k')).rejects.toMatchObject({
      name: 'AuditWriteError',
    });
    // Act
    const retry = await newSink().appendOnce(draft('execution:put-lost', 'x'), 'k');
    // Assess: the committed record is the answer, its object is now stored, the chain verifies
    expect(retry).toMatchObject({ seq: 0, replayed: true });
    expect(await headSeq('execution:put-lost')).toBe(0);
    const report = await verifyAudit({
      s3Client: s3,
      bucket: BUCKET,
      environment: 'local',
      heads: { dynamo, tableName: TABLE },
    });
    expect(report.ok).toBe(true);
  });

  it('remembers a key however many keyed appends the stream took since (20 others, then the redelivery)', async () => {
    // Prepare: k0 committed, then a plain append and 20 other keyed appends by cold sinks
    const stream = 'execution:many-keys';
    const first = await newSink().appendManyOnce([draft(stream, 'k0')], 'k0');
    await newSink().append(draft(stream, 'plain'));
    for (let i = 1; i <= 20; i += 1) {
      await newSink().appendOnce(draft(stream, `k${i}`), `k${i}`);
    }
    // Act: the redelivery of k0 (batch and single form) in cold sinks, and a new key (control)
    const again = await newSink().appendManyOnce([draft(stream, 'k0')], 'k0');
    const single = await newSink().appendOnce(draft(stream, 'k0'), 'k0');
    const fresh = await newSink().appendOnce(draft(stream, 'k21'), 'k21');
    // Assess: k0 replays its seq-0 record; only the new key appended
    expect(again).toEqual({ records: first.records, replayed: true });
    expect(single).toMatchObject({ id: first.records[0]?.id, seq: 0, replayed: true });
    expect(fresh).toMatchObject({ seq: 22, replayed: false });
    expect(await headSeq(stream)).toBe(22);
  });

  it("a key's item expires (DynamoDB TTL) AUDIT_IDEMPOTENCY_TTL_DAYS after its record", async () => {
    // Act
    const out = await newSink().appendOnce(draft('execution:ttl', 't'), 'kt');
    // Assess: the item beside the head, keyed by the key's hash, with its expiry
    const item = (
      await dynamo.send(
        new GetCommand({
          TableName: TABLE,
          Key: { pk: streamHeadPk('execution:ttl'), sk: idempotencyKeySk('kt') },
        }),
      )
    ).Item;
    expect(item).toMatchObject({ key: 'kt', id: out.id, seq: 0, count: 1 });
    const recordMs = Date.UTC(2024, 2, 4, 15, 0, 0);
    expect(item?.expiresAt).toBe(recordMs / 1000 + AUDIT_IDEMPOTENCY_TTL_DAYS * 86_400);
  });

  it('a key committed in the head item by an older release still replays', async () => {
    // Prepare: a head written the old way, with its key list
    const stream = 'execution:legacy-keys';
    const first = await newSink().append(draft(stream, 'old'));
    await dynamo.send(
      new UpdateCommand({
        TableName: TABLE,
        Key: { pk: streamHeadPk(stream), sk: STREAM_HEAD_SK },
        UpdateExpression: 'SET idempotency = :l',
        ExpressionAttributeValues: {
          ':l': [{ key: 'old', id: first.id, seq: 0, hash: first.hash }],
        },
      }),
    );
    // Act
    const again = await newSink().appendOnce(draft(stream, 'old'), 'old');
    // Assess
    expect(again).toMatchObject({ id: first.id, seq: 0, replayed: true });
    expect(await headSeq(stream)).toBe(0);
  });

  it('sends the transaction first: the key is read only when DynamoDB cancels it on the key', async () => {
    // Prepare: sinks whose document client tells which items it reads (head or key) and
    // which commands it sends
    const sent: string[] = [];
    const client = await localDynamoTable(servers, TABLE);
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const sk = (args.input as { Key?: { sk?: unknown } }).Key?.sk;
        const item = typeof sk === 'string' && sk.startsWith('IDEMPOTENCY#') ? ' key' : '';
        sent.push(`${context.commandName}${sk === undefined ? '' : item || ' head'}`);
        return next(args);
      },
      { step: 'initialize', name: 'testRequestLog' },
    );
    const sink = () =>
      new S3AuditSink({
        s3,
        dynamo: client,
        tableName: TABLE,
        bucket: BUCKET,
        environment: 'local',
        clock: new ManualClock(Date.UTC(2024, 2, 4, 15, 0, 0)),
      });
    const stream = 'execution:transaction-first';
    const stale = sink();
    const first = await stale.appendOnce(draft(stream, 'a'), 'ka');
    const takes = (act: () => Promise<unknown>) => async () => {
      sent.length = 0;
      const out = await act();
      return { out, sent: [...sent] };
    };
    // Act: a new key (the head read, then the transaction), a redelivery of the first key by a
    // cold sink, and a new key by a sink whose cached head another writer moved meanwhile
    const fresh = await takes(() => sink().appendOnce(draft(stream, 'b'), 'kb'))();
    const again = await takes(() => sink().appendOnce(draft(stream, 'a'), 'ka'))();
    const moved = await takes(() => stale.appendOnce(draft(stream, 'c'), 'kc'))();
    // Assess
    expect(fresh.sent).toEqual(['GetItemCommand head', 'TransactWriteItemsCommand']);
    expect(again.out).toMatchObject({ id: first.id, seq: 0, replayed: true });
    expect(again.sent).toEqual([
      'GetItemCommand head',
      'TransactWriteItemsCommand',
      'GetItemCommand key',
      'GetItemCommand head',
    ]);
    // A conflict on the head alone is retried as before, without reading the key.
    expect(moved.out).toMatchObject({ seq: 2, replayed: false });
    expect(moved.sent).toEqual([
      'TransactWriteItemsCommand',
      'GetItemCommand head',
      'GetItemCommand head',
      'TransactWriteItemsCommand',
    ]);
    expect(await headSeq(stream)).toBe(2);
  });

  it('appendManyOnce gives a retry the committed batch back, read from the bucket by a cold sink', async () => {
    // Prepare: a batch of three committed under one key, then a plain append moves the head
    const stream = 'execution:batch-replay';
    const batch = [draft(stream, 'b0'), draft(stream, 'b1'), draft(stream, 'b2')];
    const first = await newSink().appendManyOnce(batch, 'kb');
    await newSink().append(draft(stream, 'after'));
    // Act: a retry in another (cold) sink, and one with another key
    const retry = await newSink().appendManyOnce(batch, 'kb');
    const other = await newSink().appendManyOnce([draft(stream, 'b0')], 'kc');
    // Assess: the same three records (ids, hashes, payloads), nothing appended by the retry
    expect(first.replayed).toBe(false);
    expect(retry.replayed).toBe(true);
    expect(retry.records).toEqual(first.records);
    expect(other).toMatchObject({ replayed: false, records: [{ seq: 4 }] });
    expect(await headSeq(stream)).toBe(4);
  });
});
