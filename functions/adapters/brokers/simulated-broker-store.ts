/**
 * Persistence of the simulated paper broker: the account (cash, positions, realized PnL, the
 * open-order index) and every order with its fills, on DynamoDB (the single table, shared by
 * every Lambda invocation). The in-memory double for tests and benches is
 * `test/support/doubles/memory-simulated-broker-store.ts`.
 *
 * Concurrency model: optimistic. Every record carries a `version`; {@link
 * SimulatedBrokerStore.commit} writes a set of records atomically, and only if each stored
 * version still equals the version the writer read (or, for a new record, if it does not exist
 * yet). A failed condition returns `{ ok: false }`: the broker re-reads and tries again. So two
 * concurrent submits of one client_order_id create one order, and two concurrent pollers never
 * book the same fill twice.
 */
import {
  BatchGetCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  TransactWriteCommand,
} from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import { TransientError, ValidationError } from '../../core/errors.js';
import type { DayTradeLedger } from '../../core/exchange/day-trades.js';
import type { ExchangeOrder } from '../../core/exchange/exchange-account.js';
import type { ExchangeFill } from '../../core/exchange/exchange-model.js';
import type { RegulatoryFeeAccrual } from '../../core/exchange/regulatory-fees.js';
import { ORDER_STATUSES } from '../../core/orders/order.js';
import { rethrowAws } from '../aws-errors.js';

/** One execution of a simulated order: THE exchange model's fill (`core/exchange`). */
export type SimFill = ExchangeFill;

/**
 * A stored simulated order: THE exchange account's order (`core/exchange/exchange-account.ts`:
 * the core Order entity's snapshot plus the exchange's bookkeeping) with its version.
 */
export interface SimOrderRecord extends ExchangeOrder {
  /** Optimistic-concurrency version, 1 on creation, +1 per write. */
  readonly version: number;
}

/** One symbol's position (weighted-average cost, as `functions/core/cohort/ledger.ts`). */
export interface SimPosition {
  readonly symbol: string;
  /** Signed shares: negative is short; 0 once closed (kept for its realized PnL). */
  readonly qty: number;
  /** Average entry price, USD per share; 0 when flat. */
  readonly avgEntryPriceUsd: number;
  /** Realized PnL of this symbol, gross of fees, USD. */
  readonly realizedPnlUsd: number;
}

/** The stored account. */
export interface SimAccountRecord {
  readonly version: number;
  readonly startingCashUsd: number;
  readonly cashUsd: number;
  /** Realized PnL over all symbols, gross of fees, USD. */
  readonly realizedPnlUsd: number;
  /** Commission paid over all fills and the daily regulatory-fee rounding, USD. */
  readonly feesUsd: number;
  readonly positions: Readonly<Record<string, SimPosition>>;
  /** client_order_ids of the orders not yet terminal (the open-order index). */
  readonly openClientOrderIds: readonly string[];
  /** Epoch ms UTC of the last write. */
  readonly updatedAtMs: number;
  /** Day trades and today's opened sides (pattern-day-trader count); absent before any fill. */
  readonly dayTradeLedger?: DayTradeLedger;
  /**
   * Regulatory fees accrued on the account's session date, charged rounded up to the cent once
   * that New York date is over (`core/exchange/regulatory-fees.ts`); absent or null: none.
   */
  readonly regulatoryFees?: RegulatoryFeeAccrual | null;
}

/** A conditional write of a record: `expectedVersion` null means "must not exist yet". */
export interface VersionedWrite<T> {
  readonly record: T;
  readonly expectedVersion: number | null;
}

/** An atomic set of writes (all or nothing). */
export interface SimCommit {
  readonly account?: VersionedWrite<SimAccountRecord>;
  /** Orders to write; creating one uses `expectedVersion: null`. */
  readonly orders: readonly VersionedWrite<SimOrderRecord>[];
}

/** Outcome of {@link SimulatedBrokerStore.commit}: `conflict` when a condition failed. */
export type SimCommitResult =
  | { readonly ok: true }
  | { readonly ok: false; readonly reason: 'conflict' };

/** Largest number of records one {@link SimCommit} may hold (DynamoDB transactions take 100). */
export const MAX_COMMIT_RECORDS = 100;

/**
 * Where the simulated broker keeps its state (one account per store instance).
 *
 * Errors: `TransientError` for throttling / 5xx / network faults of the backing store;
 * `ValidationError` when a stored record does not have the expected shape.
 */
export interface SimulatedBrokerStore {
  /** The account, or null before the first order. Strongly consistent. */
  loadAccount(): Promise<SimAccountRecord | null>;
  /** The order with this client_order_id, or null. Strongly consistent. */
  getOrder(clientOrderId: string): Promise<SimOrderRecord | null>;
  /** The orders among `clientOrderIds` that exist (any order). Strongly consistent. */
  getOrders(clientOrderIds: readonly string[]): Promise<SimOrderRecord[]>;
  /**
   * Writes every record of `commit` atomically, each only if its stored version equals its
   * `expectedVersion` (absent when null). Nothing is written when any condition fails.
   *
   * @throws ValidationError when the commit holds more than {@link MAX_COMMIT_RECORDS} records.
   */
  commit(commit: SimCommit): Promise<SimCommitResult>;
}

