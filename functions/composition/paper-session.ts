/**
 * The paper session's dependencies: the pipeline's (broker, market data, kill switch, audit,
 * clock) plus the exchange configuration of its reference simulation (the simulated broker's
 * settings when they are configured, else a default: participation 1, latency 1 s, the cohort's
 * default costs) and the session's risk settings (`PAPER_SESSION_JSON`, optional).
 */
import * as z from 'zod';
import { DynamoPaperTrackRecord } from '../adapters/dynamodb/paper-track-record.js';
import { DynamoSessionBooks } from '../adapters/dynamodb/session-books.js';
import { parseCohortConfig } from '../core/cohort/config.js';
import { FillCostsSchema, fillCostsOf } from '../core/cohort/fill-model.js';
import { parseOrThrow, ValidationError } from '../core/errors.js';
import { FINRA_PDT_RULE } from '../core/exchange/day-trades.js';
import { DEFAULT_ACCOUNT_LIMITS } from '../core/paper/account.js';
import { DEFAULT_HALT_MODES } from '../core/paper/paper-session.js';
import type { ReferenceExchangeConfig } from '../core/paper/reference.js';
import {
  AccountLimitsSchema,
  HaltModesSchema,
  type PaperSessionDeps,
  type PaperSessionSettings,
} from '../core/use-cases/paper-session.js';
import type { PromotionDeps } from '../core/use-cases/promotion.js';
import { getPromotionDeps } from './promotion.js';
import { getRuntime, makeDocumentClient, type Runtime } from './runtime.js';

const ExchangeSchema = z.object({
  participationFraction: z.number().gt(0).max(1),
  latencyMs: z.number().min(0),
  costs: FillCostsSchema,
  fractionalShares: z.boolean(),
  buyingPowerMultiplier: z.number().positive().max(10).default(1),
  // The simulated broker's PDT protection (on with FINRA's numbers unless null, as in
  // `promotion.ts`), so the reference refuses what the paper broker refuses.
  patternDayTrader: z
    .object({ minEquityUsd: z.number().min(0), maxDayTrades: z.number().int().min(0) })
    .nullable()
    .default(FINRA_PDT_RULE),
});

const SettingsSchema = z.strictObject({
  maxOrderNotionalMultiple: z.number().positive().default(2),
  dailyLossStopFraction: z.number().gt(0).max(1).default(0.1),
  maxBarAgeSeconds: z.number().positive().default(300),
  haltModes: HaltModesSchema.default(DEFAULT_HALT_MODES),
  account: AccountLimitsSchema.default(DEFAULT_ACCOUNT_LIMITS),
  avgPriceToleranceBps: z.number().min(0).default(5),
});

function parse<T>(name: string, schema: z.ZodType<T>, text: string | undefined, dflt: unknown): T {
  let value: unknown = dflt;
  if (text) {
    try {
      value = JSON.parse(text) as unknown;
    } catch (err) {
      throw new ValidationError(`env.${name}`, `is not JSON: ${(err as Error).message}`);
    }
  }
  return parseOrThrow(schema, value, `env.${name}`);
}

/**
 * Builds the paper session's dependencies from a runtime and the pipeline's dependencies
 * (the AWS root below; tests and the local root call this).
 * @throws ValidationError naming `env.SIMULATED_BROKER_JSON.<field>` or
 *   `env.PAPER_SESSION_JSON.<field>` when a setting is invalid.
 */
export function buildPaperSessionDeps(rt: Runtime, promotion: PromotionDeps): PaperSessionDeps {
  const env = rt.env;
  const defaults = parseCohortConfig({ bankrollUsd: 1_000 });
  const referenceExchange: ReferenceExchangeConfig = parse(
    'SIMULATED_BROKER_JSON',
    ExchangeSchema,
    env.SIMULATED_BROKER_JSON,
    {
      participationFraction: 1,
      latencyMs: 1_000,
      costs: fillCostsOf(defaults),
      fractionalShares: true,
    },
  );
  const paperSession = readPaperSessionSettings(env);
  const doc = makeDocumentClient(env, rt.credentials);
  return {
    ...promotion,
    referenceExchange,
    paperSession,
    sessionBooks: new DynamoSessionBooks(doc, env.TABLE_NAME),
    trackRecord: new DynamoPaperTrackRecord(doc, env.TABLE_NAME),
  };
}

/**
 * The paper sessions' risk settings (`PAPER_SESSION_JSON`, optional: defaults otherwise).
 * @throws ValidationError naming `env.PAPER_SESSION_JSON.<field>` when a setting is invalid.
 */
export function readPaperSessionSettings(env: Runtime['env']): PaperSessionSettings {
  return parse('PAPER_SESSION_JSON', SettingsSchema, env.PAPER_SESSION_JSON, {});
}

let cached: PaperSessionDeps | undefined;

/** The process-wide paper-session dependencies (a warm Lambda reuses them). */
export function getPaperSessionDeps(): PaperSessionDeps {
  cached ??= buildPaperSessionDeps(getRuntime(), getPromotionDeps());
  return cached;
}
