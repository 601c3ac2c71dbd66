/**
 * The kill switch item's conditional release against real DynamoDB Local (local/servers.ts, in
 * memory): a put made over the switch as read (`DynamoKillSwitch.set` with a condition) is
 * refused by DynamoDB's `ConditionExpression` when another writer changed the item since, and
 * `KillSwitchChangedError` names that writer; an engage (unconditional) always lands. Then the
 * use case over the adapter: a release whose read is followed by another operator's engage
 * (forced by a port that engages right after the real read, never timed) is refused, the
 * engage and its `lastEngagedAtIso` stay in the table, and the refusal is recorded. A release
 * whose put DynamoDB applied but whose response was lost (the SDK's own retry then fails the
 * condition over the release itself) is reported and recorded as the release it is.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { describe, expect, it } from 'vitest';
import { DynamoKillSwitch } from '../../../functions/adapters/dynamodb/kill-switch.js';
import { KillSwitchChangedError } from '../../../functions/core/errors.js';
import { setKillSwitch } from '../../../functions/core/use-cases/kill-switch.js';
import type { BrokerPort } from '../../../functions/ports/broker.js';
import { ManualClock } from '../../../functions/ports/clock.js';
import type { KillSwitchPort, KillSwitchState } from '../../../functions/ports/kill-switch.js';
import { ensureTable, LOCAL_CREDENTIALS, LOCAL_REGION } from '../../../local/servers.js';
import { MemoryAuditSink } from '../../support/doubles/memory-audit-sink.js';
import { useLocalDynamo } from '../../support/local-dynamo.js';

const local = useLocalDynamo();
let tables = 0;

/** A fresh table (the switch is one item per table). */
async function freshTable(): Promise<string> {
  tables++;
  const table = `kill-switch-${tables}`;
  await ensureTable(local.client, table);
  return table;
}

const E1: KillSwitchState = {
  engaged: true,
  reason: 'broker outage',
  changedBy: 'cli:alice',
  changedAtIso: '2013-10-09T15:00:00.000Z',
  lastEngagedAtIso: '2013-10-09T15:00:00.000Z',
};
const E2: KillSwitchState = {
  engaged: true,
  reason: 'drawdown breaker',
  changedBy: 'slack:bob',
  changedAtIso: '2013-10-09T15:01:01.000Z',
  lastEngagedAtIso: '2013-10-09T15:01:01.000Z',
};
const RELEASE: KillSwitchState = {
  engaged: false,
  reason: 'broker back',
  changedBy: 'cli:alice',
  changedAtIso: '2013-10-09T15:01:02.000Z',
  lastEngagedAtIso: '2013-10-09T15:00:00.000Z',
};

describe('DynamoKillSwitch: a write conditional on the switch as read', () => {
  it('is refused by DynamoDB when another writer engaged since the read, naming that writer; the item keeps the engage', async () => {
    // Prepare: two writers on one table; alice reads E1, bob engages again
    const table = await freshTable();
    const alice = new DynamoKillSwitch(local.doc, table);
    const bob = new DynamoKillSwitch(local.doc, table);
    await alice.set(E1);
    const seen = await alice.read();
    await bob.set(E2);

    // Act
    const release = alice.set(RELEASE, { expected: seen });

    // Assess
    await expect(release).rejects.toThrow(KillSwitchChangedError);
    const err = (await release.catch((e: unknown) => e)) as KillSwitchChangedError;
    expect(err.expected).toEqual(E1);
    expect(err.found).toEqual(E2);
    expect(err.message).toContain('engaged by slack:bob at 2013-10-09T15:01:01.000Z');
    expect(await alice.read()).toEqual(E2);
  });

  it('expected null (no switch read) is refused once an item exists, and written while none does', async () => {
    // Prepare
    const table = await freshTable();
    const port = new DynamoKillSwitch(local.doc, table);

    // Act
    await port.set(RELEASE, { expected: null });
    const stored = await port.read();
    const again = port.set({ ...RELEASE, reason: 'again' }, { expected: null });

    // Assess
    expect(stored).toEqual(RELEASE);
    await expect(again).rejects.toThrow(/released by cli:alice at 2013-10-09T15:01:02.000Z/);
    expect(await port.read()).toEqual(RELEASE);
  });

  it('is written when the item is still the one read; an unconditional put always is', async () => {
    // Prepare
    const table = await freshTable();
    const port = new DynamoKillSwitch(local.doc, table);
    await port.set(E1);

    // Act
    await port.set(RELEASE, { expected: await port.read() });
    const afterRelease = await port.read();
    await port.set(E2);

    // Assess
    expect(afterRelease).toEqual(RELEASE);
    expect(await port.read()).toEqual(E2);
  });
});

