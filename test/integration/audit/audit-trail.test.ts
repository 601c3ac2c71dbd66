/**
 * The audit trail on the real local stack: s3rver + DynamoDB Local (started by
 * local/servers.ts), records appended through S3AuditSink, verified and tampered with in the
 * bucket, queried with DuckDB through every named query, compacted to Parquet.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { CreateTableCommand, DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3AuditReader } from '../../../functions/adapters/audit/s3-audit-reader.js';
import { S3AuditSink } from '../../../functions/adapters/audit/s3-audit-sink.js';
import {
  queryStreamHeads,
  readStreamHead,
} from '../../../functions/adapters/audit/stream-heads.js';
import type { Runtime } from '../../../functions/composition/runtime.js';
import { auditObjectKey, manifestKey } from '../../../functions/core/audit/keys.js';
import type { AuditDayManifest } from '../../../functions/core/audit/manifest.js';
import { NAMED_QUERIES } from '../../../functions/core/audit/named-queries.js';
import type {
  AuditDraft,
  AuditDraftWithoutEnvironment,
  AuditEnvironment,
  AuditRecord,
} from '../../../functions/core/audit/record.js';
import { AuditWriteError, ValidationError } from '../../../functions/core/errors.js';
import { createHandler as verifyAuditDayHandler } from '../../../functions/handlers/verify-audit-day.js';
import { ManualClock } from '../../../functions/ports/clock.js';
import { localLambdaContext } from '../../../local/asl-runner.js';
import { compactAuditDay } from '../../../local/audit/compact.js';
import { queryAudit, verifyAudit } from '../../../local/audit/duckdb.js';
import type { LocalServers } from '../../../local/servers.js';
import {
  ensureTable,
  LOCAL_CREDENTIALS,
  LOCAL_REGION,
  startLocalServers,
} from '../../../local/servers.js';
import { fakeDocumentClient } from '../../support/doubles/document-client.js';

const BUCKET = 'stagegate-audit-test';
/** The day anchor of environment staging in the head table (day-anchors.ts). */
const ANCHOR_KEY = { pk: 'AUDIT_ANCHOR#staging', sk: 'LATEST' };
const TABLE = 'stagegate-test';
const DAY1 = Date.UTC(2024, 2, 4, 14, 30, 0);
const DAY2 = Date.UTC(2024, 2, 5, 9, 0, 0);

let servers: LocalServers;
let s3: S3Client;
let ddb: DynamoDBClient;
let dynamo: DynamoDBDocumentClient;
let cacheDir: string;
const records: AuditRecord[] = [];

function s3Client(endpoint: string, maxAttempts?: number): S3Client {
  return new S3Client({
    endpoint,
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
    forcePathStyle: true,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    ...(maxAttempts ? { maxAttempts } : {}),
  });
}

function sink(environment: AuditEnvironment, clock: ManualClock, client: S3Client = s3) {
  return new S3AuditSink({
    s3: client,
    dynamo,
    tableName: TABLE,
    bucket: BUCKET,
    environment,
    clock,
    retry: { maxAttempts: 3, baseDelayMs: 5 },
  });
}

async function getText(key: string): Promise<string> {
  const out = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
  return (await out.Body?.transformToString()) ?? '';
}

async function putText(key: string, body: string): Promise<void> {
  await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body }));
}

function draft(d: AuditDraftWithoutEnvironment): AuditDraft {
  return { environment: 'local', ...d };
}

const verifyLocal = () =>
  verifyAudit({
    s3Client: s3,
    bucket: BUCKET,
    environment: 'local',
    heads: { dynamo, tableName: TABLE },
  });
const query = (namedQuery: string, params?: Record<string, string>) =>
  queryAudit({ s3Client: s3, bucket: BUCKET, environment: 'local', cacheDir, namedQuery, params });

