/**
 * The Lambda environment, read once at the edge through a zod schema that fails fast.
 * Only handlers' composition root (`functions/composition/runtime.ts`) calls this; the core
 * never sees `process.env`.
 */
import * as z from 'zod';
import { parseOrThrow } from '../core/errors.js';

const optionalUrl = z
  .string()
  .url()
  .optional()
  .or(z.literal('').transform(() => undefined));

export const RuntimeEnvSchema = z.object({
  /** Deployment stage; `local` is the local mode. */
  STAGE: z.enum(['local', 'dev', 'staging', 'prod']),
  /** The single DynamoDB table (cohorts, agents, audit stream heads). */
  TABLE_NAME: z.string().min(3),
  /** Bucket for cohort artifacts (simulation results, score documents). */
  ARTIFACTS_BUCKET: z.string().min(3),
  /** Append-only audit bucket. */
  AUDIT_BUCKET: z.string().min(3),
  /**
   * Root of the LEAN data tree: `s3://bucket/prefix` in AWS, `file:///abs/path` locally.
   */
  MARKET_DATA_URI: z
    .string()
    .regex(/^(s3:\/\/[^/]+(\/.*)?|file:\/\/\/.+)$/, 'must be s3://bucket/prefix or file:///path'),
  /** Local mode only: endpoint of DynamoDB Local. */
  DYNAMODB_ENDPOINT: optionalUrl,
  /** Local mode only: endpoint of the S3 emulator (path-style addressing is then used). */
  S3_ENDPOINT: optionalUrl,
  AWS_REGION: z.string().default('us-east-1'),
  /** Gate thresholds (JSON, `GateThresholdsSchema`); required by the promotion pipeline. */
  GATE_THRESHOLDS_JSON: z.string().optional(),
  /** Promotion pipeline settings (JSON, `PromotionConfigSchema`). */
  PROMOTION_CONFIG_JSON: z.string().optional(),
  /** Paper broker the pipeline sends orders to. Live trading is not a mode. */
  BROKER_MODE: z.enum(['simulated', 'alpaca-paper']).default('simulated'),
  /** Simulated broker settings (JSON: startingCashUsd, participationFraction, latencyMs, costs, fractionalShares). */
  SIMULATED_BROKER_JSON: z.string().optional(),
  /** Paper-session risk settings (JSON: maxOrderNotionalMultiple, dailyLossStopFraction, maxBarAgeSeconds, haltModes {killSwitch, dailyLossStop}); optional. */
  PAPER_SESSION_JSON: z.string().optional(),
  /** Secrets Manager ARN of the Alpaca paper keys (JSON `{keyId, secretKey}`); BROKER_MODE=alpaca-paper. */
  ALPACA_SECRET_ARN: z.string().optional(),
  /** Alpaca paper API base URL (default the paper endpoint; live is refused). */
  ALPACA_BASE_URL: z.string().url().optional(),
  /**
   * Alpaca Market Data API base URL (default `https://data.alpaca.markets`; a loopback URL for
   * the local fake). The keys are the ones in `ALPACA_SECRET_ARN`.
   */
  ALPACA_DATA_BASE_URL: z.string().url().optional(),
  /**
   * Secrets Manager ARN of the Alpaca market-data keys (JSON `{keyId, secretKey}`), set on the
   * functions that read the session in progress (gates, paper session): with it their market
   * data is `LiveSessionMarketData` (stored tree + today's bars from Alpaca up to now);
   * without it only the stored tree (today's market gates fail closed until ingestion).
   */
  ALPACA_DATA_SECRET_ARN: z.string().optional(),
  /** Alpaca stock feed: `iex` (free plan) or `sip` (paid). */
  ALPACA_DATA_FEED: z.enum(['iex', 'sip']).default('iex'),
  /**
   * The stage's equity costs the cohort is simulated with (JSON, `FillCostsSchema`: the
   * stage's fee preset, `lib/config/runtime-env.ts#cohortEnvironment`); absent: the cohort
   * config's default costs.
   */
  COHORT_COSTS_JSON: z.string().optional(),
  /** Session ingestion settings (JSON, `IngestionConfigSchema`); required by the ingestion. */
  INGESTION_CONFIG_JSON: z.string().optional(),
  /** Learning-cycle settings (JSON, `LearningConfigSchema`); required by the learning cycle. */
  LEARNING_CONFIG_JSON: z.string().optional(),
  /** ARN of the intraday-cohort state machine (the console's `cohort start`). */
  INTRADAY_COHORT_STATE_MACHINE_ARN: z.string().optional(),
  /** Simulated broker account id (partition of its state in the table). */
  BROKER_ACCOUNT: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,64}$/)
    .default('paper-1'),
});

export type RuntimeEnv = z.infer<typeof RuntimeEnvSchema>;

/**
 * Parses `env` (normally `process.env`).
 * @throws ValidationError naming the first missing or malformed variable.
 */
export function readRuntimeEnv(env: Record<string, string | undefined>): RuntimeEnv {
  return parseOrThrow(RuntimeEnvSchema, env, 'env');
}

/**
 * True when the process is a Lambda function (the runtime sets `AWS_LAMBDA_FUNCTION_NAME`):
 * the handler edge loads Powertools Tracer only then (`functions/adapters/tracing.ts`).
 */
export function runsInLambda(env: Record<string, string | undefined> = process.env): boolean {
  return Boolean(env.AWS_LAMBDA_FUNCTION_NAME);
}
