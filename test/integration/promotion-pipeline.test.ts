import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildPaperSessionDeps } from '../../functions/composition/paper-session.js';
import { buildPromotionDeps } from '../../functions/composition/promotion.js';
import { makeDocumentClient } from '../../functions/composition/runtime.js';
import { CODE_VERSION } from '../../functions/config/code-version.js';
import { decisionProvenance } from '../../functions/core/audit/record.js';
import { readPaperTrackRecord } from '../../functions/core/paper/track-record.js';
import { setKillSwitch } from '../../functions/core/use-cases/kill-switch.js';
import type { PromotionDeps } from '../../functions/core/use-cases/promotion.js';
import { evaluatePromotionGates } from '../../functions/core/use-cases/promotion-gates.js';
import { submitPromotionOrders } from '../../functions/core/use-cases/promotion-orders.js';
import { stagePromotion } from '../../functions/core/use-cases/promotion-stage.js';
import type { BrokerPort } from '../../functions/ports/broker.js';
import { LOCAL_TABLE, type LocalStack, startLocalStack } from '../../local/local-stack.js';
import { LOCAL_CREDENTIALS } from '../../local/servers.js';
import { readAuditObjects } from '../support/audit.js';
import { runTestCohort } from '../support/cohort.js';
import { DATA_ROOT } from '../support/paths.js';

let stack: LocalStack;
let cohortId: string;
/**
 * 09:55 New York on 2013-10-08: five minutes before the promotion window opens. Each test
 * sets the local clock (the one the handlers read and the Wait states advance).
 */
const REPLAY_START = '2013-10-08T13:55:00.000Z';

beforeAll(async () => {
  stack = await startLocalStack({ dataRoot: DATA_ROOT, stateDir: 'memory', logLevel: 'SILENT' });
  cohortId = await runTestCohort(stack, {
    sessionDate: '2013-10-07',
    executionName: 'it-pipeline-cohort',
  });
});

afterAll(async () => {
  await stack?.stop();
});

async function auditOf(stream: string): Promise<Array<Record<string, unknown>>> {
  return (await readAuditObjects(stack.servers.s3Endpoint)).filter((r) => r.stream === stream);
}

/** `payload.provenance` of each record. */
function provenanceOf(records: Array<Record<string, unknown>>) {
  return records.map(
    (r) =>
      (JSON.parse(String(r.payload)) as { provenance?: Record<string, string> }).provenance ?? {},
  );
}

/** client_order_ids the simulated broker holds for a promotion (its own persisted state). */
async function brokerOrderIds(promotionId: string): Promise<string[]> {
  const doc = makeDocumentClient(
    {
      DYNAMODB_ENDPOINT: stack.servers.dynamoEndpoint,
      AWS_REGION: 'us-east-1',
    },
    LOCAL_CREDENTIALS,
  );
  const out = await doc.send(
    new QueryCommand({
      TableName: LOCAL_TABLE,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :o)',
      ExpressionAttributeValues: { ':pk': 'SIMBROKER#local-paper', ':o': 'ORDER#' },
    }),
  );
  return (out.Items ?? [])
    .map((i) => String(i.sk).slice('ORDER#'.length))
    .filter((id) => id.includes(promotionId));
}