/**
 * Refuses a commit larger than one DynamoDB transaction (every store applies the same limit).
 *
 * @throws ValidationError('commit') when `commit` holds more than {@link MAX_COMMIT_RECORDS}
 *   records.
 */
export function checkCommitSize(commit: SimCommit): void {
  const size = commit.orders.length + (commit.account ? 1 : 0);
  if (size > MAX_COMMIT_RECORDS) {
    throw new ValidationError(
      'commit',
      `at most ${MAX_COMMIT_RECORDS} records per commit, got ${size}`,
    );
  }
}

// ---- DynamoDB ----------------------------------------------------------------------------

const finite = z.number().refine(Number.isFinite, 'must be a finite number');

const OrderSnapshotSchema = z.object({
  clientOrderId: z.string(),
  symbol: z.string(),
  side: z.enum(['buy', 'sell']),
  qty: finite,
  type: z.enum(['market', 'limit']),
  limitPriceUsd: finite.nullable(),
  timeInForce: z.enum(['day', 'gtc', 'opg', 'cls', 'ioc', 'fok']),
  status: z.enum(ORDER_STATUSES),
  filledQty: finite,
  avgFillPriceUsd: finite.nullable(),
  brokerOrderId: z.string().nullable(),
  statusBeforePending: z.enum(ORDER_STATUSES).nullable(),
  replacedByClientOrderId: z.string().nullable(),
  rejectReason: z.string().nullable(),
  createdAtMs: finite,
  updatedAtMs: finite,
});

const RegulatoryFeesSchema = z.object({ secUsd: finite, tafUsd: finite, catUsd: finite });

const SimFillSchema = z.object({
  minuteStartMs: finite,
  atMs: finite,
  qty: finite,
  priceUsd: finite,
  feeUsd: finite,
  regulatoryFeesUsd: RegulatoryFeesSchema.optional(),
});

const SimOrderRecordSchema = z.object({
  version: z.number().int().min(1),
  order: OrderSnapshotSchema,
  fillableAtMs: finite,
  processedThroughMs: finite,
  sessionDate: z.string(),
  reservedUsd: finite,
  feesUsd: finite,
  fills: z.array(SimFillSchema),
  heldReason: z.string().optional(),
});

const SimPositionSchema = z.object({
  symbol: z.string(),
  qty: finite,
  avgEntryPriceUsd: finite,
  realizedPnlUsd: finite,
});

const SimAccountRecordSchema = z.object({
  version: z.number().int().min(1),
  startingCashUsd: finite,
  cashUsd: finite,
  realizedPnlUsd: finite,
  feesUsd: finite,
  positions: z.record(z.string(), SimPositionSchema),
  openClientOrderIds: z.array(z.string()),
  updatedAtMs: finite,
  dayTradeLedger: z
    .object({
      dayTrades: z.array(z.object({ date: z.string(), symbol: z.string() })),
      openedToday: z.record(
        z.string(),
        z.object({ date: z.string(), side: z.enum(['long', 'short']) }),
      ),
    })
    .optional(),
  regulatoryFees: RegulatoryFeesSchema.extend({ date: z.string() }).nullable().optional(),
});

function parseStored<T>(schema: z.ZodType<T>, item: unknown, what: string): T {
  const parsed = schema.safeParse(item);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const field = issue?.path.map(String).join('.') || what;
  throw new ValidationError(`${what}.${field}`, `stored record is malformed: ${issue?.message}`);
}

const ACCOUNT_SK = 'ACCOUNT';
const orderSk = (clientOrderId: string) => `ORDER#${clientOrderId}`;
const BATCH_GET = 100;
const MAX_BATCH_ATTEMPTS = 8;

/**
 * {@link SimulatedBrokerStore} on the stagegate single table (`pk`/`sk` strings).
 *
 * Items, all in partition `pk = SIMBROKER#<accountId>`:
 * - `sk = ACCOUNT`: the {@link SimAccountRecord} (cash, positions, open-order index);
 * - `sk = ORDER#<clientOrderId>`: one {@link SimOrderRecord} per order, fills embedded (a day
 *   order has at most one fill per session minute: < 40 KB; a `gtc` order partially filled
 *   every minute for ten sessions approaches the 400 KB item limit).
 *
 * Commits are `TransactWriteItems` with `attribute_not_exists(pk)` for new items and
 * `version = :expected` for updates; a cancelled transaction (condition failed or a concurrent
 * transaction on the same item) is reported as a conflict. Reads are strongly consistent.
 * Throttling, 5xx and network faults become `TransientError`.
 */
export class DynamoSimulatedBrokerStore implements SimulatedBrokerStore {
  private readonly pk: string;

