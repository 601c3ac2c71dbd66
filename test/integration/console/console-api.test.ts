/**
 * Contract tests of the console API on the local console server (the same handler code as
 * API Gateway): pagination and filters, the cohort and promotion documents, CSV columns,
 * problem+json errors, role checks and CSRF on every write, and the audit of every refusal.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditRecords } from '../day3/support.js';
import { type ConsoleFixture, startConsoleFixture } from './support.js';

let fx: ConsoleFixture;

beforeAll(async () => {
  fx = await startConsoleFixture('it-console');
}, 240_000);

afterAll(async () => {
  await fx?.stop();
});

const CSRF = 'csrf-test-token-0123456789';

async function call(
  path: string,
  options: {
    readonly as?: string | null;
    readonly method?: string;
    readonly body?: unknown;
    readonly csrf?: string | null;
    /** The `Idempotency-Key` header, absent when not given. */
    readonly idempotencyKey?: string;
  } = {},
): Promise<Response> {
  const headers: Record<string, string> = {};
  if (options.idempotencyKey) headers['idempotency-key'] = options.idempotencyKey;
  const as = options.as === undefined ? 'vera' : options.as;
  if (as) headers.authorization = `Bearer ${fx.users.tokenFor(as)}`;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  if (options.csrf !== null) {
    headers['x-csrf-token'] = options.csrf ?? CSRF;
    headers.cookie = `stagegate_csrf=${CSRF}`;
  }
  return fetch(new URL(path, fx.server.url), {
    method: options.method ?? 'GET',
    headers,
    ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
  });
}

async function refusals(): Promise<Array<Record<string, unknown>>> {
  return (await auditRecords(fx.stack))
    .filter((r) => r.stream === 'console:refusals')
    .map((r) => ({ actor: r.actor, ...r.payload }));
}

