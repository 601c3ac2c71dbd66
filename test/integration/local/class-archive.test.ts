import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LOCAL_CREDENTIALS, LOCAL_REGION, startLocalServers } from '../../../local/servers.js';

/** Bound of the wait for the archive the JVM writes as it exits (a loaded machine, not a speed claim). */
const ARCHIVE_DEADLINE_MS = 180_000;

async function waitForFile(dir: string, pattern: RegExp): Promise<string[]> {
  const until = Date.now() + ARCHIVE_DEADLINE_MS;
  for (;;) {
    const files = await readdir(dir);
    if (files.some((f) => pattern.test(f)) || Date.now() > until) return files;
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe("DynamoDB Local's class-data-sharing archive", () => {
  let cacheDir: string;
  let before: string | undefined;
  beforeEach(async () => {
    cacheDir = await mkdtemp(path.join(os.tmpdir(), 'stagegate-cds-int-'));
    before = process.env.STAGEGATE_DYNAMODB_CDS_DIR;
    process.env.STAGEGATE_DYNAMODB_CDS_DIR = cacheDir; // the supervisor inherits it
  });
  afterEach(async () => {
    if (before === undefined) delete process.env.STAGEGATE_DYNAMODB_CDS_DIR;
    else process.env.STAGEGATE_DYNAMODB_CDS_DIR = before;
    await rm(cacheDir, { recursive: true, force: true });
  });

  it('is written by a trained first start only, and the training leaves no table behind', async () => {
    // Act: the first start on an empty cache writes the archive
    const servers = await startLocalServers({ buckets: [] });
    let tables: string[] = [];
    let trained: string[] = [];
    try {
      trained = (await readdir(cacheDir)).filter((f) => f.endsWith('.trained'));
      const client = new DynamoDBClient({
        endpoint: servers.dynamoEndpoint,
        region: LOCAL_REGION,
        credentials: LOCAL_CREDENTIALS,
      });
      tables = (await client.send(new ListTablesCommand({}))).TableNames ?? [];
      client.destroy();
    } finally {
      await servers.stop();
    }
    const files = await waitForFile(cacheDir, /^ddb-[0-9a-f]{16}\.jsa$/);

    // Assess: trained before it answered, nothing of the training left, the archive kept
    expect(trained).toHaveLength(1);
    expect(tables).toEqual([]);
    expect(files.filter((f) => /^ddb-[0-9a-f]{16}\.jsa$/.test(f))).toHaveLength(1);
  });
});