  /**
   * @param doc a DocumentClient (numbers round-trip exactly: JS doubles as decimal strings).
   * @param tableName the single table.
   * @param accountId the simulated account's id (partition key suffix); `[A-Za-z0-9_.-]+`.
   * @throws ValidationError('accountId') for an empty or ill-formed id.
   */
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
    accountId: string,
  ) {
    if (!/^[A-Za-z0-9_.-]{1,128}$/.test(accountId)) {
      throw new ValidationError('accountId', `must be 1-128 chars of [A-Za-z0-9_.-]`);
    }
    this.pk = `SIMBROKER#${accountId}`;
  }

  async loadAccount(): Promise<SimAccountRecord | null> {
    const item = await this.get(ACCOUNT_SK, 'load simulated account');
    return item ? parseStored(SimAccountRecordSchema, item, 'account') : null;
  }

  async getOrder(clientOrderId: string): Promise<SimOrderRecord | null> {
    const item = await this.get(orderSk(clientOrderId), `get simulated order ${clientOrderId}`);
    return item ? parseStored(SimOrderRecordSchema, item, 'order') : null;
  }

  async getOrders(clientOrderIds: readonly string[]): Promise<SimOrderRecord[]> {
    const unique = [...new Set(clientOrderIds)];
    const found = new Map<string, SimOrderRecord>();
    for (let i = 0; i < unique.length; i += BATCH_GET) {
      let keys: Record<string, unknown>[] = unique
        .slice(i, i + BATCH_GET)
        .map((id) => ({ pk: this.pk, sk: orderSk(id) }));
      for (let attempt = 0; keys.length > 0; attempt++) {
        if (attempt >= MAX_BATCH_ATTEMPTS) {
          throw new TransientError('unprocessed keys reading simulated orders');
        }
        if (attempt > 0) await new Promise((r) => setTimeout(r, 25 * 2 ** attempt));
        try {
          const out = await this.doc.send(
            new BatchGetCommand({
              RequestItems: { [this.tableName]: { Keys: keys, ConsistentRead: true } },
            }),
          );
          for (const item of out.Responses?.[this.tableName] ?? []) {
            const record = parseStored(SimOrderRecordSchema, item, 'order');
            found.set(record.order.clientOrderId, record);
          }
          keys = (out.UnprocessedKeys?.[this.tableName]?.Keys ?? []) as Record<string, unknown>[];
        } catch (err) {
          rethrowAws(err, 'read simulated orders');
        }
      }
    }
    return unique.flatMap((id) => {
      const record = found.get(id);
      return record ? [record] : [];
    });
  }

  async commit(commit: SimCommit): Promise<SimCommitResult> {
    checkCommitSize(commit);
    const put = (sk: string, record: { version: number }, expected: number | null) => ({
      Put: {
        TableName: this.tableName,
        Item: { pk: this.pk, sk, ...record },
        ...(expected === null
          ? { ConditionExpression: 'attribute_not_exists(pk)' }
          : {
              ConditionExpression: '#v = :v',
              ExpressionAttributeNames: { '#v': 'version' },
              ExpressionAttributeValues: { ':v': expected },
            }),
      },
    });
    const items = [
      ...(commit.account
        ? [put(ACCOUNT_SK, commit.account.record, commit.account.expectedVersion)]
        : []),
      ...commit.orders.map((w) =>
        put(orderSk(w.record.order.clientOrderId), w.record, w.expectedVersion),
      ),
    ];
    if (items.length === 0) return { ok: true };
    try {
      await this.doc.send(new TransactWriteCommand({ TransactItems: items }));
      return { ok: true };
    } catch (err) {
      if (isConflict(err)) return { ok: false, reason: 'conflict' };
      if (isThrottledTransaction(err)) {
        throw new TransientError('commit simulated broker state: throttled', { cause: err });
      }
      rethrowAws(err, 'commit simulated broker state');
    }
  }

  private async get(sk: string, what: string): Promise<Record<string, unknown> | undefined> {
    try {
      const out = await this.doc.send(
        new GetCommand({
          TableName: this.tableName,
          Key: { pk: this.pk, sk },
          ConsistentRead: true,
        }),
      );
      return out.Item;
    } catch (err) {
      rethrowAws(err, what);
    }
  }
}

/**
 * True for a transaction cancelled only by failed conditions or a concurrent transaction
 * (`ConditionalCheckFailed`, `TransactionConflict`); throttling or validation reasons are not
 * conflicts.
 */
function isConflict(err: unknown): boolean {
  const e = err as { name?: string; CancellationReasons?: { Code?: string }[] };
  if (e?.name === 'ConditionalCheckFailedException') return true;
  if (e?.name !== 'TransactionCanceledException') return false;
  const codes = (e.CancellationReasons ?? []).map((r) => r.Code ?? 'None');
  if (codes.length === 0) return true;
  return codes.every(
    (c) => c === 'None' || c === 'ConditionalCheckFailed' || c === 'TransactionConflict',
  );
}

/** True for a transaction cancelled because an item was throttled. */
function isThrottledTransaction(err: unknown): boolean {
  const e = err as { name?: string; CancellationReasons?: { Code?: string }[] };
  if (e?.name !== 'TransactionCanceledException') return false;
  return (e.CancellationReasons ?? []).some(
    (r) => r.Code === 'ThrottlingError' || r.Code === 'ProvisionedThroughputExceeded',
  );
}
