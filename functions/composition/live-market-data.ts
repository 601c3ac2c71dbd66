/**
 * The live path's market data for the deployed Lambdas that read the session in progress (the
 * promotion gates, the paper session's start, ticks and finish): with `ALPACA_DATA_SECRET_ARN`
 * set, the runtime's stored tree (`MARKET_DATA_URI`, what the session ingestion writes after
 * each close) is wrapped in {@link LiveSessionMarketData}, whose session in progress comes from
 * Alpaca's market-data API up to the clock's now. The keys are read from Secrets Manager
 * through Powertools Parameters (cached 300 s per warm Lambda) on the first live request only,
 * and never logged. Without the variable the runtime is returned unchanged (stored tree only:
 * today's market gates fail closed until the ingestion has stored the session).
 */
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { loadAlpacaKeys } from '../adapters/brokers/lazy-alpaca-broker.js';
import { LazyAlpacaFeed } from '../adapters/market-data/lazy-alpaca-feed.js';
import { LiveSessionMarketData } from '../adapters/market-data/live-session-market-data.js';
import { powertoolsSecretReader, type SecretReader } from '../adapters/secrets/secrets.js';
import { traced } from '../adapters/tracing.js';
import type { Runtime } from './runtime.js';

/**
 * `rt` with {@link LiveSessionMarketData} over its market data when `ALPACA_DATA_SECRET_ARN` is
 * set, else `rt` itself.
 *
 * @param read reads a secret by ARN (default: Powertools Parameters over Secrets Manager in
 *   `AWS_REGION`; tests pass their own).
 */
export function withLiveMarketData(rt: Runtime, read?: SecretReader): Runtime {
  const arn = rt.env.ALPACA_DATA_SECRET_ARN;
  if (!arn) return rt;
  const reader =
    read ?? powertoolsSecretReader(traced(new SecretsManagerClient({ region: rt.env.AWS_REGION })));
  const feed = new LazyAlpacaFeed(() => loadAlpacaKeys(reader, arn), {
    feed: rt.env.ALPACA_DATA_FEED,
    ...(rt.env.ALPACA_DATA_BASE_URL ? { baseUrl: rt.env.ALPACA_DATA_BASE_URL } : {}),
    clock: rt.clock,
  });
  return { ...rt, marketData: new LiveSessionMarketData(rt.marketData, feed, rt.clock) };
}