describe('promotion pipeline', () => {
  it("stages, waits for the window, passes the gates, trades the strategy's own signals through the paper session and reconciles clean", async () => {
    // Act
    stack.clock.set(Date.parse(REPLAY_START));
    const result = await stack.promotionPipeline.execute(
      { source: 'test', cohortId },
      { executionName: 'it-promo-happy' },
    );

    // Assess: path through the window wait and the poll loop
    expect(result.status).toBe('SUCCEEDED');
    expect(result.output).toMatchObject({ outcome: 'promoted' });
    expect(result.path).toEqual(
      expect.arrayContaining([
        'StageCandidate',
        'WaitForWindow',
        'EvaluateGates',
        'PaperSession',
        'Reconcile',
        'RecordPromoted',
      ]),
    );
    expect(result.path.indexOf('WaitForWindow')).toBeLessThan(result.path.indexOf('EvaluateGates'));
    const gates = (
      result.stateOutputs.EvaluateGates as {
        gates: { results: { gate: string; verdict: string }[] };
      }
    ).gates;
    // The 16 order-time gates pass, then the daily baseline gate (a challenger that never
    // paper-traded) is not judged yet: not a pass, and it does not block the promotion
    expect(gates.results).toHaveLength(17);
    expect(gates.results.at(-1)).toMatchObject({ gate: 'baseline', verdict: 'not_judged' });
    expect(gates.results.slice(0, -1).every((r) => r.verdict === 'pass')).toBe(true);
    const rec = (result.stateOutputs.Reconcile as { reconciliation: { clean: boolean } })
      .reconciliation;
    expect(rec.clean).toBe(true);

    // Assess: the broker holds exactly the session's orders (one per client_order_id), all
    // terminal, and the session's PnL equals its reference simulation to the cent
    const promotionId = (result.output as { promotionId: string }).promotionId;
    const session = (
      result.stateOutputs.PaperSession as {
        session: {
          output: {
            orders: { clientOrderId: string; status: string; filledQty: number; qty: number }[];
            parity: { differenceUsd: number };
            reconciliation: { clean: boolean; bookQty: number };
          };
        };
      }
    ).session.output;
    expect((await brokerOrderIds(promotionId)).sort()).toEqual(
      session.orders.map((o) => o.clientOrderId).sort(),
    );
    for (const o of session.orders) expect(['filled', 'canceled']).toContain(o.status);
    expect(Math.round(session.parity.differenceUsd * 100)).toBe(0);
    expect(session.reconciliation).toMatchObject({ clean: true, bookQty: 0 });

    // Assess: the session's result is in the genome's paper track record
    const promotionDeps = buildPromotionDeps(stack.runtime);
    const staged = await promotionDeps.promotions.get(promotionId);
    const track = await readPaperTrackRecord(
      buildPaperSessionDeps(stack.runtime, promotionDeps).trackRecord,
      staged.genome.id,
    );
    const mine = track.sessions.filter((x) => x.promotionId === promotionId);
    expect(mine).toHaveLength(1);
    expect(mine[0]).toMatchObject({
      genomeId: staged.genome.id,
      parity: 'exact',
      reconciliationClean: true,
      capitalUsd: staged.capitalSliceUsd,
      filledOrders: session.orders.filter((o) => o.filledQty > 0).length,
    });
    expect(mine[0]?.dailyReturn).toBeCloseTo(
      (mine[0]?.paperPnlUsd ?? Number.NaN) / staged.capitalSliceUsd,
      12,
    );

    // Assess: every decision is in the promotion's audit stream, in order
    const kinds = (await auditOf(`promotion:${promotionId}`)).map((r) => r.kind);
    expect(kinds[0]).toBe('promotion_staged');
    expect(kinds.filter((k) => k === 'gate_evaluated')).toHaveLength(17);
    // The audit record keeps the baseline gate as not judged (never a pass)
    const gatePayloads = (await auditOf(`promotion:${promotionId}`))
      .filter((r) => r.kind === 'gate_evaluated')
      .map((r) => JSON.parse(String(r.payload)) as { gate: string; verdict: string });
    expect(gatePayloads.find((p) => p.gate === 'baseline')).toMatchObject({
      verdict: 'not_judged',
    });
    expect(kinds).toEqual(
      expect.arrayContaining(['paper_decision', 'paper_session_completed', 'reconciliation']),
    );
    expect(kinds.at(-1)).toBe('promotion_completed');

    // Assess: every record names the build that wrote it; the gate verdicts name the hashes of
    // the thresholds and of the inputs they rest on (one evaluation: one pair)
    const stream = await auditOf(`promotion:${promotionId}`);
    expect(CODE_VERSION).not.toBe('unbuilt');
    for (const p of provenanceOf(stream)) expect(p.code_version).toBe(CODE_VERSION);
    const gateProvenance = provenanceOf(stream.filter((r) => r.kind === 'gate_evaluated'));
    const thresholds = buildPromotionDeps(stack.runtime).gateThresholds;
    expect(new Set(gateProvenance.map((p) => p.config_hash))).toEqual(
      new Set([decisionProvenance(thresholds, null).config_hash]),
    );
    expect(new Set(gateProvenance.map((p) => p.data_hash)).size).toBe(1);
    expect(gateProvenance[0]?.data_hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('records an expired promotion when the window has closed', async () => {
    // 15:45 New York: after the 15:30 close (another session than the other tests: a promotion
    // id is per candidate and session)
    stack.clock.set(Date.parse('2013-10-14T19:45:00.000Z'));
    const result = await stack.promotionPipeline.execute(
      { source: 'test', cohortId },
      { executionName: 'it-promo-late' },
    );
    expect(result.status).toBe('SUCCEEDED');
    expect(result.output).toMatchObject({ outcome: 'window_expired' });
    expect(result.path).not.toContain('PaperSession');
  });

  it('with the kill switch on: the gates fail, no order reaches the broker, the halt is recorded', async () => {
    // Prepare
    const deps = buildPromotionDeps(stack.runtime);
    const broker = deps.brokerAt(Date.parse(REPLAY_START));
    await setKillSwitch(
      {
        killSwitch: deps.killSwitch,
        audit: deps.audit,
        clock: deps.clock,
        environment: 'local',
        broker,
      },
      { engaged: true, reason: 'integration test', by: 'test:operator' },
    );
    try {
      // Act
      // A session with no bars (2013-10-15): the kill switch fails its gate regardless
      stack.clock.set(Date.parse('2013-10-15T13:55:00.000Z'));
      const result = await stack.promotionPipeline.execute(
        { source: 'test', cohortId },
        { executionName: 'it-promo-killed' },
      );

      // Assess
      expect(result.status).toBe('SUCCEEDED');
      expect(result.output).toMatchObject({ outcome: 'gates_failed' });
      expect((result.output as { reason: string }).reason).toMatch(/kill_switch/);
      expect(result.path).not.toContain('PaperSession');
      const promotionId = (result.output as { promotionId: string }).promotionId;
      expect(await brokerOrderIds(promotionId)).toHaveLength(0);
      const halt = await auditOf('kill-switch:global');
      expect(halt.map((r) => r.kind)).toEqual(
        expect.arrayContaining(['kill_switch_changed', 'rollback']),
      );
      // Same thresholds, other inputs (the switch, no bars): same config hash, other data hash
      const gates = provenanceOf(
        (await auditOf(`promotion:${promotionId}`)).filter((r) => r.kind === 'gate_evaluated'),
      );
      const happy = provenanceOf(
        (await readAuditObjects(stack.servers.s3Endpoint)).filter(
          (r) => r.kind === 'gate_evaluated' && r.stream !== `promotion:${promotionId}`,
        ),
      );
      expect(gates[0]?.config_hash).toBe(decisionProvenance(deps.gateThresholds, null).config_hash);
      expect(happy.map((p) => p.data_hash)).not.toContain(gates[0]?.data_hash);
    } finally {
      await setKillSwitch(
        {
          killSwitch: deps.killSwitch,
          audit: deps.audit,
          clock: deps.clock,
          environment: 'local',
          broker,
        },
        { engaged: false, reason: 'integration test done', by: 'test:operator' },
      );
    }
  });

  it('submission fails closed when the kill switch engages between the gates and the order', async () => {
    // Prepare: stage and pass the gates, then engage the switch
    const deps = buildPromotionDeps(stack.runtime);
    stack.clock.set(Date.parse('2013-10-09T14:05:00.000Z'));
    const staged = await stagePromotion(deps, {
      request: { source: 'test', cohortId },
      executionName: 'it-promo-race',
      executionId: 'arn:local:it-promo-race',
    });
    if (staged.skipped) throw new Error(`not staged: ${staged.reason}`);
    const { promotion } = staged;
    const gates = await evaluatePromotionGates(deps, { promotion });
    expect(gates.passed).toBe(true);
    const broker = deps.brokerAt(Date.parse('2013-10-09T14:05:00.000Z'));
    const ks = {
      killSwitch: deps.killSwitch,
      audit: deps.audit,
      clock: deps.clock,
      environment: 'local' as const,
      broker,
    };
    await setKillSwitch(ks, { engaged: true, reason: 'race', by: 'test:operator' });
    try {
      // Act + Assess
      await expect(submitPromotionOrders(deps, { promotion, plan: gates.plan })).rejects.toThrow(
        expect.objectContaining({ name: 'KillSwitchEngagedError' }),
      );
      expect(await brokerOrderIds(promotion.promotionId)).toHaveLength(0);
    } finally {
      await setKillSwitch(ks, { engaged: false, reason: 'race done', by: 'test:operator' });
    }
  });

  it('crash after the broker accepted but before we recorded: a rerun leaves exactly one order per leg', async () => {
    // Prepare: a broker that "crashes" right after the broker accepted the order
    const deps = buildPromotionDeps(stack.runtime);
    stack.clock.set(Date.parse('2013-10-10T14:10:00.000Z'));
    const staged = await stagePromotion(deps, {
      request: { source: 'test', cohortId },
      executionName: 'it-promo-crash',
      executionId: 'arn:local:it-promo-crash',
    });
    if (staged.skipped) throw new Error(`not staged: ${staged.reason}`);
    const { promotion } = staged;
    const gates = await evaluatePromotionGates(deps, { promotion });
    const crashing: PromotionDeps = {
      ...deps,
      brokerAt: (now) => {
        const real = deps.brokerAt(now);
        const wrapped: BrokerPort = Object.create(real) as BrokerPort;
        return Object.assign(wrapped, {
          name: real.name,
          submitOrder: async (req: Parameters<BrokerPort['submitOrder']>[0]) => {
            await real.submitOrder(req);
            throw new Error('process crashed after the broker accepted the order');
          },
        });
      },
    };

    // Act: first run crashes, second run (a Step Functions retry or a restart) completes
    await expect(submitPromotionOrders(crashing, { promotion, plan: gates.plan })).rejects.toThrow(
      /crashed/,
    );
    const second = await submitPromotionOrders(deps, { promotion, plan: gates.plan });

    // Assess
    expect(gates.plan.length).toBeGreaterThan(0);
    expect(second.orders).toHaveLength(gates.plan.length);
    expect(await brokerOrderIds(promotion.promotionId)).toHaveLength(gates.plan.length);
    const tracked = await deps.promotions.listOrders(promotion.promotionId);
    expect(tracked.map((o) => o.order.clientOrderId).sort()).toEqual(
      (await brokerOrderIds(promotion.promotionId)).sort(),
    );
  });

  it('a scheduled run with no earlier complete cohort records a skip, not a failure', async () => {
    // 2013-10-07 is the cohort's own session: promoting it then would be look-ahead
    stack.clock.set(Date.parse('2013-10-07T14:00:00.000Z'));
    const result = await stack.promotionPipeline.execute(
      { source: 'schedule' },
      { executionName: 'it-promo-nothing' },
    );
    expect(result.status).toBe('SUCCEEDED');
    expect(result.output).toMatchObject({ skipped: true });
    expect((await auditOf('execution:it-promo-nothing')).map((r) => r.kind)).toEqual([
      'schedule_skipped',
    ]);
  });

  it('a scheduled run never takes a cohort older than the preceding session: a recorded skip names why', async () => {
    // The only cohort is of 2013-10-07; on 2013-10-11 the preceding session is 2013-10-10
    stack.clock.set(Date.parse('2013-10-11T13:55:00.000Z'));
    const result = await stack.promotionPipeline.execute(
      { source: 'schedule' },
      { executionName: 'it-promo-scheduled' },
    );
    expect(result.status).toBe('SUCCEEDED');
    expect(result.output).toMatchObject({ skipped: true });
    expect(JSON.stringify(result.output)).toContain(`${cohortId} is of 2013-10-07`);
    expect(JSON.stringify(result.output)).toContain('2013-10-10');
    expect(result.path).not.toContain('EvaluateGates');
    expect((await auditOf('execution:it-promo-scheduled')).map((r) => r.kind)).toEqual([
      'schedule_skipped',
    ]);
  });

  it('an unknown cohort fails with a named error and is recorded as a rejected input', async () => {
    stack.clock.set(Date.parse(REPLAY_START));
    const result = await stack.promotionPipeline.execute(
      { source: 'test', cohortId: 'coh-does-not-exist' },
      { executionName: 'it-promo-unknown' },
    );
    expect(result.status).toBe('FAILED');
    expect(result.error).toBe('NotFoundError');
    expect(result.path).toContain('RecordRejection');
    const rejected = await auditOf('execution:it-promo-unknown');
    expect(rejected.map((r) => r.kind)).toEqual(['input_rejected']);
  });
});