describe('reads', () => {
  it('lists cohorts newest first, page by page, and filters by date and bankroll', async () => {
    const first = await call('/api/cohorts?limit=1');
    expect(first.status).toBe(200);
    const page1 = (await first.json()) as { items: { cohortId: string }[]; nextCursor: string };
    expect(page1.items.map((c) => c.cohortId)).toEqual([fx.cohortIds[1]]);
    expect(page1.nextCursor).toEqual(expect.any(String));
    const page2 = (await (
      await call(`/api/cohorts?limit=1&cursor=${encodeURIComponent(page1.nextCursor)}`)
    ).json()) as { items: { cohortId: string }[] };
    expect(page2.items.map((c) => c.cohortId)).toEqual([fx.cohortIds[0]]);

    const byDate = (await (await call('/api/cohorts?date=2013-10-07')).json()) as {
      items: { cohortId: string; sessionDate: string }[];
    };
    expect(byDate.items.map((c) => c.cohortId)).toEqual([fx.cohortIds[0]]);
    const byBankroll = (await (await call('/api/cohorts?bankroll=2000')).json()) as {
      items: { cohortId: string; bankrollUsd: number }[];
    };
    expect(byBankroll.items.map((c) => [c.cohortId, c.bankrollUsd])).toEqual([
      [fx.cohortIds[1], 2000],
    ]);
  });

  it('answers a bad filter with problem+json naming the parameter', async () => {
    const res = await call('/api/cohorts?date=2013-13-40');
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    expect(await res.json()).toMatchObject({ status: 400, field: 'query.date' });
    const cursor = await call('/api/cohorts?cursor=not-a-cursor');
    expect(await cursor.json()).toMatchObject({ status: 400, field: 'query.cursor' });
    const missing = await call('/api/cohorts/no-such-cohort');
    expect(missing.status).toBe(404);
  });

  it('returns a cohort with its leaderboard, parent and agent curves, and an agent drill-down', async () => {
    const res = await call(`/api/cohorts/${fx.cohortIds[0]}`);
    expect(res.status).toBe(200);
    const doc = (await res.json()) as {
      cohort: { bankrollUsd: number };
      leaderboard: { rank: number; agentId: string }[];
      curves: { parent: { equity: [number, number][] }; agents: { agentId: string }[] };
    };
    expect(doc.cohort.bankrollUsd).toBe(1000);
    expect(doc.leaderboard).toHaveLength(30);
    expect(doc.leaderboard.map((r) => r.rank)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    expect(doc.curves.parent.equity.length).toBeGreaterThan(300);
    expect(doc.curves.parent.equity[0]?.[1]).toBeCloseTo(1000, 0);
    expect(doc.curves.agents.map((a) => a.agentId)).toEqual(
      doc.leaderboard.slice(0, 10).map((r) => r.agentId),
    );
    // PSR/DSR per agent on its minute returns; deflating for the cohort's trials never raises it.
    const inferred = doc.leaderboard as unknown as { psr: number | null; dsr: number | null }[];
    const both = inferred.filter((r) => r.psr !== null && r.dsr !== null);
    expect(both.length).toBeGreaterThan(0);
    for (const r of both) {
      expect(r.psr).toBeGreaterThanOrEqual(0);
      expect(r.psr).toBeLessThanOrEqual(1);
      expect(r.dsr as number).toBeLessThanOrEqual((r.psr as number) + 1e-12);
    }
    const best = doc.leaderboard[0]?.agentId as string;
    const agent = (await (await call(`/api/cohorts/${fx.cohortIds[0]}/agents/${best}`)).json()) as {
      row: { agentId: string };
      equity: unknown[];
      fills: unknown[];
    };
    expect(agent.row.agentId).toBe(best);
    expect(agent.equity.length).toBeGreaterThan(300);
    expect(Array.isArray(agent.fills)).toBe(true);
  });

  it('returns a promotion with its gate table (observed vs threshold) and orders', async () => {
    const list = (await (await call('/api/promotions')).json()) as {
      items: { promotionId: string }[];
    };
    expect(list.items.map((p) => p.promotionId)).toContain(fx.promotionId);
    const doc = (await (await call(`/api/promotions/${fx.promotionId}`)).json()) as {
      gates: { gate: string; verdict: string; observed: unknown; threshold: unknown }[];
      orders: { clientOrderId: string }[];
    };
    // The 16 order-time gates and the daily baseline gate
    expect(doc.gates.length).toBe(17);
    expect(doc.gates.at(-1)?.gate).toBe('baseline');
    for (const g of doc.gates) expect(['pass', 'fail', 'not_judged']).toContain(g.verdict);
    // A challenger without paper sessions: its daily baseline gate is not judged (not a pass)
    expect(doc.gates.at(-1)?.verdict).toBe('not_judged');
    expect(doc.gates.map((g) => g.gate)).toContain('kill_switch');
  });

  it('lists the pending approval without its task token', async () => {
    const res = await call('/api/approvals?status=pending');
    const text = await res.text();
    expect(res.status).toBe(200);
    expect(text).toContain(fx.approvalId);
    expect(text).not.toMatch(/taskToken|console-test-/);
  });

  it('returns audit records filtered by kind with the hash-chain status', async () => {
    const res = await call('/api/audit?kind=gate_evaluated&limit=5');
    const doc = (await res.json()) as {
      items: { kind: string }[];
      total: number;
      nextCursor: string | null;
      chain: { ok: boolean; checked: number };
    };
    expect(doc.items).toHaveLength(5);
    expect(doc.items.every((r) => r.kind === 'gate_evaluated')).toBe(true);
    expect(doc.total).toBeGreaterThanOrEqual(16);
    expect(doc.nextCursor).toEqual(expect.any(String));
    expect(doc.chain.ok).toBe(true);
    const bad = await call('/api/audit?from=2013-10-01&to=2013-12-31');
    expect(await bad.json()).toMatchObject({ status: 400, field: 'query.to' });
  });
});

describe('paper sessions and micro-live', () => {
  type Session = {
    promotionId: string;
    status: string;
    symbol: string;
    capitalUsd: number;
    orderCount: number;
    filledCount: number;
    paperPnlUsd: number;
    referencePnlUsd: number;
    differenceUsd: number;
    reconciliationClean: boolean;
  };

  it("lists the promotion's paper session with paper vs simulator PnL", async () => {
    const res = await call('/api/paper-sessions?from=2013-10-08&to=2013-10-09');
    expect(res.status).toBe(200);
    const list = (await res.json()) as { items: Session[]; total: number };
    const mine = list.items.find((s) => s.promotionId === fx.promotionId);
    expect(mine).toMatchObject({ status: 'completed', reconciliationClean: true });
    expect(mine?.differenceUsd).toBeCloseTo(
      (mine?.paperPnlUsd ?? Number.NaN) - (mine?.referencePnlUsd ?? Number.NaN),
      6,
    );
    expect(list.items.every((s) => !('orders' in s))).toBe(true);
    const none = (await (
      await call('/api/paper-sessions?from=2013-10-01&to=2013-10-02')
    ).json()) as {
      items: unknown[];
    };
    expect(none.items).toEqual([]);
  });

  it('returns one paper session with orders by client_order_id, fills, reconciliation and parity', async () => {
    const res = await call(`/api/paper-sessions/${fx.promotionId}`);
    expect(res.status).toBe(200);
    const doc = (await res.json()) as {
      session: Session & {
        orders: {
          clientOrderId: string;
          status: string;
          filledQty: number;
          avgPriceUsd: number | null;
          history: { status: string }[];
        }[];
        fills: { clientOrderId: string; qty: number; priceUsd: number; atIso: string }[];
        parity: { paperPnlUsd: number; referencePnlUsd: number; orders: unknown[] };
        reconciliation: { clean: boolean; bookQty: number; brokerQty: number };
      };
      promotion: { promotionId: string; capitalSliceUsd: number };
    };
    const s = doc.session;
    expect(doc.promotion.promotionId).toBe(fx.promotionId);
    expect(s.capitalUsd).toBe(doc.promotion.capitalSliceUsd);
    expect(s.orders.length).toBe(s.orderCount);
    for (const o of s.orders) {
      expect(o.clientOrderId.length).toBeGreaterThan(0);
      expect(o.clientOrderId.length).toBeLessThanOrEqual(48);
      expect(o.history.at(-1)?.status).toBe(o.status);
    }
    expect(new Set(s.orders.map((o) => o.clientOrderId)).size).toBe(s.orders.length);
    // Every filled order is a fill at its own average price.
    const filled = s.orders.filter((o) => o.filledQty > 0);
    expect(s.fills.map((f) => f.clientOrderId).sort()).toEqual(
      filled.map((o) => o.clientOrderId).sort(),
    );
    for (const f of s.fills) {
      const o = filled.find((x) => x.clientOrderId === f.clientOrderId);
      expect(f.qty).toBe(o?.filledQty);
      expect(f.priceUsd).toBe(o?.avgPriceUsd);
    }
    expect(s.parity.paperPnlUsd).toBe(s.paperPnlUsd);
    expect(s.parity.referencePnlUsd).toBe(s.referencePnlUsd);
    expect(s.reconciliation.clean).toBe(true);
    expect(s.reconciliation.bookQty).toBe(s.reconciliation.brokerQty);
  });

  it('answers an unknown paper session or slice with 404 and a bad window with 400', async () => {
    expect((await call('/api/paper-sessions/no-such-promotion')).status).toBe(404);
    expect((await call('/api/micro-live/no-such-slice')).status).toBe(404);
    const bad = await call('/api/paper-sessions?from=2013-10-09&to=2013-10-08');
    expect(await bad.json()).toMatchObject({ status: 400, field: 'query.to' });
    const extra = await call(`/api/paper-sessions/${fx.promotionId}?x=1`);
    expect(await extra.json()).toMatchObject({ status: 400, field: 'query.x' });
  });

  it('shows a micro-live slice with its leverage decisions, next tier and rollback status', async () => {
    const deps = await fx.stack.approvalDeps();
    const sliceId = 'ml-console-test';
    const createdAtIso = '2013-10-09T14:00:00.000Z';
    await deps.microLive.createSlice({
      sliceId,
      approvalId: fx.approvalId,
      approvedBy: 'local:rick',
      approvedAtIso: createdAtIso,
      executionArn: 'arn:aws:states:local:000000000000:execution:day3:it-console',
      reviewId: 'd3-it-console',
      cohortId: fx.cohortIds[0] as string,
      agentId: 'a0001',
      genomeId: 'genome-console-test',
      lineageId: 'lineage-console-test',
      family: 'momentum',
      symbol: 'SPY',
      bankrollUsd: 1000,
      capitalSliceUsd: 50,
      leverage: 3,
      backtestReturnVariance: null,
      status: 'active',
      statusReason: 'entry filled; the rollback monitor watches it',
      promotionId: fx.promotionId,
      pipelineExecutionArn: null,
      entry: null,
      flattenClientOrderId: null,
      dailyCloses: [{ date: '2013-10-09', equityUsd: 51 }],
      version: 0,
      createdAtIso,
      updatedAtIso: createdAtIso,
    });
    for (const [key, previous, next, rule] of [
      ['initial', null, 2, 'initial'],
      ['day:2013-10-09', 2, 3, 'step_up'],
    ] as const) {
      await deps.microLive.recordLeverageDecision({
        sliceId,
        key,
        previous,
        next,
        rule,
        rationale: `${rule} for the test`,
        decidedAtIso: createdAtIso,
        inputs: {},
      });
    }
    await fx.stack.runtime.audit.append({
      kind: 'config_changed',
      actor: 'stagegate/day3',
      stream: 'execution:it-console-slice',
      environment: 'local',
      payload: { setting: 'micro_live.leverage', slice_id: sliceId, previous: null, next: 2 },
    });
    const list = (await (await call('/api/micro-live')).json()) as {
      items: { slice: { sliceId: string } }[];
      policy: { maxLeverage: number };
    };
    expect(list.items.map((i) => i.slice.sliceId)).toContain(sliceId);
    const doc = (await (await call(`/api/micro-live/${sliceId}`)).json()) as {
      leverage: {
        current: number;
        nextTier: number;
        trigger: string;
        decisions: { rule: string }[];
      };
      bankrollAtRiskUsd: number;
      bankrollAtRiskFraction: number;
      rollback: { state: string };
    };
    expect(doc.leverage).toMatchObject({ current: 3, nextTier: 4 });
    expect(doc.leverage.trigger).toContain('1.5');
    expect(doc.leverage.decisions.map((d) => d.rule)).toEqual(['initial', 'step_up']);
    expect(doc.bankrollAtRiskUsd).toBe(150);
    expect(doc.bankrollAtRiskFraction).toBeCloseTo(0.15, 12);
    expect(doc.rollback.state).toBe('watching');
  });
});

describe('CSV exports', () => {
  it('exports cohorts, agents, orders and audit with bankroll columns', async () => {
    const cohorts = await call('/api/exports/cohorts.csv');
    expect(cohorts.headers.get('content-type')).toContain('text/csv');
    const lines = (await cohorts.text()).trim().split('\r\n');
    expect(lines[0]).toBe(
      'cohort_id,session_date,completed_at,symbols,bankroll_usd,agent_count,total_pnl_usd,best_agent_id',
    );
    expect(lines).toHaveLength(3);
    const agents = (await (await call('/api/exports/agents.csv?date=2013-10-08')).text())
      .trim()
      .split('\r\n');
    expect(agents[0]?.split(',').slice(0, 4)).toEqual([
      'cohort_id',
      'session_date',
      'bankroll_usd',
      'rank',
    ]);
    expect(agents).toHaveLength(31);
    expect(agents[1]?.split(',')[2]).toBe('2000');
    const orders = (await (await call('/api/exports/orders.csv')).text()).split('\r\n');
    expect(orders[0]).toContain('bankroll_usd,capital_slice_usd,client_order_id');
    const audit = (await (await call('/api/exports/audit.csv?kind=cohort_scored')).text())
      .trim()
      .split('\r\n');
    expect(audit[0]).toBe(
      'id,ts,kind,actor,stream,seq,cohort_id,promotion_id,order_id,payload,hash,prev_hash',
    );
    expect(audit).toHaveLength(3);
  });
});

describe('roles, CSRF and refusals', () => {
  it('refuses an unauthenticated read and audits it', async () => {
    const res = await call('/api/cohorts', { as: null });
    expect(res.status).toBe(401);
    expect(await refusals()).toContainEqual(
      expect.objectContaining({
        actor: 'anonymous:unauthenticated',
        status: 401,
        path: '/api/cohorts',
      }),
    );
  });

  it('lets only an operator flip the kill switch, each refusal audited', async () => {
    const body = { engaged: true, reason: 'console test halt' };
    for (const as of ['vera', 'rick']) {
      const res = await call('/api/kill-switch', { as, method: 'POST', body });
      expect(res.status).toBe(403);
      expect(await refusals()).toContainEqual(
        expect.objectContaining({ actor: `local:${as}`, status: 403, path: '/api/kill-switch' }),
      );
    }
    const noCsrf = await call('/api/kill-switch', {
      as: 'olivia',
      method: 'POST',
      body,
      csrf: null,
    });
    expect(noCsrf.status).toBe(403);
    expect(await noCsrf.json()).toMatchObject({ field: 'csrf' });
    const wrongCsrf = await call('/api/kill-switch', {
      as: 'olivia',
      method: 'POST',
      body,
      csrf: 'another-token-0123456789',
    });
    expect(wrongCsrf.status).toBe(403);

    const on = await call('/api/kill-switch', { as: 'olivia', method: 'POST', body });
    expect(on.status).toBe(200);
    const state = (await (await call('/api/kill-switch')).json()) as {
      engaged: boolean;
      changedBy: string;
      changedAtIso: string;
    };
    expect(state).toMatchObject({ engaged: true, changedBy: 'local:olivia' });
    const unseen = await call('/api/kill-switch', {
      as: 'olivia',
      method: 'POST',
      body: { engaged: false, reason: 'console test release' },
    });
    expect(unseen.status).toBe(400);
    expect(await unseen.json()).toMatchObject({ field: 'body.expectedChangedAtIso' });
    const off = await call('/api/kill-switch', {
      as: 'olivia',
      method: 'POST',
      body: {
        engaged: false,
        reason: 'console test release',
        expectedChangedAtIso: state.changedAtIso,
      },
    });
    expect(off.status).toBe(200);
    const invalid = await call('/api/kill-switch', {
      as: 'olivia',
      method: 'POST',
      body: { engaged: 'yes' },
    });
    expect(invalid.status).toBe(400);
    expect(await invalid.json()).toMatchObject({ field: 'body.engaged' });
  });

  it('a retried kill-switch POST (same Idempotency-Key) changes and records once; control: another key records again; a malformed key is refused', async () => {
    // Prepare
    const body = { engaged: true, reason: 'console retry test' };
    const post = (idempotencyKey: string, b: unknown = body) =>
      call('/api/kill-switch', { as: 'olivia', method: 'POST', body: b, idempotencyKey });
    const changes = async () =>
      (await auditRecords(fx.stack)).filter(
        (r) => r.kind === 'kill_switch_changed' && r.payload.reason === 'console retry test',
      ).length;

    // Act
    const first = await post('retry-key-0000000001');
    const retried = await post('retry-key-0000000001');
    const afterRetry = await changes();
    const another = await post('retry-key-0000000002');
    const malformed = await post('short');
    const seen = ((await (await call('/api/kill-switch')).json()) as { changedAtIso: string })
      .changedAtIso;
    await post('retry-key-0000000003', {
      engaged: false,
      reason: 'console retry released',
      expectedChangedAtIso: seen,
    });

    // Assess
    expect([first.status, retried.status, another.status]).toEqual([200, 200, 200]);
    expect(((await retried.json()) as { state: unknown }).state).toEqual(
      ((await first.json()) as { state: unknown }).state,
    );
    expect(afterRetry).toBe(1);
    expect(await changes()).toBe(2);
    expect(malformed.status).toBe(400);
    expect(await malformed.json()).toMatchObject({ field: 'idempotency-key' });
  });

  it('never changes state on GET', async () => {
    const res = await call('/api/kill-switch?engaged=true', { as: 'olivia' });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ field: 'query.engaged' });
    const state = await call('/api/kill-switch', { as: 'olivia' });
    expect(((await state.json()) as { engaged: boolean }).engaged).toBe(false);
  });

  it('needs the operator then the risk officer, each once, before it resumes the waiting execution', async () => {
    const path = `/api/approvals/${fx.approvalId}/decision`;
    const sign = (as: string, decision: string, note?: string) =>
      call(path, { as, method: 'POST', body: { decision, ...(note ? { note } : {}) } });
    type Chain = {
      status: string;
      decidedBy: string | null;
      chain: {
        requiredSignatures: number;
        taskToken: { state: string; detail: string };
        signatureSteps: {
          step: number;
          role: string;
          signature: { by: string; note: string | null } | null;
        }[];
        steps: { step: string; actor: string; outcome: string | null; detail: string | null }[];
      };
    };
    const read = async () =>
      (await (await call(`/api/approvals/${fx.approvalId}`)).json()) as Chain;
    // A viewer may not sign at all (console role check, audited on console:refusals).
    const viewer = await sign('vera', 'approve');
    expect(viewer.status).toBe(403);
    expect(await refusals()).toContainEqual(
      expect.objectContaining({ actor: 'local:vera', status: 403, path }),
    );
    // The risk officer may not approve before the operator signed.
    const early = await sign('rick', 'approve');
    expect(early.status).toBe(403);
    expect(((await early.json()) as { detail: string }).detail).toContain(
      'operator signature 1 of 2',
    );
    expect((await read()).chain.taskToken.state).toBe('held');
    // The operator's signature is recorded with its note; the execution keeps waiting.
    const first = await sign('olivia', 'approve', 'evidence and gate table checked');
    expect(first.status).toBe(200);
    expect(await first.json()).toMatchObject({
      ok: true,
      status: 'approved',
      execution: 'waiting',
      chain: { step: 1, of: 2, complete: false },
    });
    const half = await read();
    expect(half).toMatchObject({ status: 'pending', decidedBy: null });
    expect(half.chain.requiredSignatures).toBe(2);
    expect(half.chain.taskToken.state).toBe('held');
    // One approver signs once.
    expect((await sign('olivia', 'approve')).status).toBe(409);
    // The risk officer completes the chain: the token is released, the execution resumes.
    const second = await sign('rick', 'approve', 'slice within limits');
    expect(second.status).toBe(200);
    expect(await second.json()).toMatchObject({
      execution: 'resumed',
      chain: { step: 2, of: 2, complete: true },
    });
    await expect(fx.decision).resolves.toMatchObject({ decision: 'approved', by: 'local:rick' });
    expect((await sign('rick', 'reject')).status).toBe(409);
    // The chain: both signatures with their notes, every refused attempt; never the token.
    const after = await call(`/api/approvals/${fx.approvalId}`);
    const text = await after.text();
    expect(text).not.toMatch(/console-test-/);
    const view = JSON.parse(text) as Chain;
    expect(view).toMatchObject({ status: 'approved', decidedBy: 'local:rick' });
    expect(view.chain.taskToken.state).toBe('released');
    expect(view.chain.signatureSteps).toEqual([
      expect.objectContaining({
        step: 1,
        role: 'operator',
        signature: expect.objectContaining({
          by: 'local:olivia',
          note: 'evidence and gate table checked',
        }),
      }),
      expect.objectContaining({
        step: 2,
        role: 'risk',
        signature: expect.objectContaining({ by: 'local:rick', note: 'slice within limits' }),
      }),
    ]);
    expect(view.chain.steps.map((s) => [s.step, s.actor, s.outcome])).toEqual([
      ['refused', 'local:rick', 'forbidden'],
      ['signed', 'local:olivia', 'approved'],
      ['refused', 'local:olivia', 'signed'],
      ['signed', 'local:rick', 'approved'],
      ['refused', 'local:rick', 'reused'],
    ]);
    expect(view.chain.steps[1]?.detail).toBe('evidence and gate table checked');
  });

  it('logs in with the local password and refuses (and audits) a wrong one', async () => {
    const bad = await fetch(new URL('/api/login', fx.server.url), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'rick', password: 'wrong-password-123' }),
    });
    expect(bad.status).toBe(401);
    expect(await refusals()).toContainEqual(
      expect.objectContaining({ source: 'console-login', username: 'rick' }),
    );
    const rick = fx.users.file.users.find((u) => u.username === 'rick');
    const good = await fetch(new URL('/api/login', fx.server.url), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'rick', password: rick?.password }),
    });
    expect(good.status).toBe(200);
    const cookies = good.headers.getSetCookie();
    expect(cookies.find((c) => c.startsWith('stagegate_session='))).toMatch(/HttpOnly/);
    expect(cookies.find((c) => c.startsWith('stagegate_csrf='))).not.toMatch(/HttpOnly/);
    const session = cookies.map((c) => c.split(';')[0]).join('; ');
    const me = await fetch(new URL('/api/me', fx.server.url), { headers: { cookie: session } });
    expect(await me.json()).toEqual({ identity: 'local:rick', roles: ['viewer', 'risk'] });
  });
});

