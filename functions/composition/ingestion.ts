/**
 * Composition of the session ingestion (AWS and local): the Alpaca market-data adapter with
 * the keys from Secrets Manager (`ALPACA_SECRET_ARN`, JSON `{keyId, secretKey}`, read once per
 * warm Lambda and never logged), the LEAN archive over the market-data tree
 * (`MARKET_DATA_URI`: the bucket in AWS, a folder locally) and the settings
 * (`INGESTION_CONFIG_JSON`).
 */
import { fileURLToPath } from 'node:url';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { loadAlpacaKeys } from '../adapters/brokers/lazy-alpaca-broker.js';
import { AlpacaMarketData } from '../adapters/market-data/alpaca-market-data.js';
import { FileSystemBlobSource, S3BlobSource } from '../adapters/market-data/blob-source.js';
import {
  FileSystemBlobSink,
  LeanArchive,
  S3BlobSink,
} from '../adapters/market-data/lean-archive.js';
import { powertoolsSecretReader } from '../adapters/secrets/secrets.js';
import { traced } from '../adapters/tracing.js';
import { ValidationError } from '../core/errors.js';
import { type IngestionDeps, parseIngestionConfig } from '../core/use-cases/session-ingestion.js';
import type { MarketDataArchive } from '../ports/session-ingestion.js';
import { getRuntime, makeS3Client, type Runtime } from './runtime.js';

/** Alpaca market-data keys. */
export interface AlpacaDataKeys {
  readonly keyId: string;
  readonly secretKey: string;
}

/** The LEAN archive at `MARKET_DATA_URI` (S3 prefix or local folder). */
export function archiveOf(rt: Runtime): MarketDataArchive {
  const uri = new URL(rt.env.MARKET_DATA_URI);
  if (uri.protocol === 'file:') {
    const dir = fileURLToPath(uri);
    return new LeanArchive(new FileSystemBlobSource(dir), new FileSystemBlobSink(dir));
  }
  const s3 = makeS3Client(rt.env, rt.credentials);
  const prefix = uri.pathname.replace(/^\//, '');
  return new LeanArchive(
    new S3BlobSource(s3, uri.host, prefix),
    new S3BlobSink(s3, uri.host, prefix),
  );
}

/**
 * The ingestion's dependencies. `keys` given (the local root, tests) or read from Secrets
 * Manager at `ALPACA_SECRET_ARN`.
 * @throws ValidationError when `INGESTION_CONFIG_JSON` or `ALPACA_SECRET_ARN` is missing or
 *   invalid; BrokerAuthError when the secret is unreadable or still the placeholder.
 */
export async function buildIngestionDeps(
  rt: Runtime,
  keys?: AlpacaDataKeys,
): Promise<IngestionDeps> {
  const text = rt.env.INGESTION_CONFIG_JSON;
  if (!text) throw new ValidationError('env.INGESTION_CONFIG_JSON', 'is required by the ingestion');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ValidationError(
      'env.INGESTION_CONFIG_JSON',
      `is not JSON: ${(err as Error).message}`,
    );
  }
  const config = parseIngestionConfig(json);
  let resolved = keys;
  if (!resolved) {
    const arn = rt.env.ALPACA_SECRET_ARN;
    if (!arn) throw new ValidationError('env.ALPACA_SECRET_ARN', 'is required by the ingestion');
    const read = powertoolsSecretReader(
      traced(new SecretsManagerClient({ region: rt.env.AWS_REGION })),
    );
    resolved = await loadAlpacaKeys(read, arn);
  }
  const feed = new AlpacaMarketData({
    keyId: resolved.keyId,
    secretKey: resolved.secretKey,
    feed: rt.env.ALPACA_DATA_FEED,
    ...(rt.env.ALPACA_DATA_BASE_URL ? { baseUrl: rt.env.ALPACA_DATA_BASE_URL } : {}),
    clock: rt.clock,
  });
  return { feed, archive: archiveOf(rt), clock: rt.clock, config };
}

let cached: Promise<IngestionDeps> | undefined;

/** The process-wide ingestion dependencies (a failed secret read is retried next call). */
export function getIngestionDeps(): Promise<IngestionDeps> {
  cached ??= buildIngestionDeps(getRuntime()).catch((err: unknown) => {
    cached = undefined;
    throw err;
  });
  return cached;
}
