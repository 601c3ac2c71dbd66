/**
 * The composition root of the Lambda runtime in AWS: reads the environment once through zod
 * ({@link getRuntime}), builds the SDK clients and adapters, and hands them to use cases as one
 * typed dependency object. The local mode has its own root (`local/composition.ts`) that
 * calls {@link composeRuntime} with a typed environment, explicit emulator credentials and its
 * manual clock; it never writes `process.env`.
 */
import { fileURLToPath } from 'node:url';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { S3AuditSink } from '../adapters/audit/s3-audit-sink.js';
import { DynamoCohortRepository } from '../adapters/dynamodb/cohort-repository.js';
import { DynamoGenomePoolRepository } from '../adapters/dynamodb/genome-pool-repository.js';
import { FileSystemBlobSource, S3BlobSource } from '../adapters/market-data/blob-source.js';
import { LeanMarketData } from '../adapters/market-data/lean-market-data.js';
import { MetricUnit, metrics } from '../adapters/observability.js';
import { S3ArtifactStore } from '../adapters/s3/s3-artifact-store.js';
import { traced } from '../adapters/tracing.js';
import { type RuntimeEnv, readRuntimeEnv } from '../config/env.js';
import type { ArtifactStore } from '../ports/artifact-store.js';
import type { AuditSink } from '../ports/audit.js';
import { type Clock, systemClock } from '../ports/clock.js';
import type { CohortRepository } from '../ports/cohort-repository.js';
import type { GenomePoolRepository } from '../ports/genome-pool.js';
import type { MarketDataPort } from '../ports/market-data.js';

/** Static credentials of the SDK clients (the local emulators); absent in AWS (the role's). */
export interface ClientCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

export interface Runtime {
  readonly env: RuntimeEnv;
  readonly clock: Clock;
  /** Credentials the SDK clients are built with; undefined: the default provider chain. */
  readonly credentials?: ClientCredentials;
  readonly marketData: MarketDataPort;
  readonly artifacts: ArtifactStore;
  readonly cohorts: CohortRepository;
  readonly genomePool: GenomePoolRepository;
  readonly audit: AuditSink;
}

/**
 * AWS requests made through the clients this root builds, by `<service>:<command>` (the cost
 * benchmark prices a local run with them; cheap enough to keep on everywhere).
 */
const requestCounts = new Map<string, number>();

/** A copy of the request counters. */
export function awsRequestCounts(): ReadonlyMap<string, number> {
  return new Map(requestCounts);
}

/** Zeroes the request counters. */
export function resetAwsRequestCounts(): void {
  requestCounts.clear();
}

type Countable = {
  middlewareStack: {
    add: (
      mw: (
        next: (args: unknown) => Promise<unknown>,
        context: { commandName?: string },
      ) => (args: unknown) => Promise<unknown>,
      options: { step: 'initialize'; name: string },
    ) => void;
  };
};

/**
 * `client` with the request counter and, inside Lambda, Powertools Tracer (one X-Ray
 * subsegment per call; see `adapters/tracing.ts`). Every client this root builds goes
 * through it.
 */
function counted<C>(client: C, service: string): C {
  (client as unknown as Countable).middlewareStack.add(
    (next, context) => (args) => {
      const key = `${service}:${context.commandName ?? 'unknown'}`;
      requestCounts.set(key, (requestCounts.get(key) ?? 0) + 1);
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

function makeMarketData(env: RuntimeEnv, s3: S3Client): MarketDataPort {
  const uri = new URL(env.MARKET_DATA_URI);
  if (uri.protocol === 'file:') {
    return new LeanMarketData(new FileSystemBlobSource(fileURLToPath(uri)));
  }
  return new LeanMarketData(new S3BlobSource(s3, uri.host, uri.pathname.replace(/^\//, '')));
}

/** Builds a runtime from an environment map, read through zod (the AWS root, tests). */
export function buildRuntime(
  envVars: Record<string, string | undefined>,
  clock: Clock = systemClock,
): Runtime {
  return composeRuntime(readRuntimeEnv(envVars), clock);
}

/**
 * Builds a runtime from a typed environment, a clock and, for the local emulators, explicit
 * credentials (the local composition root calls this; nothing is read from `process.env`).
 */
export function composeRuntime(
  env: RuntimeEnv,
  clock: Clock,
  credentials?: ClientCredentials,
): Runtime {
  const s3 = makeS3Client(env, credentials);
  const doc = makeDocumentClient(env, credentials);
  return {
    env,
    clock,
    ...(credentials ? { credentials } : {}),
    marketData: makeMarketData(env, s3),
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

let cached: Runtime | undefined;

/** The process-wide runtime, built on first use from `process.env` (a warm Lambda reuses it). */
export function getRuntime(): Runtime {
  cached ??= buildRuntime(process.env, systemClock);
  return cached;
}
