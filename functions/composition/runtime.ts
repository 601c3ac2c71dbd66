/**
 * The composition root of the Lambda runtime in AWS: reads the environment once through zod
 * ({@link getRuntime}), builds the SDK clients and adapters, and hands them to use cases as one
 * typed dependency object: the stores of `stores.ts` plus the market data. The local mode has
 * its own root (`local/composition.ts`) that calls {@link composeRuntime} with a typed
 * environment, explicit emulator credentials and its manual clock; it never writes
 * `process.env`. Functions that read no market data use `getStoreRuntime` (`stores.ts`)
 * instead, and bundle none of the market-data adapters.
 */
import { fileURLToPath } from 'node:url';
import type { S3Client } from '@aws-sdk/client-s3';
import { FileSystemBlobSource, S3BlobSource } from '../adapters/market-data/blob-source.js';
import { LeanMarketData } from '../adapters/market-data/lean-market-data.js';
import { type RuntimeEnv, readRuntimeEnv } from '../config/env.js';
import { type FillCosts, FillCostsSchema } from '../core/cohort/fill-model.js';
import { parseOrThrow, ValidationError } from '../core/errors.js';
import { type Clock, systemClock } from '../ports/clock.js';
import type { MarketDataPort } from '../ports/market-data.js';
import {
  type ClientCredentials,
  composeStores,
  getStoreRuntime,
  makeS3Client,
  type StoreRuntime,
} from './stores.js';

export {
  awsRequestCounts,
  awsRequestCountsByItem,
  type ClientCredentials,
  makeDocumentClient,
  makeS3Client,
  resetAwsRequestCounts,
  type StoreRuntime,
} from './stores.js';

export interface Runtime extends StoreRuntime {
  readonly marketData: MarketDataPort;
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
  return { ...composeStores(env, clock, credentials, s3), marketData: makeMarketData(env, s3) };
}

/**
 * The stage's equity costs a cohort is simulated with (`COHORT_COSTS_JSON`, read with
 * `FillCostsSchema`), or undefined when unset (the cohort config's defaults).
 * @throws ValidationError naming `env.COHORT_COSTS_JSON` (or one of its fields) when invalid.
 */
export function cohortCostsOf(env: RuntimeEnv): FillCosts | undefined {
  const text = env.COHORT_COSTS_JSON;
  if (!text) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text) as unknown;
  } catch (err) {
    throw new ValidationError('env.COHORT_COSTS_JSON', `is not JSON: ${(err as Error).message}`);
  }
  return parseOrThrow(FillCostsSchema, value, 'env.COHORT_COSTS_JSON');
}

let cached: Runtime | undefined;

/**
 * The process-wide runtime, built on first use from `process.env` (a warm Lambda reuses it):
 * the process-wide stores ({@link getStoreRuntime}, shared with the roots built on them, e.g.
 * the approval flow's) plus the market data.
 */
export function getRuntime(): Runtime {
  if (!cached) {
    const stores = getStoreRuntime();
    const s3 = makeS3Client(stores.env, stores.credentials);
    cached = { ...stores, marketData: makeMarketData(stores.env, s3) };
  }
  return cached;
}
