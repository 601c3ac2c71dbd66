/**
 * `stagegate audit index-heads` (bin/stagegate.ts) against DynamoDB Local standing in for a
 * deployed stage's table: stream heads written before the `audit-heads` index existed are
 * counted by a dry run (nothing written), indexed with --apply (then listed by the index
 * query the daily check uses), and a second --apply finds none; usage errors exit 2.
 */
import path from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  queryStreamHeads,
  STREAM_HEAD_SK,
  streamHeadPk,
} from '../../../functions/adapters/audit/stream-heads.js';
import { AUDIT_HEADS_PK } from '../../../functions/core/audit/keys.js';
import {
  ensureTable,
  LOCAL_CREDENTIALS,
  LOCAL_REGION,
  type LocalServers,
  startLocalServers,
} from '../../../local/servers.js';
import { runCli } from '../../support/cli.js';
import { REPO_ROOT } from '../../support/paths.js';

const TABLE = 'stagegate-legacy-heads';
let servers: LocalServers;
let dynamo: DynamoDBDocumentClient;

/** Runs the CLI with the local credentials (DynamoDB Local accepts any). */
async function cli(args: readonly string[]): Promise<{ code: number; out: string; err: string }> {
  const r = await runCli(args, {
    timeoutMs: 180_000,
    env: {
      AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
      AWS_REGION: LOCAL_REGION,
      STAGEGATE_STATE_DIR: path.join(REPO_ROOT, '.local/never-created'),
    },
  });
  return { code: r.code, out: r.stdout, err: r.stderr };
}

/** A head item as written before the index existed (no index keys). */
const putLegacyHead = (stream: string, environment: string, ts: string) =>
  dynamo.send(
    new PutCommand({
      TableName: TABLE,
      Item: {
        pk: streamHeadPk(stream),
        sk: STREAM_HEAD_SK,
        seq: 3,
        hash: 'a'.repeat(64),
        record: JSON.stringify({ environment, stream, seq: 3, ts }),
        object_key: `audit/env=${environment}/x.json`,
        updated_at: ts,
      },
    }),
  );

const hasIndexKeys = async (stream: string) => {
  const out = await dynamo.send(
    new GetCommand({ TableName: TABLE, Key: { pk: streamHeadPk(stream), sk: STREAM_HEAD_SK } }),
  );
  return out.Item?.[AUDIT_HEADS_PK] !== undefined;
};

beforeAll(async () => {
  servers = await startLocalServers({ buckets: [] });
  const ddb = new DynamoDBClient({
    endpoint: servers.dynamoEndpoint,
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
  });
  dynamo = DynamoDBDocumentClient.from(ddb);
  await ensureTable(ddb, TABLE);
  await putLegacyHead('execution:old-1', 'dev', '2024-03-01T15:00:00.000Z');
  await putLegacyHead('cohort:old-2', 'dev', '2024-03-02T15:00:00.000Z');
  // Not a head record the migration can read: left alone, counted as unreadable.
  await dynamo.send(
    new PutCommand({
      TableName: TABLE,
      Item: { pk: streamHeadPk('execution:odd'), sk: STREAM_HEAD_SK, seq: 0, hash: 'b' },
    }),
  );
});

afterAll(async () => {
  await servers?.stop();
});

// Each CLI start is a fresh Node + tsx process: seconds alone, tens of seconds on a loaded
// 2-core machine; the bound is generous (the first case starts three).
describe('stagegate audit index-heads', { timeout: 600_000 }, () => {
  const target = () => ['--stage', 'dev', '--table', TABLE, '--endpoint', servers.dynamoEndpoint];

  it('counts the legacy heads in a dry run, indexes them with --apply, then finds none', async () => {
    // Act: dry run
    const dry = await cli(['audit', 'index-heads', ...target()]);
    // Assess: counted, nothing written
    expect(dry).toMatchObject({ code: 0 });
    expect(dry.out).toContain('2 stream head(s) without index keys (dev: 2), 1 unreadable');
    expect(dry.out).toContain('dry run, nothing written');
    expect(await hasIndexKeys('execution:old-1')).toBe(false);
    expect((await queryStreamHeads(dynamo, TABLE, 'dev')).size).toBe(0);

    // Act: apply
    const applied = await cli(['audit', 'index-heads', ...target(), '--apply']);
    // Assess: both heads now listed by the index query the daily check uses
    expect(applied).toMatchObject({ code: 0 });
    expect(applied.out).toContain('indexed 2');
    const heads = await queryStreamHeads(dynamo, TABLE, 'dev', '2024-03-02');
    expect([...heads.keys()]).toEqual(['cohort:old-2']);
    expect((await queryStreamHeads(dynamo, TABLE, 'dev')).size).toBe(2);

    // Act: again
    const again = await cli(['audit', 'index-heads', ...target(), '--apply']);
    // Assess: idempotent
    expect(again.out).toContain('0 stream head(s) without index keys, 1 unreadable');
    expect(again.out).toContain('indexed 0');
  });

  it.each([
    [['--stage', 'qa'], '--stage'],
    [['--table', 'x'], '--stage'],
    [['--stage', 'dev', '--endpoint', 'localhost:8000'], '--endpoint'],
    [['--stage', 'dev', '--table', 'no spaces allowed'], '--table'],
  ])('usage error %j exits 2 naming %s, writing nothing', async (args, flag) => {
    // Act
    const out = await cli(['audit', 'index-heads', ...args]);
    // Assess
    expect(out.code).toBe(2);
    expect(out.err).toContain(flag);
  });
});