beforeAll(async () => {
  servers = await startLocalServers({ buckets: [BUCKET] });
  s3 = s3Client(servers.s3Endpoint);
  ddb = new DynamoDBClient({
    endpoint: servers.dynamoEndpoint,
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
  });
  dynamo = DynamoDBDocumentClient.from(ddb);
  await ensureTable(ddb, TABLE);
  cacheDir = await mkdtemp(path.join(os.tmpdir(), 'stagegate-audit-cache-'));

  // A day of a promotion: cohort scored, gates, approval, orders, kill switch; then day 2.
  const clock = new ManualClock(DAY1);
  const audit = sink('local', clock);
  const add = async (d: AuditDraftWithoutEnvironment) => {
    records.push(await audit.append(draft(d)));
    clock.advance(1_000);
  };
  const p1 = { cohort_id: 'c-1', promotion_id: 'p-1' };
  const e1 = { ...p1, execution_id: 'e-1' };
  await add({
    kind: 'cohort_scored',
    actor: 'stagegate/score-cohort',
    stream: 'cohort:c-1',
    subject: { cohort_id: 'c-1' },
    payload: { session_date: '2024-03-04', agent_count: 12, bankroll: 10_000 },
  });
  for (const [gate, verdict] of [
    ['max-drawdown', 'pass'],
    ['sharpe', 'fail'],
    ['var-95', 'pass'],
    ['baseline', 'not_judged'],
  ] as const) {
    await add({
      kind: 'gate_evaluated',
      actor: 'stagegate/evaluate-gates',
      stream: 'promotion:p-1',
      subject: p1,
      payload: { gate, verdict, observed: 1, threshold: 1.5, reason: `${gate} ${verdict}` },
    });
  }
  await add({
    kind: 'approval_requested',
    actor: 'stagegate/request-approval',
    stream: 'promotion:p-1',
    subject: p1,
    payload: { approval_id: 'a-1', review_id: 'p-1', expires_at: '2024-03-05T14:30:00.000Z' },
  });
  clock.advance(3_600_000);
  await add({
    kind: 'approval_decided',
    actor: 'slack:U123',
    stream: 'promotion:p-1',
    subject: p1,
    payload: { decision: 'approved', reason: 'looks fine' },
  });
  const order = (id: string, qty: number) =>
    add({
      kind: 'order_submitted',
      actor: 'stagegate/submit-order',
      stream: 'execution:e-1',
      subject: { ...e1, order_id: id },
      payload: { client_order_id: id, symbol: 'SPY', side: 'buy', qty },
    });
  const status = (id: string, s: string, filled: number) =>
    add({
      kind: 'order_status_changed',
      actor: 'stagegate/poll-order',
      stream: 'execution:e-1',
      subject: { ...e1, order_id: id },
      payload: { client_order_id: id, status: s, filled_qty: filled, filled_avg_price: 512.5 },
    });
  await order('o-1', 10);
  await status('o-1', 'partially_filled', 4);
  await status('o-1', 'filled', 10);
  await order('o-2', 5);
  await status('o-2', 'new', 0);
  await add({
    kind: 'kill_switch_changed',
    actor: 'slack:U777',
    stream: 'kill-switch:global',
    payload: { engaged: true, reason: 'drawdown alarm', scope: 'all' },
  });
  clock.set(DAY2);
  await add({
    kind: 'kill_switch_changed',
    actor: 'slack:U777',
    stream: 'kill-switch:global',
    payload: { engaged: false, reason: 'cleared', scope: 'all' },
  });
  await add({
    kind: 'gate_evaluated',
    actor: 'stagegate/evaluate-gates',
    stream: 'promotion:p-2',
    subject: { cohort_id: 'c-2', promotion_id: 'p-2' },
    payload: { gate: 'sharpe', verdict: 'fail', observed: 0.4, threshold: 1.5, reason: 'low' },
  });
  await add({
    kind: 'approval_decided',
    actor: 'slack:U123',
    stream: 'promotion:p-2',
    subject: { cohort_id: 'c-2', promotion_id: 'p-2' },
    payload: { decision: 'rejected', reason: 'too risky' },
  });
  await add({
    kind: 'approval_decided',
    actor: 'stagegate/approval-timeout',
    stream: 'promotion:p-3',
    subject: { promotion_id: 'p-3' },
    payload: { decision: 'expired' },
  });
  await add({
    kind: 'input_rejected',
    actor: 'stagegate/cli',
    stream: 'input:cli',
    payload: { source: 'cli', field: 'cohort.size', message: 'must be positive' },
  });
});

afterAll(async () => {
  s3?.destroy();
  ddb?.destroy();
  await servers?.stop();
  if (cacheDir) await rm(cacheDir, { recursive: true, force: true });
});

const byKind = (kind: string) => records.filter((r) => r.kind === kind);

