/**
 * The store half of the Lambda composition root ({@link getStoreRuntime}): reads the
 * environment once through zod, builds the counted and traced SDK clients and the stores every
 * function shares. `runtime.ts` adds the market data on top ({@link composeStores} is its
 * base), so a function that never reads bars imports this module alone and its bundle carries
 * no market-data adapter.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { S3AuditSink } from '../adapters/audit/s3-audit-sink.js';
import { DynamoCohortRepository } from '../adapters/dynamodb/cohort-repository.js';
import { DynamoGenomePoolRepository } from '../adapters/dynamodb/genome-pool-repository.js';
import { MetricUnit, metrics } from '../adapters/observability.js';
import { S3ArtifactStore } from '../adapters/s3/s3-artifact-store.js';
import { traced } from '../adapters/tracing.js';
import { type RuntimeEnv, readRuntimeEnv } from '../config/env.js';
import type { ArtifactStore } from '../ports/artifact-store.js';
import type { IdempotentAuditSink, UntypedAuditSink } from '../ports/audit.js';
import { type Clock, systemClock } from '../ports/clock.js';
import type { CohortRepository } from '../ports/cohort-repository.js';
import type { GenomePoolRepository } from '../ports/genome-pool.js';

/** Static credentials of the SDK clients (the local emulators); absent in AWS (the role's). */
export interface ClientCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

/**
 * AWS requests made through the clients this root builds, by `<service>:<command>` (the cost
 * benchmark prices a local run with them; cheap enough to keep on everywhere).
 */
const requestCounts = new Map<string, number>();

/**
 * The same requests by `<service>:<command>:<item kind>` (see {@link requestItemKind}): which
 * items a run reads and writes (the `requests` benchmark).
 */
const itemRequestCounts = new Map<string, number>();

/** A copy of the request counters. */
export function awsRequestCounts(): ReadonlyMap<string, number> {
  return new Map(requestCounts);
}

/** A copy of the request counters by item kind (`<service>:<command>:<item kind>`). */
export function awsRequestCountsByItem(): ReadonlyMap<string, number> {
  return new Map(itemRequestCounts);
}

/** Zeroes the request counters. */
export function resetAwsRequestCounts(): void {
  requestCounts.clear();
  itemRequestCounts.clear();
}

/** A key attribute as the document client passes it (plain) or as the SDK marshals it (`{S}`). */
function plainString(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  const s = (value as { S?: unknown } | undefined)?.S;
  return typeof s === 'string' ? s : undefined;
}

/** The partition key of the first item a DynamoDB request names (key, item or query value). */
function firstPartitionKey(input: Record<string, unknown>): string | undefined {
  const keyed = (input.Key ?? input.Item) as Record<string, unknown> | undefined;
  if (keyed) return plainString(keyed.pk);
  const values = input.ExpressionAttributeValues as Record<string, unknown> | undefined;
  if (values) return plainString(Object.values(values)[0]);
  const tx = (input.TransactItems as Record<string, Record<string, unknown>>[] | undefined)?.[0];
  if (tx) return firstPartitionKey(Object.values(tx)[0] ?? {});
  const batch = Object.values((input.RequestItems as Record<string, unknown>) ?? {})[0];
  if (Array.isArray(batch)) {
    const req = (batch[0] ?? {}) as Record<string, Record<string, unknown>>;
    return firstPartitionKey(req.PutRequest ?? req.DeleteRequest ?? {});
  }
  const keys = (batch as { Keys?: Record<string, unknown>[] } | undefined)?.Keys;
  return keys?.[0] ? plainString(keys[0].pk) : undefined;
}

/**
 * What a request reads or writes, coarsely: for DynamoDB the first item's partition key up to
 * its first `#` (`CONFIG`, `SIMBROKER`, `AUDIT_STREAM`, ...; a query's index is appended), for
 * S3 the first segment of the object key or prefix (`audit`, `cohorts`, ...); `-` when none.
 */
export function requestItemKind(service: string, input: unknown): string {
  const i = (input ?? {}) as Record<string, unknown>;
  if (service === 's3') {
    const key = typeof i.Key === 'string' ? i.Key : typeof i.Prefix === 'string' ? i.Prefix : '';
    return key.split('/')[0] || '-';
  }
  const kind = firstPartitionKey(i)?.split('#')[0] || '-';
  return typeof i.IndexName === 'string' ? `${kind} (${i.IndexName})` : kind;
}

type Countable = {
  middlewareStack: {
    add: (
      mw: (
        next: (args: { input?: unknown }) => Promise<unknown>,
        context: { commandName?: string },
      ) => (args: { input?: unknown }) => Promise<unknown>,
      options: { step: 'initialize'; name: string },
    ) => void;
  };
};

