import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { LazyAlpacaBroker, loadAlpacaKeys } from '../adapters/brokers/lazy-alpaca-broker.js';
import {
  type SimulatedBrokerConfig,
  SimulatedPaperBroker,
} from '../adapters/brokers/simulated-broker.js';
import { DynamoSimulatedBrokerStore } from '../adapters/brokers/simulated-broker-store.js';
import { DynamoKillSwitch } from '../adapters/dynamodb/kill-switch.js';
import { DynamoPaperTrackRecord } from '../adapters/dynamodb/paper-track-record.js';
import { DynamoPromotionRepository } from '../adapters/dynamodb/promotion-repository.js';
import { DynamoSessionBooks } from '../adapters/dynamodb/session-books.js';
import { powertoolsSecretReader } from '../adapters/secrets/secrets.js';
import { traced } from '../adapters/tracing.js';
import { parseOrThrow, ValidationError } from '../core/errors.js';
import { FINRA_PDT_RULE } from '../core/exchange/day-trades.js';
import { GateThresholdsSchema } from '../core/gates/thresholds.js';
import { parsePromotionConfig } from '../core/use-cases/promotion-records.js';
import {
  type PromotionRecoveryDeps,
  promotionsInFlight,
} from '../core/use-cases/promotion-recovery.js';
import type { BrokerPort } from '../ports/broker.js';
import type { InFlightWorkflow } from '../ports/in-flight.js';
import { withLiveMarketData } from './live-market-data.js';
import { getRuntime, makeDocumentClient, type Runtime } from './runtime.js';

function parseJsonEnv(name: string, text: string | undefined): unknown {
  if (!text) throw new ValidationError(`env.${name}`, 'is required by the promotion pipeline');
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new ValidationError(`env.${name}`, `is not JSON: ${(err as Error).message}`);
  }
}

/**
 * The simulated broker's config from `SIMULATED_BROKER_JSON`, with Alpaca's pattern-day-trader
 * protection on (FINRA's numbers) unless the config sets `patternDayTrader` (null: off).
 */
function simulatedBrokerConfigOf(rt: Runtime): SimulatedBrokerConfig {
  return {
    patternDayTrader: FINRA_PDT_RULE,
    ...(parseJsonEnv(
      'SIMULATED_BROKER_JSON',
      rt.env.SIMULATED_BROKER_JSON,
    ) as SimulatedBrokerConfig),
  };
}

/** Builds the pipeline's dependencies from a runtime (tests and the local mode call this). */
export function buildPromotionDeps(rt: Runtime): PromotionRecoveryDeps {
  const thresholds = parseOrThrow(
    GateThresholdsSchema,
    parseJsonEnv('GATE_THRESHOLDS_JSON', rt.env.GATE_THRESHOLDS_JSON),
    'gates',
  );
  const promotionConfig = parsePromotionConfig(
    parseJsonEnv('PROMOTION_CONFIG_JSON', rt.env.PROMOTION_CONFIG_JSON),
  );
  const doc = makeDocumentClient(rt.env, rt.credentials);
  let brokerAt: (nowMs: number) => BrokerPort;
  let brokerFor: (account: string, nowMs: number) => BrokerPort;
  if (rt.env.BROKER_MODE === 'simulated') {
    const config = simulatedBrokerConfigOf(rt);
    const simulatedAt = (store: DynamoSimulatedBrokerStore, nowMs: number) =>
      new SimulatedPaperBroker({
        store,
        marketData: rt.marketData,
        clock: { now: () => nowMs },
        config,
      });
    const store = new DynamoSimulatedBrokerStore(doc, rt.env.TABLE_NAME, rt.env.BROKER_ACCOUNT);
    brokerAt = (nowMs) => simulatedAt(store, nowMs);
    brokerFor = (account, nowMs) =>
      simulatedAt(new DynamoSimulatedBrokerStore(doc, rt.env.TABLE_NAME, account), nowMs);
  } else {
    const secretArn = rt.env.ALPACA_SECRET_ARN;
    if (!secretArn) {
      throw new ValidationError(
        'env.ALPACA_SECRET_ARN',
        'is required when BROKER_MODE is alpaca-paper',
      );
    }
    const read = powertoolsSecretReader(
      traced(new SecretsManagerClient({ region: rt.env.AWS_REGION })),
    );
    let keys: Promise<{ keyId: string; secretKey: string }> | undefined;
    const broker = new LazyAlpacaBroker(() => {
      keys ??= loadAlpacaKeys(read, secretArn).catch((err: unknown) => {
        keys = undefined; // a failed load is retried on the next call
        throw err;
      });
      return keys;
    }, rt.env.ALPACA_BASE_URL);
    brokerAt = () => broker; // Alpaca keeps its own time: "now" is the wall clock
    brokerFor = (account) => {
      if (account !== rt.env.BROKER_ACCOUNT)
        throw new ValidationError(
          'promotion.broker',
          `alpaca-paper:${account} is not this deployment's account (${rt.env.BROKER_ACCOUNT})`,
        );
      return broker;
    };
  }
  return {
    brokerFor: (broker, nowMs) => {
      const [name, ...account] = broker.split(':');
      if (name !== (rt.env.BROKER_MODE === 'simulated' ? 'simulated' : 'alpaca-paper'))
        throw new ValidationError('promotion.broker', `${broker} is not this deployment's broker`);
      return brokerFor(account.join(':'), nowMs);
    },
    clock: rt.clock,
    marketData: rt.marketData,
    artifacts: rt.artifacts,
    cohorts: rt.cohorts,
    audit: rt.audit,
    environment: rt.env.STAGE,
    promotions: new DynamoPromotionRepository(doc, rt.env.TABLE_NAME),
    paperTrackRecord: new DynamoPaperTrackRecord(doc, rt.env.TABLE_NAME),
    sessionBooks: new DynamoSessionBooks(doc, rt.env.TABLE_NAME),
    killSwitch: new DynamoKillSwitch(doc, rt.env.TABLE_NAME),
    brokerAt,
    brokerAccount: rt.env.BROKER_ACCOUNT,
    gateThresholds: thresholds,
    promotionConfig,
  };
}

let cached: PromotionRecoveryDeps | undefined;

/**
 * The process-wide pipeline dependencies (a warm Lambda reuses them). A function given
 * `ALPACA_DATA_SECRET_ARN` reads the session in progress from Alpaca (`live-market-data.ts`).
 */
export function getPromotionDeps(): PromotionRecoveryDeps {
  cached ??= buildPromotionDeps(withLiveMarketData(getRuntime()));
  return cached;
}

/** Every order path's {@link InFlightWorkflow}, for the crash sweeper. */
export function inFlightWorkflows(deps: PromotionRecoveryDeps): InFlightWorkflow[] {
  return [promotionsInFlight(deps)];
}