describe('audit trail on the local stack', () => {
  it('stores one JSON-lines object per record under the contract keys', async () => {
    // Act
    const listed = await new S3AuditReader({ s3, bucket: BUCKET, pageSize: 4 }).list(
      'audit/env=local/',
    );
    // Assess
    expect(listed.map((o) => o.key).sort()).toEqual(records.map(auditObjectKey).sort());
    const first = records[0]!;
    expect(JSON.parse(await getText(auditObjectKey(first)))).toEqual(first);
  });

  it('verifies the untouched trail, heads included', async () => {
    // Act
    const result = await verifyLocal();
    // Assess
    expect(result.ok).toBe(true);
    expect(result.checked).toBe(records.length);
    expect(result.streams).toBe(7);
  });

  it('detects a changed field and names the object', async () => {
    // Prepare
    const victim = byKind('gate_evaluated')[1]!;
    const key = auditObjectKey(victim);
    const original = await getText(key);
    await putText(key, original.replace('stagegate/evaluate-gates', 'slack:U000'));
    // Act
    const result = await verifyLocal();
    await putText(key, original);
    const restored = await verifyLocal();
    // Assess
    expect(result.firstBreak).toMatchObject({
      key,
      stream: 'promotion:p-1',
      seq: victim.seq,
      id: victim.id,
      reason: 'hash-mismatch',
    });
    expect(restored.ok).toBe(true);
  });

  it('detects a deleted record and names the seq that is missing', async () => {
    // Prepare
    const victim = byKind('order_status_changed')[0]!;
    const key = auditObjectKey(victim);
    const original = await getText(key);
    await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: key }));
    // Act
    const result = await verifyLocal();
    await putText(key, original);
    // Assess
    expect(result.firstBreak).toMatchObject({
      stream: 'execution:e-1',
      seq: victim.seq + 1,
      reason: 'seq-gap',
    });
    expect(result.firstBreak?.detail).toContain(`seq ${victim.seq} `);
  });

  it('detects two swapped objects', async () => {
    // Prepare
    const [a, b] = [records[1]!, records[2]!];
    const [ka, kb] = [auditObjectKey(a), auditObjectKey(b)];
    const [ta, tb] = [await getText(ka), await getText(kb)];
    await putText(ka, tb);
    await putText(kb, ta);
    // Act
    const result = await verifyLocal();
    await putText(ka, ta);
    await putText(kb, tb);
    // Assess
    expect(result.ok).toBe(false);
    expect(result.firstBreak).toMatchObject({ stream: a.stream, reason: 'key-mismatch' });
    expect([ka, kb]).toContain(result.firstBreak?.key);
  });

  it('detects a deleted newest record through the stream head', async () => {
    // Prepare
    const victim = byKind('kill_switch_changed')[1]!;
    const key = auditObjectKey(victim);
    const original = await getText(key);
    await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: key }));
    // Act
    const result = await verifyLocal();
    await putText(key, original);
    // Assess
    expect(result.firstBreak).toMatchObject({
      stream: 'kill-switch:global',
      seq: 0,
      reason: 'head-mismatch',
    });
  });

  it('runs cohort-decisions', async () => {
    // Act
    const rows = await query('cohort-decisions', { cohort_id: 'c-1' });
    // Assess
    const expected = records.filter((r) => r.subject.cohort_id === 'c-1');
    expect(rows.map((r) => r.id)).toEqual(expected.map((r) => r.id));
    expect(rows[0]).toMatchObject({
      kind: 'cohort_scored',
      seq: 0,
      actor: 'stagegate/score-cohort',
    });
  });

  it('runs approvals-by-approver and approval-counts-by-approver', async () => {
    // Act
    const mine = await query('approvals-by-approver', { approver: 'slack:U123' });
    const counts = await query('approval-counts-by-approver');
    // Assess
    expect(mine.map((r) => [r.promotion_id, r.decision])).toEqual([
      ['p-1', 'approved'],
      ['p-2', 'rejected'],
    ]);
    expect(counts).toEqual([
      expect.objectContaining({ approver: 'slack:U123', decisions: 2, approved: 1, rejected: 1 }),
      expect.objectContaining({ approver: 'stagegate/approval-timeout', decisions: 1, expired: 1 }),
    ]);
  });

  it('runs gate-failure-rate-by-day', async () => {
    // Act
    const rows = await query('gate-failure-rate-by-day');
    // Assess
    // Assess: a gate not judged is counted apart, and out of the failure rate's denominator
    expect(
      rows.map((r) => [r.day, r.gate, r.evaluations, r.failures, r.not_judged, r.failure_rate]),
    ).toEqual([
      ['2024-03-04', 'baseline', 1, 0, 1, null],
      ['2024-03-04', 'max-drawdown', 1, 0, 0, 0],
      ['2024-03-04', 'sharpe', 1, 1, 0, 1],
      ['2024-03-04', 'var-95', 1, 0, 0, 0],
      ['2024-03-05', 'sharpe', 1, 1, 0, 1],
    ]);
  });

  it('runs orders-vs-fills', async () => {
    // Act
    const rows = await query('orders-vs-fills');
    // Assess
    expect(rows).toEqual([
      expect.objectContaining({
        client_order_id: 'o-1',
        symbol: 'SPY',
        side: 'buy',
        submissions: 1,
        submitted_qty: 10,
        filled_qty: 10,
        last_status: 'filled',
        unfilled_qty: 0,
      }),
      expect.objectContaining({
        client_order_id: 'o-2',
        submitted_qty: 5,
        filled_qty: 0,
        last_status: 'new',
        unfilled_qty: 5,
      }),
    ]);
  });

  it('runs kill-switch-history, newest first', async () => {
    // Act
    const rows = await query('kill-switch-history');
    // Assess
    expect(rows.map((r) => [r.engaged, r.reason, r.actor])).toEqual([
      [false, 'cleared', 'slack:U777'],
      [true, 'drawdown alarm', 'slack:U777'],
    ]);
  });

  it('runs rejected-inputs-by-day and stream-history', async () => {
    // Act
    const rejected = await query('rejected-inputs-by-day');
    const stream = await query('stream-history', { stream: 'execution:e-1' });
    // Assess
    expect(rejected).toEqual([{ day: '2024-03-05', source: 'cli', rejected: 1 }]);
    expect(stream.map((r) => r.seq)).toEqual([0, 1, 2, 3, 4]);
  });

  it('runs every named query without error', async () => {
    // Prepare
    const params: Record<string, string> = {
      cohort_id: 'c-1',
      approver: 'slack:U123',
      stream: 'cohort:c-1',
    };
    // Act
    const results = await Promise.all(
      NAMED_QUERIES.map((q) =>
        query(q.name, Object.fromEntries(q.params.map((p) => [p.name, params[p.name]!]))),
      ),
    );
    // Assess
    for (const rows of results) expect(rows.length).toBeGreaterThan(0);
  });

  it('compacts a day to zstd Parquet and queries give the same rows (no duplicates)', async () => {
    // Prepare
    const before = await query('cohort-decisions', { cohort_id: 'c-1' });
    // Act
    const compacted = await compactAuditDay({
      s3Client: s3,
      bucket: BUCKET,
      environment: 'local',
      date: '2024-03-04',
      cacheDir,
      heads: { dynamo, tableName: TABLE },
    });
    const after = await query('cohort-decisions', { cohort_id: 'c-1' });
    const fromParquet = await queryAudit({
      s3Client: s3,
      bucket: BUCKET,
      environment: 'local',
      cacheDir,
      sql: 'SELECT count(*) AS n FROM audit_parquet WHERE dt = ?',
      params: ['2024-03-04'],
    });
    const codec = await queryAudit({
      s3Client: s3,
      bucket: BUCKET,
      environment: 'local',
      cacheDir,
      sql: `SELECT DISTINCT compression FROM parquet_metadata('${cacheDir}/${BUCKET}/audit-parquet/env=local/dt=2024-03-04/part-0000.parquet')`,
    });
    // Assess
    expect(compacted).toMatchObject({
      key: 'audit-parquet/env=local/dt=2024-03-04/part-0000.parquet',
      records: records.filter((r) => r.ts.startsWith('2024-03-04')).length,
    });
    expect(after).toEqual(before);
    expect(fromParquet).toEqual([{ n: compacted.records }]);
    expect(codec).toEqual([{ compression: 'ZSTD' }]);
  });

  it('dead-letters an invalid draft and records nothing', async () => {
    // Prepare
    const audit = sink('local', new ManualClock(DAY2));
    // A draft the type system would refuse, as an untyped caller (the ASL audit step) sends it.
    const bad = {
      environment: 'local',
      kind: 'gate_evaluated',
      actor: 'stagegate/evaluate-gates',
      stream: 'promotion:p-9',
      payload: { gate: 'x', verdict: 'maybe' },
    } as unknown as AuditDraft;
    // Act
    const act = audit.append(bad);
    // Assess
    await expect(act).rejects.toBeInstanceOf(ValidationError);
    const dl = await s3.send(
      new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'audit-dead-letter/env=local/' }),
    );
    expect(dl.Contents?.map((o) => o.Key)).toEqual([
      expect.stringMatching(/^audit-dead-letter\/env=local\/dt=2024-03-05\/[0-9A-Z]{26}\.json$/),
    ]);
    expect((await verifyLocal()).checked).toBe(records.length);
  });
});