const bump = (counts: Map<string, number>, key: string) =>
  counts.set(key, (counts.get(key) ?? 0) + 1);

/**
 * `client` with the request counters and, inside Lambda, Powertools Tracer (one X-Ray
 * subsegment per call; see `adapters/tracing.ts`). Every client this root builds goes
 * through it.
 */
function counted<C>(client: C, service: string): C {
  (client as unknown as Countable).middlewareStack.add(
    (next, context) => (args) => {
      const key = `${service}:${context.commandName ?? 'unknown'}`;
      bump(requestCounts, key);
      bump(itemRequestCounts, `${key}:${requestItemKind(service, args.input)}`);
      return next(args);
    },
    { step: 'initialize', name: 'stagegateRequestCounter' },
  );
  return traced(client);
}

/** S3 client for AWS, or for the local emulator when `S3_ENDPOINT` is set. */
export function makeS3Client(
  env: Pick<RuntimeEnv, 'S3_ENDPOINT' | 'AWS_REGION'>,
  credentials?: ClientCredentials,
): S3Client {
  return counted(
    new S3Client({
      region: env.AWS_REGION,
      ...(credentials ? { credentials } : {}),
      ...(env.S3_ENDPOINT
        ? {
            endpoint: env.S3_ENDPOINT,
            forcePathStyle: true,
            // s3rver stores streamed, checksummed bodies corrupted; only send checksums on demand.
            requestChecksumCalculation: 'WHEN_REQUIRED' as const,
            responseChecksumValidation: 'WHEN_REQUIRED' as const,
          }
        : {}),
    }),
    's3',
  );
}

/** DynamoDB document client (undefined values dropped, as the single-table items expect). */
export function makeDocumentClient(
  env: Pick<RuntimeEnv, 'DYNAMODB_ENDPOINT' | 'AWS_REGION'>,
  credentials?: ClientCredentials,
): DynamoDBDocumentClient {
  const client = new DynamoDBClient({
    region: env.AWS_REGION,
    ...(credentials ? { credentials } : {}),
    ...(env.DYNAMODB_ENDPOINT ? { endpoint: env.DYNAMODB_ENDPOINT } : {}),
  });
  return DynamoDBDocumentClient.from(counted(client, 'dynamodb'), {
    marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: true },
  });
}

/**
 * What every function's dependencies start from: the environment, the clock, the SDK
 * credentials and the stores (artifacts, cohorts, genome pool, audit trail). The functions
 * that never read market data (record-audit, persist, merge, score, plan, learning,
 * verify-audit-day) are built from this alone, so their bundles leave out the market-data
 * adapters (zip and CSV readers).
 */
export interface StoreRuntime {
  readonly env: RuntimeEnv;
  readonly clock: Clock;
  /** Credentials the SDK clients are built with; undefined: the default provider chain. */
  readonly credentials?: ClientCredentials;
  readonly artifacts: ArtifactStore;
  readonly cohorts: CohortRepository;
  readonly genomePool: GenomePoolRepository;
  readonly audit: IdempotentAuditSink & UntypedAuditSink;
}

/**
 * Builds the stores from a typed environment, a clock and, for the local emulators, explicit
 * credentials (nothing is read from `process.env` here).
 */
export function composeStores(
  env: RuntimeEnv,
  clock: Clock,
  credentials?: ClientCredentials,
  s3: S3Client = makeS3Client(env, credentials),
): StoreRuntime {
  const doc = makeDocumentClient(env, credentials);
  return {
    env,
    clock,
    ...(credentials ? { credentials } : {}),
    artifacts: new S3ArtifactStore(s3, env.ARTIFACTS_BUCKET),
    cohorts: new DynamoCohortRepository(doc, env.TABLE_NAME),
    genomePool: new DynamoGenomePoolRepository(doc, env.TABLE_NAME),
    audit: new S3AuditSink({
      s3,
      dynamo: doc,
      tableName: env.TABLE_NAME,
      bucket: env.AUDIT_BUCKET,
      environment: env.STAGE,
      clock,
      // A dead letter moves a counter (alarmed in AWS): no invalid record passes silently.
      onDeadLetter: () => metrics.singleMetric().addMetric('AuditDeadLetters', MetricUnit.Count, 1),
    }),
  };
}

let cached: StoreRuntime | undefined;

/**
 * The process-wide stores, built on first use from `process.env` (a warm Lambda reuses them),
 * for the functions that read no market data.
 */
export function getStoreRuntime(): StoreRuntime {
  cached ??= composeStores(readRuntimeEnv(process.env), systemClock);
  return cached;
}