describe('setKillSwitch over DynamoDB Local: a release racing an engage', () => {
  it('is refused and recorded; the table keeps the later engage and its lastEngagedAtIso', async () => {
    // Prepare: alice engaged; her release's read is followed by bob's engage (same table)
    const table = await freshTable();
    const clock = new ManualClock(Date.parse('2013-10-09T15:00:00Z'));
    const audit = new MemoryAuditSink(clock);
    const broker = { name: 'simulated', listOpenOrders: async () => [] } as unknown as BrokerPort;
    const stored = new DynamoKillSwitch(local.doc, table);
    const as = (killSwitch: KillSwitchPort) => ({
      killSwitch,
      audit,
      clock,
      environment: 'local' as const,
      broker,
    });
    await setKillSwitch(as(stored), { engaged: true, reason: 'broker outage', by: 'cli:alice' });
    clock.advance(61_000);
    const bobEngagesAfterTheRead: KillSwitchPort = {
      read: async () => {
        const seen = await stored.read();
        await setKillSwitch(as(new DynamoKillSwitch(local.doc, table)), {
          engaged: true,
          reason: 'drawdown breaker',
          by: 'slack:bob',
        });
        return seen;
      },
      set: (state, condition) => stored.set(state, condition),
    };

    // Act
    const release = setKillSwitch(as(bobEngagesAfterTheRead), {
      engaged: false,
      reason: 'broker back',
      by: 'cli:alice',
    });

    // Assess
    await expect(release).rejects.toThrow(/engaged by slack:bob at 2013-10-09T15:01:01.000Z/);
    expect(await stored.read()).toEqual({
      engaged: true,
      reason: 'drawdown breaker',
      changedBy: 'slack:bob',
      changedAtIso: '2013-10-09T15:01:01.000Z',
      lastEngagedAtIso: '2013-10-09T15:01:01.000Z',
    });
    const refusals = audit.records().filter((r) => r.kind === 'input_rejected');
    expect(refusals.map((r) => [r.actor, JSON.parse(r.payload).reason])).toEqual([
      ['cli:alice', 'changed_meanwhile'],
    ]);
  });
});

/** A request handler that lets DynamoDB apply the next PutItem, then loses its response. */
class LosesNextPutResponse extends NodeHttpHandler {
  toLose = 0;
  override async handle(request: Parameters<NodeHttpHandler['handle']>[0]) {
    const out = await super.handle(request);
    if (this.toLose > 0 && (request.headers['x-amz-target'] ?? '').endsWith('.PutItem')) {
      this.toLose -= 1;
      throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    }
    return out;
  }
}

describe('setKillSwitch over DynamoDB Local: a release whose response is lost', () => {
  it('is reported written when the SDK retry fails the condition over the release itself; its kill_switch_changed is recorded', async () => {
    // Prepare: a client whose handler loses the release's first PutItem response (the SDK
    // retries it, as the default client does)
    const handler = new LosesNextPutResponse();
    const lossy = new DynamoDBClient({
      endpoint: local.servers.dynamoEndpoint,
      region: LOCAL_REGION,
      credentials: LOCAL_CREDENTIALS,
      requestHandler: handler,
    });
    const table = await freshTable();
    const clock = new ManualClock(Date.parse('2013-10-09T15:00:00Z'));
    const audit = new MemoryAuditSink(clock);
    const broker = { name: 'simulated', listOpenOrders: async () => [] } as unknown as BrokerPort;
    const port = new DynamoKillSwitch(DynamoDBDocumentClient.from(lossy), table);
    const deps = { killSwitch: port, audit, clock, environment: 'local' as const, broker };
    await setKillSwitch(deps, { engaged: true, reason: 'broker outage', by: 'cli:alice' });
    clock.advance(60_000);
    handler.toLose = 1;

    // Act
    const out = await setKillSwitch(deps, {
      engaged: false,
      reason: 'broker back',
      by: 'cli:alice',
    }).finally(() => lossy.destroy());

    // Assess
    expect(handler.toLose).toBe(0);
    expect(out.state).toEqual(RELEASE_AT_1501);
    expect(await new DynamoKillSwitch(local.doc, table).read()).toEqual(RELEASE_AT_1501);
    const kinds = audit.records().map((r) => [r.kind, JSON.parse(r.payload).engaged]);
    expect(kinds.filter(([kind]) => kind !== 'rollback')).toEqual([
      ['kill_switch_changed', true],
      ['kill_switch_changed', false],
    ]);
  });

  it('still names the writer when the condition fails over another write (the item comes back with the failure)', async () => {
    // Prepare
    const table = await freshTable();
    const port = new DynamoKillSwitch(local.doc, table);
    await port.set(E2);

    // Act
    const release = port.set(RELEASE, { expected: E1 });

    // Assess
    const err = (await release.catch((e: unknown) => e)) as KillSwitchChangedError;
    expect(err).toBeInstanceOf(KillSwitchChangedError);
    expect(err.found).toEqual(E2);
    expect(await port.read()).toEqual(E2);
  });
});

const RELEASE_AT_1501: KillSwitchState = {
  engaged: false,
  reason: 'broker back',
  changedBy: 'cli:alice',
  changedAtIso: '2013-10-09T15:01:00.000Z',
  lastEngagedAtIso: '2013-10-09T15:00:00.000Z',
};
