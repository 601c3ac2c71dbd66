/**
 * Cohort configuration: the bankroll, the agents, the allocation policy, the risk ceilings
 * and the execution-cost model, validated with zod. Money in USD, rates as fractions.
 */
import * as z from 'zod';
import { ValidationError } from '../errors.js';

/** How the parent wallet splits the bankroll between agents (see `allocation.ts`). */
export type AllocationPolicy = 'equal' | 'risk-weighted';
/** Every allocation policy. */
export const ALLOCATION_POLICIES: readonly AllocationPolicy[] = ['equal', 'risk-weighted'];

interface NumericField {
  readonly min: number;
  readonly max: number;
  readonly integer: boolean;
  /** Unit printed in error messages ('' for none). */
  readonly unit: string;
  readonly default?: number;
}

/**
 * Allowed ranges and defaults of the numeric fields. One table drives both the schema and the
 * error messages, so a message always states the range the schema enforces.
 *
 * Defaults and why:
 * - `maxAggregateExposure = 1.0`: the cohort as a whole stays unlevered against the bankroll.
 *   Agents may lever their own slice (`maxAgentLeverage`), but the parent never borrows: under
 *   FINRA Rule 4210 a margin account needs at least $2,000 of equity, so an unlevered cash
 *   account is the only setting that is valid across the whole 50..100,000 USD range.
 *   Upper bound 4: the intraday buying power of a pattern day trader (FINRA 4210(f)(8)(B)).
 * - `maxAgentLeverage = 2`: Reg T initial margin (50%); upper bound 10 is the cap of the
 *   leverage policy in the design.
 * - `feePerShareUsd = 0.005`, `maxFeeFraction = 0.01`: the IBKR Pro "Fixed" schedule (USD 0.005
 *   per share, capped at 1% of trade value), a conservative friction that also covers the
 *   SEC/FINRA pass-through fees a commission-free broker such as Alpaca charges on sales.
 * - `minFeeUsd = 0`: IBKR's USD 1.00 ticket minimum would eat 2% of a 50 USD bankroll per
 *   order, and with 30 agents a 1.67 USD slice would lose 60% to one ticket: no strategy could
 *   be measured. Alpaca charges no minimum. Raise it to model a ticket-priced broker.
 * - `slippageBps = 1`: one basis point beyond the touch, adverse, on every fill; liquid
 *   large caps at the sizes simulated here rarely move more than that.
 * - `impactCoefficientBps = 0`: no market impact by default, so the default story does not
 *   move; the broker presets (`exchange/fee-schedules.ts`) set a sourced value. Upper bound
 *   1,000 bps per √participation (10 % at a whole minute's volume).
 * - `notionalFeeFraction`, `secFeePerUsdSold`, `finraTafPerShareSold`, `finraTafMaxUsd`,
 *   `catFeePerShare` = 0:
 *   the default per-share schedule above already covers the pass-through fees; a per-broker
 *   schedule (`exchange/fee-schedules.ts`: IBKR Fixed, Alpaca equities, Alpaca crypto) sets
 *   every cost field at once, with its source.
 * - `seed = 1`: seeds the genome pool; the simulation itself draws no random numbers.
 */
const NUMERIC_FIELDS = {
  bankrollUsd: { min: 50, max: 100_000, integer: false, unit: 'USD' },
  agentCount: { min: 1, max: 1_000, integer: true, unit: 'agents', default: 30 },
  maxAggregateExposure: { min: 0, max: 4, integer: false, unit: '× bankroll', default: 1 },
  maxAgentLeverage: { min: 0, max: 10, integer: false, unit: '× agent equity', default: 2 },
  feePerShareUsd: { min: 0, max: 0.1, integer: false, unit: 'USD per share', default: 0.005 },
  minFeeUsd: { min: 0, max: 10, integer: false, unit: 'USD', default: 0 },
  maxFeeFraction: {
    min: 0,
    max: 0.05,
    integer: false,
    unit: '(fraction of notional)',
    default: 0.01,
  },
  slippageBps: { min: 0, max: 500, integer: false, unit: 'bps', default: 1 },
  impactCoefficientBps: {
    min: 0,
    max: 1_000,
    integer: false,
    unit: 'bps per √(share of the minute volume)',
    default: 0,
  },
  notionalFeeFraction: {
    min: 0,
    max: 0.05,
    integer: false,
    unit: '(fraction of notional)',
    default: 0,
  },
  secFeePerUsdSold: { min: 0, max: 0.001, integer: false, unit: 'USD per USD sold', default: 0 },
  finraTafPerShareSold: {
    min: 0,
    max: 0.01,
    integer: false,
    unit: 'USD per share sold',
    default: 0,
  },
  finraTafMaxUsd: { min: 0, max: 100, integer: false, unit: 'USD per order', default: 0 },
  catFeePerShare: { min: 0, max: 0.01, integer: false, unit: 'USD per share', default: 0 },
  seed: { min: 0, max: 4_294_967_295, integer: true, unit: '', default: 1 },
} as const satisfies Record<string, NumericField>;

type NumericFieldName = keyof typeof NUMERIC_FIELDS;

function numberField(spec: NumericField) {
  const base = spec.integer ? z.number().int() : z.number();
  const ranged = base.min(spec.min).max(spec.max);
  return spec.default === undefined ? ranged : ranged.default(spec.default);
}

/**
 * Cohort settings. Unknown fields are rejected (a typo such as `bankroll` must not silently
 * fall back to a default).
 */