describe('audit completeness: streams, day edges, manifests and the anchor', () => {
  const verifyDay = (date: string) =>
    verifyAudit({
      s3Client: s3,
      bucket: BUCKET,
      environment: 'local',
      date,
      heads: { dynamo, tableName: TABLE },
    });
  const deleted = async (victims: readonly AuditRecord[], act: () => Promise<unknown>) => {
    const saved = await Promise.all(
      victims.map(async (r) => [auditObjectKey(r), await getText(auditObjectKey(r))] as const),
    );
    for (const [key] of saved) await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: key }));
    try {
      return await act();
    } finally {
      for (const [key, text] of saved) await putText(key, text);
    }
  };

  it('the compaction of 2024-03-04 anchored that day; both days verify', async () => {
    // Assess (the compaction test above anchored the day)
    expect((await verifyDay('2024-03-04')).ok).toBe(true);
    expect((await verifyDay('2024-03-05')).ok).toBe(true);
    expect((await verifyLocal()).ok).toBe(true);
  });

  it('detects a whole stream whose objects were all deleted (its head item stays)', async () => {
    // Prepare
    const victims = records.filter((r) => r.stream === 'promotion:p-2');
    // Act
    const result = (await deleted(victims, verifyLocal)) as Awaited<ReturnType<typeof verifyLocal>>;
    // Assess
    expect(result.ok).toBe(false);
    expect(result.breaks).toContainEqual(
      expect.objectContaining({ stream: 'promotion:p-2', reason: 'head-mismatch' }),
    );
  });

  it('verify --date detects a deleted first record of the day (the stream must start at seq 0)', async () => {
    // Prepare
    const first = records.find((r) => r.stream === 'promotion:p-2' && r.seq === 0)!;
    // Act
    const result = (await deleted([first], () => verifyDay('2024-03-05'))) as Awaited<
      ReturnType<typeof verifyDay>
    >;
    // Assess
    expect(result.firstBreak).toMatchObject({
      stream: 'promotion:p-2',
      seq: 1,
      reason: 'day-edge',
    });
  });

  it('verify --date detects a deleted last record of an anchored day (the manifest names it)', async () => {
    // Prepare
    const inDay = records.filter((r) => r.stream === 'promotion:p-1');
    const last = inDay[inDay.length - 1]!;
    // Act
    const result = (await deleted([last], () => verifyDay('2024-03-04'))) as Awaited<
      ReturnType<typeof verifyDay>
    >;
    // Assess
    expect(result.firstBreak).toMatchObject({ stream: 'promotion:p-1', reason: 'day-edge' });
    expect(result.firstBreak?.detail).toContain(`seq ${last.seq}`);
  });

  it('verify --date detects the deleted newest record of a day not yet anchored (through its head)', async () => {
    // Prepare
    const newest = records.find((r) => r.stream === 'input:cli')!;
    // Act
    const result = (await deleted([newest], () => verifyDay('2024-03-05'))) as Awaited<
      ReturnType<typeof verifyDay>
    >;
    // Assess
    expect(result.firstBreak).toMatchObject({ stream: 'input:cli', reason: 'head-mismatch' });
  });

  it('reads the stream heads through the audit-heads index, never by a table Scan', async () => {
    // Prepare: a client that records what verify sends to the table
    const sent: { name: string; index?: string }[] = [];
    const recording = fakeDocumentClient(
      async (cmd: { constructor: { name: string }; input: { IndexName?: string } }) => {
        sent.push({ name: cmd.constructor.name, index: cmd.input.IndexName });
        return dynamo.send(cmd as never);
      },
    );
    const verifyWith = (date?: string) =>
      verifyAudit({
        s3Client: s3,
        bucket: BUCKET,
        environment: 'local',
        ...(date ? { date } : {}),
        heads: { dynamo: recording, tableName: TABLE },
      });

    // Act
    const whole = await verifyWith();
    const day = await verifyWith('2024-03-05');

    // Assess
    expect(whole.ok).toBe(true);
    expect(day.ok).toBe(true);
    expect(sent.map((s) => s.name)).not.toContain('ScanCommand');
    const queries = sent.filter((s) => s.name === 'QueryCommand');
    expect(queries.length).toBeGreaterThanOrEqual(2 * 8); // every shard, both runs
    expect(new Set(queries.map((q) => q.index))).toEqual(new Set(['audit-heads']));
  });

  it('the index gives a day check only the heads written that day or later', async () => {
    // Prepare: the heads as the sink left them (strongly consistent reads)
    const streams = [...new Set(records.map((r) => r.stream))];
    const byKey = await Promise.all(
      streams.map(async (stream) => [stream, await readStreamHead(dynamo, TABLE, stream)] as const),
    );
    const newestTs = new Map(
      streams.map((stream) => [stream, records.filter((r) => r.stream === stream).pop()!.ts]),
    );

    // Act
    const all = await queryStreamHeads(dynamo, TABLE, 'local');
    const since = await queryStreamHeads(dynamo, TABLE, 'local', '2024-03-05');
    const otherEnv = await queryStreamHeads(dynamo, TABLE, 'prod');

    // Assess: every local head, as stored; the 2024-03-04-only streams are left out of the
    // day check's listing; other environments' heads never mix in.
    expect([...all.keys()].sort()).toEqual([...streams].sort());
    for (const [stream, head] of byKey) {
      expect(all.get(stream)).toEqual({
        seq: head!.seq,
        hash: head!.hash,
        ts: newestTs.get(stream),
      });
    }
    const wantSince = streams.filter((s) => (newestTs.get(s) ?? '') >= '2024-03-05').sort();
    expect(wantSince.length).toBeGreaterThan(0);
    expect(wantSince.length).toBeLessThan(streams.length);
    expect([...since.keys()].sort()).toEqual(wantSince);
    expect(otherEnv.size).toBe(0);
  });

  it('ensureTable adds the index to an older table and indexes its heads once', async () => {
    // Prepare: a table as older state folders have it (gsi1 only) with one head item
    const legacy = 'stagegate-legacy';
    await ddb.send(
      new CreateTableCommand({
        TableName: legacy,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [
          { AttributeName: 'pk', AttributeType: 'S' },
          { AttributeName: 'sk', AttributeType: 'S' },
        ],
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
      }),
    );
    const head = records.find((r) => r.stream === 'cohort:c-1')!;
    await dynamo.send(
      new PutCommand({
        TableName: legacy,
        Item: {
          pk: 'AUDIT_STREAM#cohort:c-1',
          sk: 'HEAD',
          seq: head.seq,
          hash: head.hash,
          record: JSON.stringify(head),
          object_key: auditObjectKey(head),
          updated_at: head.ts,
        },
      }),
    );

    // Act
    await ensureTable(ddb, legacy);
    await ensureTable(ddb, legacy); // a second start: nothing left to do
    const listed = await queryStreamHeads(dynamo, legacy, 'local');
    const described = await ddb.send(new DescribeTableCommand({ TableName: legacy }));

    // Assess
    expect(described.Table?.GlobalSecondaryIndexes?.map((i) => i.IndexName)).toEqual([
      'audit-heads',
    ]);
    expect(listed).toEqual(
      new Map([['cohort:c-1', { seq: head.seq, hash: head.hash, ts: head.ts }]]),
    );
  });

  it('detects a deleted newest day manifest through the anchor kept in the head table', async () => {
    // Prepare
    const key = manifestKey('local', '2024-03-04');
    const original = await getText(key);
    await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: key }));
    // Act
    const whole = await verifyLocal();
    const day = await verifyDay('2024-03-05');
    await putText(key, original);
    // Assess
    expect(whole.breaks).toContainEqual(expect.objectContaining({ reason: 'anchor-mismatch' }));
    expect(day.ok).toBe(false);
  });
});