describe('cohort start (a partial intraday cohort)', () => {
  it('starts a partial cohort for an operator only, listed apart and refused by promotions', async () => {
    // 11:00 New York on a session with data: 90 bars have ended.
    fx.stack.clock.set(Date.parse('2013-10-09T15:00:30.000Z'));
    try {
      const body = { bankrollUsd: 1500, agentCount: 8, symbols: ['SPY', 'BAC'] };
      const viewer = await call('/api/cohorts', { as: 'vera', method: 'POST', body });
      expect(viewer.status).toBe(403);
      const risk = await call('/api/cohorts', { as: 'rick', method: 'POST', body });
      expect(risk.status).toBe(403);
      expect(await refusals()).toContainEqual(
        expect.objectContaining({ actor: 'local:rick', status: 403, path: '/api/cohorts' }),
      );
      const noCsrf = await call('/api/cohorts', { as: 'olivia', method: 'POST', body, csrf: null });
      expect(noCsrf.status).toBe(403);

      const bad = await call('/api/cohorts', {
        as: 'olivia',
        method: 'POST',
        body: { ...body, bankrollUsd: 20 },
      });
      expect(bad.status).toBe(400);
      expect(await bad.json()).toMatchObject({ field: 'body.bankrollUsd' });
      const rejected = (await auditRecords(fx.stack)).filter(
        (r) => r.stream === 'operator:commands' && r.kind === 'input_rejected',
      );
      expect(rejected.map((r) => [r.actor, r.payload.field])).toContainEqual([
        'local:olivia',
        'bankrollUsd',
      ]);

      const res = await call('/api/cohorts', { as: 'olivia', method: 'POST', body });
      expect(res.status).toBe(201);
      const started = (await res.json()) as {
        cohortId: string;
        sessionDate: string;
        status: string;
        partial: boolean;
      };
      expect(started).toMatchObject({
        sessionDate: '2013-10-09',
        status: 'SUCCEEDED',
        partial: true,
      });

      const commands = (await auditRecords(fx.stack)).filter((r) => r.kind === 'operator_command');
      expect(commands).toContainEqual(
        expect.objectContaining({
          actor: 'local:olivia',
          payload: expect.objectContaining({ command: 'cohort start', bankroll: 1500 }),
        }),
      );

      const doc = (await (await call(`/api/cohorts/${started.cohortId}`)).json()) as {
        cohort: { partial: { upToIso: string }; barCount: number; bankrollUsd: number };
      };
      expect(doc.cohort.partial.upToIso).toBe('2013-10-09T15:00:30.000Z');
      expect(doc.cohort.barCount).toBe(90);
      expect(doc.cohort.bankrollUsd).toBe(1500);

      const complete = (await (await call('/api/cohorts')).json()) as {
        items: { cohortId: string }[];
      };
      expect(complete.items.map((c) => c.cohortId)).not.toContain(started.cohortId);
      const partial = (await (await call('/api/cohorts?kind=partial')).json()) as {
        items: { cohortId: string; partialUpToIso: string }[];
      };
      expect(partial.items).toEqual([
        expect.objectContaining({
          cohortId: started.cohortId,
          partialUpToIso: '2013-10-09T15:00:30.000Z',
        }),
      ]);

      const promo = await fx.stack.promotionPipeline.execute(
        { source: 'test', cohortId: started.cohortId },
        { executionName: 'it-console-promote-partial' },
      );
      expect(promo.status).toBe('FAILED');
      expect(promo.cause).toContain('is partial');
    } finally {
      fx.stack.clock.set(Date.now());
    }
  });

  it('a retried start (same Idempotency-Key) runs one execution, recorded once; control: another key starts and records again', async () => {
    // Prepare
    fx.stack.clock.set(Date.parse('2013-10-09T15:00:30.000Z'));
    try {
      const body = { bankrollUsd: 1200, agentCount: 2, symbols: ['SPY'] };
      const post = (idempotencyKey: string) =>
        call('/api/cohorts', { as: 'olivia', method: 'POST', body, idempotencyKey });
      const commands = async () =>
        (await auditRecords(fx.stack)).filter(
          (r) => r.kind === 'operator_command' && r.payload.bankroll === 1200,
        );

      // Act
      const first = (await (await post('cohort-key-00000001')).json()) as { cohortId: string };
      const retried = (await (await post('cohort-key-00000001')).json()) as { cohortId: string };
      const onceRecorded = (await commands()).length;
      const another = (await (await post('cohort-key-00000002')).json()) as { cohortId: string };

      // Assess
      expect(retried.cohortId).toBe(first.cohortId);
      expect(onceRecorded).toBe(1);
      expect(another.cohortId).not.toBe(first.cohortId);
      expect((await commands()).map((r) => r.subject?.cohort_id)).toEqual([
        first.cohortId,
        another.cohortId,
      ]);
    } finally {
      fx.stack.clock.set(Date.now());
    }
  });

  it('refuses a start on a day the market is closed, naming the field', async () => {
    fx.stack.clock.set(Date.parse('2013-10-12T15:00:00.000Z')); // a Saturday
    try {
      const res = await call('/api/cohorts', { as: 'olivia', method: 'POST', body: {} });
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ field: 'body.market' });
    } finally {
      fx.stack.clock.set(Date.now());
    }
  });
});

describe('desk status', () => {
  it('shows the kill switch, the newest cohort and promotion, and the pending approvals', async () => {
    const res = await call('/api/status');
    expect(res.status).toBe(200);
    const status = (await res.json()) as {
      killSwitch: { engaged: boolean };
      latestCohort: { cohortId: string };
      latestPromotion: { promotionId: string };
      pendingApprovals: { approvalId: string }[];
    };
    expect(status.killSwitch.engaged).toBe(false);
    expect(status.latestCohort.cohortId).toBe(fx.cohortIds[1]);
    expect(status.latestPromotion.promotionId).toBe(fx.promotionId);
    // Decided earlier in this file: no longer pending.
    expect(status.pendingApprovals.map((a) => a.approvalId)).not.toContain(fx.approvalId);
    expect((await call('/api/status', { as: null })).status).toBe(401);
  });
});
