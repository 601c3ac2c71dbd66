/**
 * The partition patterns the IAM grants are limited to (`PARTITIONS`, `dynamodb:LeadingKeys`)
 * against the adapters that own the items: each adapter runs against a recording DynamoDB
 * client, and every partition key it reads or writes must match a granted pattern. A renamed
 * key prefix in an adapter fails here instead of as AccessDenied in AWS.
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { DynamoApprovalStore } from '../../functions/adapters/approval/dynamo-approval-store.js';
import { readStreamHead } from '../../functions/adapters/audit/stream-heads.js';
import {
  DynamoSimulatedBrokerStore,
  type SimAccountRecord,
} from '../../functions/adapters/brokers/simulated-broker-store.js';
import { DynamoCohortRepository } from '../../functions/adapters/dynamodb/cohort-repository.js';
import { DynamoGenomePoolRepository } from '../../functions/adapters/dynamodb/genome-pool-repository.js';
import { DynamoKillSwitch } from '../../functions/adapters/dynamodb/kill-switch.js';
import { DynamoMicroLiveRepository } from '../../functions/adapters/dynamodb/micro-live-repository.js';
import { DynamoPaperTrackRecord } from '../../functions/adapters/dynamodb/paper-track-record.js';
import { DynamoPlanStore } from '../../functions/adapters/dynamodb/plan-store.js';
import { DynamoPromotionRepository } from '../../functions/adapters/dynamodb/promotion-repository.js';
import { DynamoSessionBooks } from '../../functions/adapters/dynamodb/session-books.js';
import { createTaskTokenCipher } from '../../functions/core/approval/token-cipher.js';
import type { PlanRecord } from '../../functions/core/chatops/plan.js';
import { PARTITIONS } from '../../lib/config/naming.js';
import { GSI1 } from '../../lib/stacks/stateful-stack.js';
import { fakeDocumentClient } from '../support/doubles/document-client.js';

const TABLE = 'stagegate-test';
const ACCOUNT = 'paper-1';

interface Access {
  readonly command: string;
  readonly pk: string;
  readonly index?: string;
}

type Json = Record<string, unknown>;

/** A DocumentClient stand-in that records the partition key of every request. */
function recordingClient(): { doc: DynamoDBDocumentClient; accesses: Access[] } {
  const accesses: Access[] = [];
  const record = (command: string, key: unknown, index?: string) => {
    const pk = (key as Json | undefined)?.pk;
    if (typeof pk === 'string') accesses.push({ command, pk, index });
  };
  const send = async (cmd: { constructor: { name: string }; input: Json }) => {
    const name = cmd.constructor.name;
    const input = cmd.input;
    record(name, input.Key);
    record(name, input.Item);
    if (name === 'QueryCommand') {
      const values = input.ExpressionAttributeValues as Json;
      accesses.push({ command: name, pk: String(values[':pk']), index: input.IndexName as string });
      return { Items: [] };
    }
    if (name === 'BatchGetCommand') {
      const items = input.RequestItems as Record<string, { Keys: Json[] }>;
      for (const k of items[TABLE]?.Keys ?? []) record(name, k);
      return { Responses: { [TABLE]: [] } };
    }
    if (name === 'TransactWriteCommand') {
      for (const item of input.TransactItems as Json[]) {
        const op = (item.Put ?? item.Update ?? item.ConditionCheck ?? item.Delete) as Json;
        record(name, op.Item ?? op.Key);
      }
    }
    return {};
  };
  return { doc: fakeDocumentClient(send as never), accesses };
}

/** Runs `fn`, ignoring the not-found error (`NotFoundError`, `ApprovalNotFoundError`...) an empty table answers with. */
async function tolerate(fn: () => Promise<unknown>): Promise<void> {
  try {
    await fn();
  } catch (err) {
    if (!/NotFoundError$/.test((err as Error).name)) throw err;
  }
}

/**
 * Every table access the adapters behind the deployed functions make (representative calls
 * of each method; writes that need a valid domain record use the same key helpers as the
 * reads called here).
 */
