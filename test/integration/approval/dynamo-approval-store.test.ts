/**
 * The DynamoDB approval store on real DynamoDB Local (local/servers.ts): encrypted task token,
 * display reads without the token, decide-once under concurrency, named refusals, retried
 * create, TTL attribute; and the approval use cases end to end on it.
 */
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DEFAULT_APPROVAL_RETENTION_SECONDS,
  DynamoApprovalStore,
} from '../../../functions/adapters/approval/dynamo-approval-store.js';
import { decideFromForm, showApprovalPage } from '../../../functions/core/approval/decide.js';
import {
  approvalCsrfToken,
  buildApprovalLink,
  expFromMs,
  newApprovalId,
} from '../../../functions/core/approval/links.js';
import { createTaskTokenCipher } from '../../../functions/core/approval/token-cipher.js';
import {
  ApprovalAlreadyDecidedError,
  ApprovalDuplicateSignerError,
  ApprovalExpiredError,
  ApprovalForbiddenError,
  ApprovalNotFoundError,
  ValidationError,
} from '../../../functions/core/errors.js';
import type { DecisionClaim } from '../../../functions/ports/approval-store.js';
import { ManualClock } from '../../../functions/ports/clock.js';
import {
  ensureTable,
  LOCAL_CREDENTIALS,
  LOCAL_REGION,
  type LocalServers,
  startLocalServers,
} from '../../../local/servers.js';
import {
  APPROVER,
  EXECUTION_ARN,
  HOUR_MS,
  KEY,
  NOW_MS,
  newRequest,
  TASK_TOKEN,
} from '../../unit/approval/fixtures.js';

const TABLE = 'stagegate-approval-test';

let servers: LocalServers;
let ddb: DynamoDBClient;
let store: DynamoApprovalStore;

beforeAll(async () => {
  servers = await startLocalServers({ dataDir: 'memory', buckets: [] });
  ddb = new DynamoDBClient({
    endpoint: servers.dynamoEndpoint,
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
  });
  await ensureTable(ddb, TABLE);
  const doc = DynamoDBDocumentClient.from(ddb, {
    marshallOptions: { removeUndefinedValues: true },
  });
  store = new DynamoApprovalStore({ doc, tableName: TABLE, cipher: createTaskTokenCipher(KEY) });
});

afterAll(async () => {
  ddb?.destroy();
  await servers?.stop();
});

/** A new pending request with a fresh id. */
async function created(overrides: Parameters<typeof newRequest>[0] = {}) {
  const approvalId = newApprovalId();
  await store.create(newRequest({ approvalId, ...overrides }));
  return approvalId;
}

const claim = (overrides: Partial<DecisionClaim> = {}): DecisionClaim => ({
  decision: 'approved',
  by: APPROVER,
  atIso: new Date(NOW_MS + 60_000).toISOString(),
  channel: 'web',
  ...overrides,
});

async function rawItem(approvalId: string) {
  const out = await ddb.send(
    new GetItemCommand({
      TableName: TABLE,
      Key: { pk: { S: `APPROVAL#${approvalId}` }, sk: { S: 'META' } },
    }),
  );
  return out.Item;
}

