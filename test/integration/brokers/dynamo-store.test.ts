/**
 * The simulated broker's DynamoDB store against real DynamoDB Local (in memory): conditional
 * transactional writes make concurrent submits of one client_order_id create one order and
 * concurrent pollers book a fill once; a new broker instance over the same table (a restart,
 * another Lambda) sees the earlier orders.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SimulatedPaperBroker } from '../../../functions/adapters/brokers/simulated-broker.js';
import {
  DynamoSimulatedBrokerStore,
  type SimOrderRecord,
} from '../../../functions/adapters/brokers/simulated-broker-store.js';
import { fillMarketOrder } from '../../../functions/core/cohort/fill-model.js';
import { ValidationError } from '../../../functions/core/errors.js';
import type { BrokerOrderRequest } from '../../../functions/ports/broker.js';
import { ManualClock } from '../../../functions/ports/clock.js';
import {
  ensureTable,
  LOCAL_CREDENTIALS,
  LOCAL_REGION,
  type LocalServers,
  startLocalServers,
} from '../../../local/servers.js';
import {
  COSTS,
  DATE,
  FakeMarketData,
  FLAT,
  minute,
  OPEN,
  session,
} from '../../unit/brokers/fixtures.js';

const TABLE = 'stagegate-brokers-it';

let servers: LocalServers;
let client: DynamoDBClient;
let doc: DynamoDBDocumentClient;

beforeAll(async () => {
  servers = await startLocalServers({ dataDir: 'memory', buckets: [] });
  client = new DynamoDBClient({
    endpoint: servers.dynamoEndpoint,
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
  });
  await ensureTable(client, TABLE);
  doc = DynamoDBDocumentClient.from(client, {
    marshallOptions: { removeUndefinedValues: true },
  });
});

afterAll(async () => {
  client?.destroy();
  await servers?.stop();
});

const marketData = new FakeMarketData().add(session('SPY', DATE, OPEN, FLAT));

function broker(accountId: string, clock: ManualClock): SimulatedPaperBroker {
  return new SimulatedPaperBroker({
    store: new DynamoSimulatedBrokerStore(doc, TABLE, accountId),
    marketData,
    clock,
    config: {
      startingCashUsd: 10_000,
      participationFraction: 1,
      latencyMs: 0,
      costs: COSTS,
      fractionalShares: true,
    },
  });
}

const order = (overrides: Partial<BrokerOrderRequest> = {}): BrokerOrderRequest => ({
  clientOrderId: 'sg_dyn_1',
  symbol: 'SPY',
  side: 'buy',
  qty: 10,
  type: 'market',
  timeInForce: 'day',
  ...overrides,
});

describe('DynamoSimulatedBrokerStore on DynamoDB Local', () => {
  it('two concurrent submits of one client_order_id create one order', async () => {
    // Prepare: two broker instances (two Lambdas) on the same account
    const clock = new ManualClock(minute(0));
    const a = broker('acct-concurrent', clock);
    const b = broker('acct-concurrent', clock);

    // Act
    const results = await Promise.all([
      a.submitOrder(order()),
      b.submitOrder(order()),
      a.submitOrder(order()),
    ]);
    const store = new DynamoSimulatedBrokerStore(doc, TABLE, 'acct-concurrent');
    const account = await store.loadAccount();

    // Assess
    expect(results.filter((r) => !r.duplicate)).toHaveLength(1);
    expect(new Set(results.map((r) => r.order.brokerOrderId)).size).toBe(1);
    expect(account?.openClientOrderIds).toEqual(['sg_dyn_1']);
    expect(await a.listOpenOrders()).toHaveLength(1);
  });

  it('a new broker instance over the same table sees the order and books its fill once', async () => {
    // Prepare
    const clock = new ManualClock(minute(0));
    const before = broker('acct-restart', clock);
    const { order: submitted } = await before.submitOrder(order());
    const expected = fillMarketOrder({ side: 'buy', qty: 10 }, { bid: 100, ask: 100.1 }, COSTS);

    // Act: restart, then two instances poll concurrently after the minute ended
    const restarted = broker('acct-restart', clock);
    const seen = await restarted.getOrderByClientOrderId('sg_dyn_1');
    clock.set(minute(1));
    const [p1, p2] = await Promise.all([
      restarted.getOrderByClientOrderId('sg_dyn_1'),
      broker('acct-restart', clock).getOrderByClientOrderId('sg_dyn_1'),
    ]);
    const ledger = await broker('acct-restart', clock).getLedger();

    // Assess
    expect(seen).toEqual(submitted);
    expect(p1?.status).toBe('filled');
    expect(p2?.status).toBe('filled');
    expect(p1?.filledAvgPriceUsd).toBeCloseTo(expected?.priceUsd ?? 0, 12);
    expect(p1?.feesUsd).toBe(expected?.feeUsd);
    expect(ledger.positions).toHaveLength(1);
    expect(ledger.positions[0]?.qty).toBe(10);
    expect(ledger.cashUsd).toBeCloseTo(10_000 - 10 * (expected?.priceUsd ?? 0) - 0.1, 9);
    expect(await restarted.getFills('sg_dyn_1')).toHaveLength(1);
  });

  it('refuses a stale version and keeps accounts apart', async () => {
    // Prepare
    const clock = new ManualClock(minute(0));
    await broker('acct-a', clock).submitOrder(order({ clientOrderId: 'sg_dyn_a' }));
    const store = new DynamoSimulatedBrokerStore(doc, TABLE, 'acct-a');
    const stored = (await store.getOrder('sg_dyn_a')) as SimOrderRecord;

    // Act
    const stale = await store.commit({
      orders: [{ record: { ...stored, version: 5 }, expectedVersion: stored.version + 3 }],
    });
    const create = await store.commit({ orders: [{ record: stored, expectedVersion: null }] });
    const fresh = await store.commit({
      orders: [
        { record: { ...stored, version: stored.version + 1 }, expectedVersion: stored.version },
      ],
    });
    const other = await new DynamoSimulatedBrokerStore(doc, TABLE, 'acct-b').getOrder('sg_dyn_a');

    // Assess
    expect(stale).toEqual({ ok: false, reason: 'conflict' });
    expect(create).toEqual({ ok: false, reason: 'conflict' });
    expect(fresh).toEqual({ ok: true });
    expect((await store.getOrder('sg_dyn_a'))?.version).toBe(stored.version + 1);
    expect(other).toBeNull();
    expect(() => new DynamoSimulatedBrokerStore(doc, TABLE, 'bad id')).toThrow(ValidationError);
  });
});
