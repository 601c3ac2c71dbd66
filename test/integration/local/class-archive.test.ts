import { spawnSync } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  DYNAMODB_LOCAL_JAVA_OPTIONS,
  LOCAL_CREDENTIALS,
  LOCAL_REGION,
  startLocalServers,
} from '../../../local/servers.js';

const cds = createRequire(import.meta.url)('../../../local/dynamodb-cds.cjs') as {
  javaLaunch(o: { port: number; dataDir: string; cacheDir: string; env?: NodeJS.ProcessEnv }): {
    command: string;
    args: string[];
    cds: 'use' | 'dump' | 'none';
  };
};

/**
 * Whether the JVM maps the archive of the next start: its java command (the JVM options
 * local/servers.ts gives) with `-Xshare:on`, which fails the JVM's start when the archive
 * cannot be used (the class path's jars changed since it was written), and `-version`.
 */
function mapsArchive(cacheDir: string): { cds: string; status: number | null; output: string } {
  const env = {
    ...process.env,
    JDK_JAVA_OPTIONS: [process.env.JDK_JAVA_OPTIONS, DYNAMODB_LOCAL_JAVA_OPTIONS]
      .filter(Boolean)
      .join(' '),
  };
  const launch = cds.javaLaunch({ port: 8000, dataDir: ':memory:', cacheDir, env });
  const classPath = launch.args.indexOf('-cp') + 2;
  const args = ['-Xshare:on', ...launch.args.slice(0, classPath), '-version'];
  const run = spawnSync(launch.command, args, { env, encoding: 'utf8' });
  return { cds: launch.cds, status: run.status, output: `${run.stdout}${run.stderr}` };
}

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

  it('is mapped by the starts after the one that wrote it', async () => {
    // Prepare: the start that writes the archive, then one that maps it
    await (await startLocalServers({ buckets: [] })).stop();
    await waitForFile(cacheDir, /^ddb-[0-9a-f]{16}\.jsa$/);
    await (await startLocalServers({ buckets: [] })).stop();

    // Act: the next start's JVM, told to fail unless it maps the archive
    const next = mapsArchive(cacheDir);

    // Assess
    expect(next.cds).toBe('use');
    expect(next.output).not.toMatch(/Unable to use shared archive/);
    expect(next.status).toBe(0);
  });
});