describe('audit writes under faults (environment dev)', () => {
  const gate = (n: number): AuditDraft => ({
    kind: 'gate_evaluated',
    actor: 'stagegate/evaluate-gates',
    stream: 'promotion:p-faults',
    environment: 'dev',
    subject: { promotion_id: 'p-faults' },
    payload: { gate: `g${n}`, verdict: 'pass', observed: n, threshold: 10, reason: 'ok' },
  });
  const verifyDev = () =>
    verifyAudit({
      s3Client: s3,
      bucket: BUCKET,
      environment: 'dev',
      heads: { dynamo, tableName: TABLE },
    });

  it('throws AuditWriteError when S3 is down', async () => {
    // Prepare
    const clock = new ManualClock(DAY1);
    const deadS3 = s3Client('http://127.0.0.1:1', 1);
    // Act
    const failed = sink('dev', clock, deadS3).append({ ...gate(0), stream: 'promotion:p-down' });
    // Assess
    await expect(failed).rejects.toBeInstanceOf(AuditWriteError);
    await expect(failed).rejects.toMatchObject({ operation: 'put-object', retryable: true });
    deadS3.destroy();
    // The head committed the record (write-ahead) but no object exists: the stream is
    // reported as missing until the next writer on the stream materialises it.
    expect((await verifyDev()).breaks).toContainEqual(
      expect.objectContaining({ stream: 'promotion:p-down', reason: 'head-mismatch' }),
    );
    await sink('dev', clock).append({ ...gate(1), stream: 'promotion:p-down' });
    expect((await verifyDev()).breaks.filter((b) => b.stream === 'promotion:p-down')).toEqual([]);
  });

  it('a crash between head and object: the next append writes the committed record', async () => {
    // Prepare: an S3 client whose PutObject always fails (HEAD/GET still work)
    const clock = new ManualClock(DAY1);
    const flaky = s3Client(servers.s3Endpoint);
    flaky.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'PutObjectCommand') throw new Error('injected: S3 put lost');
        return next(args);
      },
      { step: 'initialize', name: 'injectPutFailure' },
    );
    await sink('dev', clock).append(gate(0));
    // Act
    const failed = sink('dev', clock, flaky).append(gate(1));
    await expect(failed).rejects.toMatchObject({
      name: 'AuditWriteError',
      operation: 'put-object',
    });
    const pending = await verifyDev();
    const next = await sink('dev', clock).append(gate(2));
    const healed = await verifyDev();
    flaky.destroy();
    // Assess
    expect(pending.firstBreak).toMatchObject({ reason: 'head-mismatch', seq: 0 });
    expect(next.seq).toBe(2);
    // 3 records of this stream, plus the 2 of promotion:p-down (the S3-down test)
    expect(healed).toMatchObject({ ok: true, checked: 3 + 2 });
  });

  it('serialises concurrent writers on one stream (no forks, no gaps)', async () => {
    // Prepare
    const clock = new ManualClock(DAY2);
    const writers = [sink('dev', clock), sink('dev', clock)];
    // Act
    const appended = await Promise.all(
      Array.from({ length: 6 }, (_, i) => writers[i % 2]!.append(gate(10 + i))),
    );
    const result = await verifyDev();
    // Assess
    expect(appended.map((r) => r.seq).sort((x, y) => x - y)).toEqual([3, 4, 5, 6, 7, 8]);
    expect(result).toMatchObject({ ok: true, checked: 9 + 2 }); // + promotion:p-down's 2
  });
});