export const CohortConfigSchema = z.strictObject({
  /** Parent wallet bankroll, USD, 50..100,000. Required. */
  bankrollUsd: numberField(NUMERIC_FIELDS.bankrollUsd),
  /** Number of agents (one per genome), 1..1,000. @default 30 */
  agentCount: numberField(NUMERIC_FIELDS.agentCount),
  /** Bankroll split policy. @default 'equal' */
  allocation: z.enum(['equal', 'risk-weighted']).default('equal'),
  /** Ceiling on the gross exposure of all agents together, as a fraction of the bankroll. @default 1 */
  maxAggregateExposure: numberField(NUMERIC_FIELDS.maxAggregateExposure),
  /** Ceiling on an agent's gross exposure divided by its equity. @default 2 */
  maxAgentLeverage: numberField(NUMERIC_FIELDS.maxAgentLeverage),
  /** Commission per share traded, USD. @default 0.005 */
  feePerShareUsd: numberField(NUMERIC_FIELDS.feePerShareUsd),
  /** Minimum commission per order, USD. @default 0 */
  minFeeUsd: numberField(NUMERIC_FIELDS.minFeeUsd),
  /** Commission cap per order as a fraction of its notional. @default 0.01 */
  maxFeeFraction: numberField(NUMERIC_FIELDS.maxFeeFraction),
  /** Adverse slippage beyond the quote on every fill, basis points. @default 1 */
  slippageBps: numberField(NUMERIC_FIELDS.slippageBps),
  /**
   * Market impact, bps per unit of √participation (a fill's shares / its minute's volume),
   * added to `slippageBps` (`fill-model.ts#marketImpactBps`). @default 0
   */
  impactCoefficientBps: numberField(NUMERIC_FIELDS.impactCoefficientBps),
  /** Fee on both sides as a fraction of notional (a crypto taker fee). @default 0 */
  notionalFeeFraction: numberField(NUMERIC_FIELDS.notionalFeeFraction),
  /** SEC Section 31 fee on sells, USD per USD of sell notional. @default 0 */
  secFeePerUsdSold: numberField(NUMERIC_FIELDS.secFeePerUsdSold),
  /** FINRA Trading Activity Fee on sells, USD per share sold. @default 0 */
  finraTafPerShareSold: numberField(NUMERIC_FIELDS.finraTafPerShareSold),
  /** Cap of the FINRA TAF per order, USD. @default 0 */
  finraTafMaxUsd: numberField(NUMERIC_FIELDS.finraTafMaxUsd),
  /** Consolidated Audit Trail fee on both sides, USD per share executed. @default 0 */
  catFeePerShare: numberField(NUMERIC_FIELDS.catFeePerShare),
  /** Intraday agents flatten every position in the session's last quoted minute. @default true */
  flattenAtClose: z.boolean().default(true),
  /**
   * Quantities in steps of 1e-6 share (like Alpaca fractional orders) instead of whole shares.
   * A 50 USD bankroll split 30 ways cannot buy one 170 USD SPY share otherwise. @default true
   */
  fractionalShares: z.boolean().default(true),
  /** Seed of the genome pool (32-bit unsigned integer). @default 1 */
  seed: numberField(NUMERIC_FIELDS.seed),
});

/** Validated cohort settings (every default filled in). */
export type CohortConfig = z.infer<typeof CohortConfigSchema>;

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (value === undefined) return 'nothing';
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) {
    return String(value);
  }
  return Array.isArray(value) ? 'an array' : typeof value;
}

function rangeText(name: NumericFieldName): string {
  const spec: NumericField = NUMERIC_FIELDS[name];
  const kind = spec.integer ? 'an integer ' : '';
  const unit = spec.unit ? ` ${spec.unit}` : '';
  return `must be ${kind}between ${spec.min} and ${spec.max}${unit}`;
}

/**
 * Parses and validates cohort settings, filling defaults.
 *
 * @param input untrusted value (event payload, CLI flags, stored JSON).
 * @returns the validated {@link CohortConfig}.
 * @throws ValidationError naming the first offending field and its allowed range, e.g.
 *   `bankrollUsd: must be between 50 and 100000 USD, got 20`.
 */
export function parseCohortConfig(input: unknown): CohortConfig {
  const parsed = CohortConfigSchema.safeParse(input);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  if (issue === undefined) throw new ValidationError('config', 'invalid cohort config');
  if (issue.code === 'unrecognized_keys') {
    const allowed = Object.keys(CohortConfigSchema.shape).join(', ');
    throw new ValidationError(
      issue.keys[0] ?? 'config',
      `unknown field; allowed fields: ${allowed}`,
    );
  }
  const field = issue.path.map(String).join('.') || 'config';
  const value =
    typeof input === 'object' && input !== null ? (input as Record<string, unknown>)[field] : input;
  if (field in NUMERIC_FIELDS) {
    throw new ValidationError(
      field,
      `${rangeText(field as NumericFieldName)}, got ${describe(value)}`,
    );
  }
  if (field === 'allocation') {
    throw new ValidationError(
      field,
      `must be one of ${ALLOCATION_POLICIES.map((p) => `'${p}'`).join(', ')}, got ${describe(value)}`,
    );
  }
  if (field === 'flattenAtClose' || field === 'fractionalShares') {
    throw new ValidationError(field, `must be a boolean, got ${describe(value)}`);
  }
  throw new ValidationError(field, `${issue.message}, got ${describe(value)}`);
}