async function pipelineAccesses(): Promise<Access[]> {
  const { doc, accesses } = recordingClient();
  const promotions = new DynamoPromotionRepository(doc, TABLE);
  await tolerate(() => promotions.get('pr-1'));
  await tolerate(() => promotions.setStatus('pr-1', 'submitted', 'test'));
  await promotions.listOrders('pr-1');
  await promotions.getBook(`simulated:${ACCOUNT}`);
  await promotions.saveBook(
    `simulated:${ACCOUNT}`,
    { cashUsd: 0, realizedPnlUsd: 0, feesUsd: 0, positions: {} },
    0,
  );
  // The paper session: every session's own book on the account.
  const sessionBooks = new DynamoSessionBooks(doc, TABLE);
  await sessionBooks.save(`simulated:${ACCOUNT}`, {
    promotionId: 'pr-1',
    date: '2013-10-08',
    symbol: 'SPY',
    qty: 0,
    avgPriceUsd: 0,
    openOrders: 0,
    openOrderNotionalUsd: 0,
    open: [],
    ticks: 1,
    done: false,
    updatedAtIso: '2013-10-08T14:00:00.000Z',
  });
  await sessionBooks.list(`simulated:${ACCOUNT}`, '2013-10-08');
  const track = new DynamoPaperTrackRecord(doc, TABLE);
  await track.append({
    genomeId: 'g-1',
    promotionId: 'pr-1',
    date: '2013-10-08',
    symbol: 'SPY',
    family: 'momentum',
    broker: `simulated:${ACCOUNT}`,
    capitalUsd: 100,
    paperPnlUsd: 1,
    referencePnlUsd: 1,
    parityDifferenceUsd: 0,
    parity: 'exact',
    dailyReturn: 0.01,
    filledOrders: 2,
    roundTrips: 1,
    cohortPnlUsd: 2,
    halt: null,
    reconciliationClean: true,
    recordedAtIso: '2013-10-08T20:05:00.000Z',
  });
  await track.list('g-1');
  const killSwitch = new DynamoKillSwitch(doc, TABLE);
  await killSwitch.read();
  // The plan (slash command, console, daily report): read, conditional put.
  const plans = new DynamoPlanStore(doc, TABLE);
  await plans.read();
  await plans.write({ planId: 'plan-1', status: 'active' } as PlanRecord, null);
  const store = new DynamoSimulatedBrokerStore(doc, TABLE, ACCOUNT);
  await store.loadAccount();
  await store.getOrder('coid-1');
  await store.getOrders(['coid-1', 'coid-2']);
  await store.commit({
    account: { record: { version: 1 } as SimAccountRecord, expectedVersion: null },
    orders: [],
  });
  const cohorts = new DynamoCohortRepository(doc, TABLE);
  await tolerate(() => cohorts.get('coh-1'));
  await cohorts.list(1);
  await readStreamHead(doc, TABLE, 'promotion:pr-1');
  // The cohort machine's run-cohort reads the genome pool.
  await new DynamoGenomePoolRepository(doc, TABLE).getCurrent('equity-usa');
  await new DynamoGenomePoolRepository(doc, TABLE).getCurrent('crypto');
  // The Day-3 functions: approval requests, micro-live slices, watched slices (gsi1).
  const approvals = new DynamoApprovalStore({
    doc,
    tableName: TABLE,
    cipher: createTaskTokenCipher(new Uint8Array(32).fill(7)),
  });
  await tolerate(() => approvals.getForDisplay('ap-1'));
  const microLive = new DynamoMicroLiveRepository(doc, TABLE);
  await tolerate(() => microLive.getSlice('ml-1'));
  await microLive.getMessageRef('ap-1');
  await microLive.listWatchedSlices();
  return accesses;
}

/** IAM `StringLike` semantics for the patterns used (`*` = any run of characters). */
function matches(pattern: string, value: string): boolean {
  const quote = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const regex = new RegExp(`^${pattern.split('*').map(quote).join('.*')}$`);
  return regex.test(value);
}

describe('table partitions granted to the functions', () => {
  it('cover every partition key the adapters read or write', async () => {
    // Prepare
    const patterns = [
      PARTITIONS.cohort,
      PARTITIONS.promotion,
      PARTITIONS.brokerBook,
      PARTITIONS.sessionBook,
      PARTITIONS.paperTrack,
      PARTITIONS.killSwitch,
      PARTITIONS.auditStream,
      PARTITIONS.genomePool,
      PARTITIONS.approval,
      PARTITIONS.microLive,
      PARTITIONS.plan,
      PARTITIONS.simulatedBroker(ACCOUNT),
    ];

    // Act
    const accesses = (await pipelineAccesses()).filter((a) => a.index === undefined);
    const uncovered = accesses.filter((a) => !patterns.some((p) => matches(p, a.pk)));
    const unused = patterns.filter((p) => !accesses.some((a) => matches(p, a.pk)));

    // Assess
    expect(accesses.length).toBeGreaterThan(10);
    expect(uncovered).toEqual([]);
    expect(unused).toEqual([]);
  });

  it('keeps the simulated broker inside its own account partition', async () => {
    // Prepare / Act
    const broker = (await pipelineAccesses()).filter((a) => a.pk.startsWith('SIMBROKER#'));

    // Assess
    expect(broker.length).toBeGreaterThan(0);
    expect(new Set(broker.map((a) => a.pk))).toEqual(new Set([`SIMBROKER#${ACCOUNT}`]));
    expect(broker.map((a) => a.command)).toContain('TransactWriteCommand');
  });

  it('queries no index but gsi1', async () => {
    // Prepare / Act
    const indexed = (await pipelineAccesses()).filter((a) => a.index !== undefined);

    // Assess
    expect(indexed.length).toBeGreaterThan(0);
    expect(new Set(indexed.map((a) => a.index))).toEqual(new Set([GSI1]));
  });
});