describe('the AWS daily compaction anchors days like the local compaction (environment staging)', () => {
  const DAY3 = Date.UTC(2024, 2, 6, 9, 0, 0);
  const staged: AuditRecord[] = [];
  const cohortDraft = (n: number): AuditDraft => ({
    kind: 'gate_evaluated',
    actor: 'stagegate/evaluate-gates',
    stream: 'promotion:s-1',
    environment: 'staging',
    subject: { promotion_id: 's-1' },
    payload: { gate: `g${n}`, verdict: 'pass', observed: n, threshold: 10, reason: 'ok' },
  });
  // The verify-audit-day Lambda handler (the state machine's VerifyAuditDay step) over the
  // local emulators: the same adapters the AWS composition builds.
  const awsStep = () =>
    verifyAuditDayHandler(
      async () =>
        ({
          env: {
            STAGE: 'staging',
            AUDIT_BUCKET: BUCKET,
            TABLE_NAME: TABLE,
            ARTIFACTS_BUCKET: BUCKET,
            S3_ENDPOINT: servers.s3Endpoint,
            DYNAMODB_ENDPOINT: servers.dynamoEndpoint,
            AWS_REGION: LOCAL_REGION,
          },
          credentials: LOCAL_CREDENTIALS,
        }) as unknown as Runtime,
    );
  const runStep = (request: Record<string, string>) =>
    awsStep()(
      { request, execution: { id: 'arn:local:execution:x', name: 'x' } },
      localLambdaContext('VerifyAuditDay', 60_000),
    ) as Promise<{ date: string; records: number; manifestKey: string | null }>;
  const verifyStaging = (date?: string) =>
    verifyAudit({
      s3Client: s3,
      bucket: BUCKET,
      environment: 'staging',
      ...(date ? { date } : {}),
      heads: { dynamo, tableName: TABLE },
    });
  const manifest = async (date: string) =>
    JSON.parse(await getText(manifestKey('staging', date))) as AuditDayManifest;

  beforeAll(async () => {
    const clock = new ManualClock(DAY1);
    for (let n = 0; n < 3; n += 1) {
      staged.push(await sink('staging', clock).append(cohortDraft(n)));
      clock.advance(60_000);
    }
    clock.set(DAY2);
    staged.push(await sink('staging', clock).append(cohortDraft(3)));
    clock.set(DAY3);
    staged.push(await sink('staging', clock).append(cohortDraft(4)));
  });

  it('refuses to anchor a day whose last record was deleted (AuditChainBrokenError)', async () => {
    // Prepare
    const lastOfDay1 = staged[2]!;
    const key = auditObjectKey(lastOfDay1);
    const text = await getText(key);
    await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: key }));
    // Act
    const outcome = runStep({ date: '2024-03-04' }).catch((e: Error) => e);
    const error = await outcome;
    await putText(key, text);
    // Assess
    expect(error).toMatchObject({ name: 'AuditChainBrokenError' });
    expect(
      (await dynamo.send(new GetCommand({ TableName: TABLE, Key: ANCHOR_KEY }))).Item,
    ).toBeUndefined();
  });

  it('writes the hash-chained day manifests and moves the anchor, in turn with the local compaction', async () => {
    // Act: AWS step for 2024-03-04 (scheduled at 00:15 the day after), local compaction for
    // 2024-03-05, the AWS step again for 2024-03-04 (anchored already: nothing written).
    const aws = await runStep({ source: 'schedule', scheduledTime: '2024-03-05T00:15:00Z' });
    const local = await compactAuditDay({
      s3Client: s3,
      bucket: BUCKET,
      environment: 'staging',
      date: '2024-03-05',
      cacheDir,
      heads: { dynamo, tableName: TABLE },
    });
    const again = await runStep({ date: '2024-03-04' });
    const day1 = await manifest('2024-03-04');
    const day2 = await manifest('2024-03-05');
    const anchor = await dynamo.send(new GetCommand({ TableName: TABLE, Key: ANCHOR_KEY }));
    // Assess
    expect(aws).toMatchObject({
      date: '2024-03-04',
      records: 3,
      manifestKey: manifestKey('staging', '2024-03-04'),
    });
    expect(local.manifestKey).toBe(manifestKey('staging', '2024-03-05'));
    expect(again.manifestKey).toBeNull();
    expect(day1.streams).toEqual([
      {
        stream: 'promotion:s-1',
        first_seq: 0,
        first_prev_hash: '0'.repeat(64),
        last_seq: 2,
        last_hash: staged[2]!.hash,
        records: 3,
      },
    ]);
    expect(day2).toMatchObject({ prev_date: '2024-03-04', prev_hash: day1.hash });
    expect(anchor.Item).toMatchObject({ date: '2024-03-05', hash: day2.hash });
    expect((await verifyStaging()).ok).toBe(true);
    expect((await verifyStaging('2024-03-04')).ok).toBe(true);
  });

  it('after anchoring, the AWS step detects a deleted last record of an anchored day', async () => {
    // Prepare
    const lastOfDay1 = staged[2]!;
    const key = auditObjectKey(lastOfDay1);
    const text = await getText(key);
    await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: key }));
    // Act
    const error = await runStep({ date: '2024-03-04' }).catch((e: Error) => e);
    await putText(key, text);
    // Assess
    expect(error).toMatchObject({ name: 'AuditChainBrokenError' });
    expect(String((error as Error).message)).toContain('promotion:s-1');
  });
});