describe('DynamoApprovalStore', () => {
  it("keeps a signature's audit key, releases the token to its decider only, and keeps a resumed mark", async () => {
    // Prepare
    const approvalId = await created();
    const auditKey = 'a'.repeat(64);
    const pendingToken = await store.decidedTaskToken(approvalId, APPROVER);
    await store.claimDecision(approvalId, claim({ auditKey }));

    // Act
    const own = await store.decidedTaskToken(approvalId, APPROVER);
    const other = await store.decidedTaskToken(approvalId, 'web:alice@example.com');
    await store.markResume(approvalId, { outcome: 'resumed', atIso: '2013-10-09T20:02:00.000Z' });
    await store.markResume(approvalId, { outcome: 'gone', atIso: '2013-10-09T20:03:00.000Z' });

    // Assess
    const view = await store.getForDisplay(approvalId);
    expect([pendingToken, own, other]).toEqual([null, TASK_TOKEN, null]);
    expect(view.signatures[0]?.auditKey).toBe(auditKey);
    expect(view.resume).toEqual({ outcome: 'resumed', atIso: '2013-10-09T20:02:00.000Z' });
  });

  it('stores the task token encrypted: the raw item has no plain token anywhere', async () => {
    // Act
    const approvalId = await created();
    // Assess
    const item = await rawItem(approvalId);
    const raw = JSON.stringify(item);
    expect(raw).not.toContain(TASK_TOKEN);
    expect(raw).not.toContain(Buffer.from(TASK_TOKEN).toString('base64'));
    expect(item?.taskTokenCiphertext?.S).toMatch(/^v1\./);
    expect(item?.taskToken).toBeUndefined();
    expect(item?.status?.S).toBe('pending');
  });

  it('sets the TTL attribute to the deadline plus the retention period', async () => {
    // Prepare
    const expiresAtMs = NOW_MS + 4 * HOUR_MS;
    // Act
    const approvalId = await created();
    // Assess
    const item = await rawItem(approvalId);
    expect(Number(item?.expiresAt?.N)).toBe(
      Math.floor(expiresAtMs / 1000) + DEFAULT_APPROVAL_RETENTION_SECONDS,
    );
    expect(Number(item?.expiresAtMs?.N)).toBe(expiresAtMs);
  });

  it('reads a display view without the token', async () => {
    // Prepare
    const approvalId = await created();
    // Act
    const view = await store.getForDisplay(approvalId);
    // Assess
    expect(view).toMatchObject({
      approvalId,
      executionArn: EXECUTION_ARN,
      status: 'pending',
      exp: expFromMs(NOW_MS + 4 * HOUR_MS),
      decidedBy: null,
      approvers: [APPROVER, 'web:alice@example.com'],
    });
    expect(view.summary.gates).toHaveLength(2);
    expect(view.equityCurve).toHaveLength(4);
    expect(JSON.stringify(view)).not.toContain(TASK_TOKEN);
    expect(JSON.stringify(view)).not.toContain('v1.');
  });

  it('lets exactly one of many concurrent decisions win', async () => {
    // Prepare
    const approvalId = await created();
    const claims = Array.from({ length: 8 }, (_, i) =>
      claim({ decision: i % 2 === 0 ? 'approved' : 'rejected' }),
    );
    // Act
    const results = await Promise.allSettled(claims.map((c) => store.claimDecision(approvalId, c)));
    // Assess
    const won = results.filter((r) => r.status === 'fulfilled');
    const lost = results.filter((r) => r.status === 'rejected');
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(7);
    for (const r of lost) {
      expect((r as PromiseRejectedResult).reason).toBeInstanceOf(ApprovalAlreadyDecidedError);
    }
    const winner = (
      won[0] as PromiseFulfilledResult<Awaited<ReturnType<typeof store.claimDecision>>>
    ).value;
    expect(winner.taskToken).toBe(TASK_TOKEN);
    expect(winner.executionArn).toBe(EXECUTION_ARN);
    expect(JSON.stringify(winner)).not.toContain(TASK_TOKEN);
    const view = await store.getForDisplay(approvalId);
    expect(view.status).toBe(winner.decision);
    expect(view.decidedBy).toBe(APPROVER);
  });

  it('collects a chain of distinct signatures: one concurrent winner per step, the token only at the end', async () => {
    // Prepare: operator (either of two) then risk
    const [opA, opB, risk] = ['web:ola@example.com', 'web:oscar@example.com', 'slack:URISK'];
    const approvalId = await created({
      approvers: [opA, opB, risk] as [string, string, string],
      chain: [
        { role: 'operator', approvers: [opA, opB] as [string, string] },
        { role: 'risk', approvers: [risk] as [string] },
      ],
    });
    // Act: both operators sign step 1 at once
    const firsts = await Promise.allSettled(
      [opA, opB].map((by) => store.claimDecision(approvalId, claim({ by, note: `by ${by}` }))),
    );
    // Assess: one signature recorded, no token, still pending; the loser may not sign step 2
    const won = firsts.filter((r) => r.status === 'fulfilled');
    expect(won).toHaveLength(1);
    const first = (
      won[0] as PromiseFulfilledResult<Awaited<ReturnType<typeof store.claimDecision>>>
    ).value;
    expect(first).toMatchObject({ chainComplete: false, taskToken: null });
    const lost = firsts.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    expect(lost.reason).toBeInstanceOf(ApprovalForbiddenError);
    await expect(store.claimDecision(approvalId, claim({ by: first.by }))).rejects.toBeInstanceOf(
      ApprovalDuplicateSignerError,
    );
    expect(await store.getForDisplay(approvalId)).toMatchObject({
      status: 'pending',
      signatures: [{ step: 1, role: 'operator', by: first.by, note: `by ${first.by}` }],
    });
    // Act: the risk officer completes the chain
    const last = await store.claimDecision(approvalId, claim({ by: risk, channel: 'slack' }));
    // Assess
    expect(last).toMatchObject({ chainComplete: true, taskToken: TASK_TOKEN });
    const view = await store.getForDisplay(approvalId);
    expect(view).toMatchObject({ status: 'approved', decidedBy: risk, decidedChannel: 'slack' });
    expect(view.signatures.map((g) => [g.step, g.by])).toEqual([
      [1, first.by],
      [2, risk],
    ]);
  });

  it('refuses a second decision after the first', async () => {
    // Prepare
    const approvalId = await created();
    await store.claimDecision(approvalId, claim());
    // Act / Assess
    await expect(
      store.claimDecision(approvalId, claim({ decision: 'rejected' })),
    ).rejects.toBeInstanceOf(ApprovalAlreadyDecidedError);
  });

  it('refuses an unknown id, a foreign approver and a late decision with named errors', async () => {
    // Prepare
    const approvalId = await created();
    // Act / Assess
    await expect(store.getForDisplay(newApprovalId())).rejects.toBeInstanceOf(
      ApprovalNotFoundError,
    );
    await expect(store.claimDecision(newApprovalId(), claim())).rejects.toBeInstanceOf(
      ApprovalNotFoundError,
    );
    await expect(
      store.claimDecision(approvalId, claim({ by: 'slack:U999' })),
    ).rejects.toBeInstanceOf(ApprovalForbiddenError);
    await expect(
      store.claimDecision(
        approvalId,
        claim({ atIso: new Date(NOW_MS + 4 * HOUR_MS).toISOString() }),
      ),
    ).rejects.toBeInstanceOf(ApprovalExpiredError);
    expect((await store.getForDisplay(approvalId)).status).toBe('pending');
  });

  it('treats a retried create of the same execution as a token refresh', async () => {
    // Prepare
    const approvalId = await created();
    // Act
    await store.create(newRequest({ approvalId, taskToken: 'refreshed-token-after-retry' }));
    const claimed = await store.claimDecision(approvalId, claim());
    // Assess
    expect(claimed.taskToken).toBe('refreshed-token-after-retry');
  });

  it('a retried create keeps the first deadline, and an older attempt finishing last cannot put back its dead token', async () => {
    // Prepare: attempt 1 stored its token; attempt 2 comes a minute later with a new one
    const at = (ms: number) => new Date(NOW_MS + ms).toISOString();
    const approvalId = await created({ taskToken: 'attempt-1-token' });
    // Act: attempt 2, then attempt 1 again (a slow first invocation that finished last)
    const retried = await store.create(
      newRequest({
        approvalId,
        taskToken: 'attempt-2-token',
        createdAtIso: at(60_000),
        expiresAtIso: at(4 * HOUR_MS + 60_000),
      }),
    );
    const stale = await store.create(newRequest({ approvalId, taskToken: 'attempt-1-token' }));
    const claimed = await store.claimDecision(approvalId, claim());
    // Assess: one request, the first deadline (the posted link's), the live token decided
    expect(retried).toEqual({
      outcome: 'token_replaced',
      createdAtIso: at(0),
      expiresAtIso: at(4 * HOUR_MS),
    });
    expect(stale.outcome).toBe('superseded');
    expect(claimed.taskToken).toBe('attempt-2-token');
    expect((await store.getForDisplay(approvalId)).expiresAtIso).toBe(at(4 * HOUR_MS));
  });

  it('refuses to re-create a decided request or reuse an id for another execution', async () => {
    // Prepare
    const decided = await created();
    await store.claimDecision(decided, claim());
    const pending = await created();
    // Act / Assess
    await expect(store.create(newRequest({ approvalId: decided }))).rejects.toBeInstanceOf(
      ApprovalAlreadyDecidedError,
    );
    await expect(
      store.create(newRequest({ approvalId: pending, executionArn: `${EXECUTION_ARN}-other` })),
    ).rejects.toBeInstanceOf(ValidationError);
  });

  it('validates new requests', async () => {
    // Act / Assess
    await expect(
      store.create(newRequest({ approvalId: newApprovalId(), approvers: [] })),
    ).rejects.toThrow(/approvers/);
    await expect(
      store.create(
        newRequest({ approvalId: newApprovalId(), expiresAtIso: '2013-10-09T19:00:00Z' }),
      ),
    ).rejects.toBeInstanceOf(ValidationError);
  });
});

describe('approval use cases on DynamoDB Local', () => {
  it('shows the page, decides once from the form, and refuses the replayed form', async () => {
    // Prepare
    const approvalId = await created();
    const clock = new ManualClock(NOW_MS + 60_000);
    const deps = { store, key: KEY, clock };
    const exp = expFromMs(NOW_MS + 4 * HOUR_MS);
    const link = buildApprovalLink({ baseUrl: 'http://127.0.0.1:9999', approvalId, exp }, KEY);
    const form = {
      decision: 'approve',
      csrf: approvalCsrfToken(approvalId, exp, KEY),
      exp: String(exp),
      sig: link.sig,
    };
    // Act
    const shown = await showApprovalPage(deps, { link, viewer: null });
    const first = await decideFromForm(deps, { approvalId, form, approver: APPROVER });
    const replay = await decideFromForm(deps, { approvalId, form, approver: APPROVER });
    // Assess
    expect(shown.page.status).toBe(200);
    expect(first).toMatchObject({ ok: true, status: 'approved', executionArn: EXECUTION_ARN });
    expect(first.ok && first.taskToken).toBe(TASK_TOKEN);
    expect(replay).toMatchObject({ ok: false, kind: 'reused', httpStatus: 409 });
  });
});
