/**
 * The approval page handler (API Gateway HTTP API events with a JWT authorizer's claims, as in
 * AWS) and the Slack interactivity handler (signed requests), against DynamoDB Local and the
 * S3 emulator, with the local task-token registry standing in for Step Functions. Every
 * attempt must be audited; a refusal must change nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApprovalLink, expFromMs } from '../../../functions/core/approval/links.js';
import { TransientError } from '../../../functions/core/errors.js';
import { createHandler as slackHandler } from '../../../functions/handlers/slack-interactivity.js';
import {
  LocalStateMachine,
  localFunctionArn,
  localLambdaContext,
} from '../../../local/asl-runner.js';
import { type LocalDay3Run, type LocalStack, startLocalStack } from '../../../local/local-stack.js';
import { localTaskTokens } from '../../../local/local-task-tokens.js';
import { DATA_ROOT } from '../../support/paths.js';
import { summary } from '../../unit/approval/fixtures.js';
import {
  auditRecords,
  CapturingNotifier,
  type StoredAudit,
  slackClickBody,
  slackEvent,
} from './support.js';

const BASE = 'https://approvals.example.com';
const ALICE = 'alice@example.com';
const SLACK_USER = 'U024BE7LH';
const SIGNING_SECRET = 'slack-signing-secret-for-tests-only';
const notifier = new CapturingNotifier();
let stack: LocalStack;
/** The Day-3 run's composed approval dependencies and HTTP handlers. */
let run: LocalDay3Run;
let seq = 0;

interface Waiting {
  readonly approvalId: string;
  readonly executionArn: string;
  readonly token: string;
  readonly settled: Promise<{ ok: boolean; value: unknown }>;
  readonly url: string;
}

/** A pending approval request with a waiting task token (what RequestApproval leaves behind). */
async function pendingApproval(arn?: string): Promise<Waiting> {
  seq += 1;
  const deps = run.approval;
  const approvalId = `Endpoint${String(seq).padStart(4, '0')}ApprovalId`;
  const executionArn =
    arn ??
    `arn:aws:states:us-east-1:000000000000:execution:stagegate-local-day3-go-no-go:it-endpoints-${seq}`;
  const token = `it-token-${seq}-${'x'.repeat(40)}`;
  const settled = localTaskTokens
    .register({
      taskToken: token,
      executionArn,
      stateName: 'RequestApproval',
      registeredAtMs: Date.now(),
    })
    .then(
      (value) => ({ ok: true, value }),
      (err: Error) => ({ ok: false, value: { name: err.name, message: err.message } }),
    );
  const nowMs = Date.now();
  const expiresAtMs = nowMs + 3_600_000;
  await deps.approvals.create({
    approvalId,
    taskToken: token,
    executionArn,
    summary: summary({ reportUrl: null }),
    equityCurve: [
      [nowMs - 120_000, 50],
      [nowMs - 60_000, 50.5],
    ],
    approvers: [`web:${ALICE}`, `slack:${SLACK_USER}`],
    createdAtIso: new Date(nowMs).toISOString(),
    expiresAtIso: new Date(expiresAtMs).toISOString(),
  });
  await deps.microLive.saveMessageRef(approvalId, { channel: 'C0TEST', ts: String(seq) });
  const url = buildApprovalLink(
    { baseUrl: BASE, approvalId, exp: expFromMs(expiresAtMs) },
    deps.key,
  ).url;
  return { approvalId, executionArn, token, settled, url };
}

/** An HTTP API v2 event of the approval route, with an optional JWT authorizer identity. */
function pageEvent(input: {
  method: string;
  url: string;
  body?: string;
  claims?: Record<string, unknown>;
}): Record<string, unknown> {
  const u = new URL(input.url);
  const approvalId = decodeURIComponent(u.pathname.split('/').pop() ?? '');
  return {
    version: '2.0',
    routeKey: `${input.method} /approvals/{approvalId}`,
    rawPath: u.pathname,
    rawQueryString: u.search.slice(1),
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    queryStringParameters: Object.fromEntries(u.searchParams),
    pathParameters: { approvalId },
    body: input.body,
    isBase64Encoded: false,
    requestContext: {
      http: { method: input.method, path: u.pathname },
      ...(input.claims ? { authorizer: { jwt: { claims: input.claims, scopes: null } } } : {}),
    },
  };
}

type Response = { statusCode: number; headers: Record<string, string>; body: string };
const ctx = () => localLambdaContext('Test', 30_000);
const callPage = async (e: Record<string, unknown>) =>
  (await run.http.approval(e, ctx())) as Response;
const callSlack = async (e: Record<string, unknown>) =>
  (await run.http.slack(e, ctx())) as Response;

/** The confirmation form's hidden fields, scraped from the GET page (`nonce` on request). */
function formOf(html: string, withNonce = false): Record<string, string> {
  const field = (name: string) =>
    new RegExp(`name="${name}" value="([^"]*)"`).exec(html)?.[1] ?? '';
  const out: Record<string, string> = { csrf: field('csrf'), exp: field('exp'), sig: field('sig') };
  if (withNonce) out.nonce = field('nonce');
  return out;
}

/** A JWT authorizer's claims, or null for a request without an authenticated identity. */
type Claims = Record<string, unknown> | null;

/** `w`'s confirmation page as `claims` see it (Alice's JWT unless named): its HTML. */
const render = async (w: Waiting, claims: Claims = { email: ALICE }) =>
  (await callPage(pageEvent({ method: 'GET', url: w.url, ...(claims ? { claims } : {}) }))).body;

/** POSTs the form `body` to `w`'s approval route (no query string) as `claims` (Alice unless named). */
const postForm = (w: Waiting, body: string, claims: Claims = { email: ALICE }) =>
  callPage(
    pageEvent({
      method: 'POST',
      url: w.url.split('?')[0] as string,
      body,
      ...(claims ? { claims } : {}),
    }),
  );

/** The form `html` renders, with `decision` (and its nonce on request), URL-encoded. */
const decide = (html: string, decision: 'approve' | 'reject', withNonce = false) =>
  new URLSearchParams({ ...formOf(html, withNonce), decision }).toString();

async function statusOf(approvalId: string): Promise<string> {
  return (await run.approval.approvals.getForDisplay(approvalId)).status;
}

const isWaiting = (w: Waiting) =>
  localTaskTokens.waitingTasks(w.executionArn).some((t) => t.taskToken === w.token);

/** `w` is still pending and its execution still waits on its task token. */
async function expectUndecided(w: Waiting): Promise<void> {
  expect(await statusOf(w.approvalId)).toBe('pending');
  expect(isWaiting(w)).toBe(true);
}

async function attemptsOf(approvalId: string): Promise<StoredAudit[]> {
  return (await auditRecords(stack)).filter((r) => r.payload.approval_id === approvalId);
}

beforeAll(async () => {
  stack = await startLocalStack({ dataRoot: DATA_ROOT, stateDir: 'memory', logLevel: 'SILENT' });
  run = await stack.day3({
    approvalBaseUrl: BASE,
    approvers: [`web:${ALICE}`],
    notifier,
    slackSigningSecret: SIGNING_SECRET,
  });
});

afterAll(async () => {
  await stack?.stop();
});

describe('approval page handler (HTTP API events, JWT authorizer identity)', () => {
  it('GET shows the confirmation page and changes nothing', async () => {
    // Prepare
    const w = await pendingApproval();

    // Act
    const res = await callPage(
      pageEvent({ method: 'GET', url: w.url, claims: { email: ALICE, sub: 'u-1' } }),
    );

    // Assess
    expect(res.statusCode).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.body).toContain(
      '<button type="submit" class="approve" name="decision" value="approve">',
    );
    expect(res.body).toContain('<svg');
    await expectUndecided(w);
    expect(await attemptsOf(w.approvalId)).toEqual([]);
  });

  it('POST approve as the JWT identity decides once, resumes the execution, updates the message and audits the approver', async () => {
    // Prepare
    const w = await pendingApproval();
    const body = decide(await render(w), 'approve');
    const updatesBefore = notifier.updates.length;

    // Act
    const res = await postForm(w, body);

    // Assess
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain(`web:${ALICE}`);
    expect(await w.settled).toEqual({
      ok: true,
      value: expect.objectContaining({
        approvalId: w.approvalId,
        decision: 'approved',
        by: `web:${ALICE}`,
        channel: 'web',
      }),
    });
    expect(await statusOf(w.approvalId)).toBe('approved');
    expect(notifier.updates.length).toBe(updatesBefore + 1);
    expect(notifier.updates.at(-1)?.message.text).toContain(`by web:${ALICE}`);
    const attempts = await attemptsOf(w.approvalId);
    expect(attempts).toEqual([
      expect.objectContaining({
        kind: 'approval_decided',
        actor: `web:${ALICE}`,
        payload: expect.objectContaining({ decision: 'approved' }),
      }),
    ]);
    expect(JSON.stringify(attempts)).not.toContain(w.token);
  });

  it('POST again with the same form is refused as already decided (409), audited, nothing changes', async () => {
    // Prepare
    const w = await pendingApproval();
    const body = decide(await render(w), 'reject');
    await postForm(w, body);

    // Act
    const again = await postForm(w, body);

    // Assess
    expect(again.statusCode).toBe(409);
    expect(again.body).toContain('Already decided');
    expect(await w.settled).toMatchObject({ ok: false, value: { name: 'ApprovalRejected' } });
    expect(await statusOf(w.approvalId)).toBe('rejected');
    const kinds = (await attemptsOf(w.approvalId)).map((r) => [
      r.kind,
      r.payload.reason ?? r.payload.decision,
    ]);
    expect(kinds).toEqual([
      ['approval_decided', 'rejected'],
      ['input_rejected', 'reused'],
    ]);
  });

  it.each<[string, Record<string, unknown> | undefined, number, string]>([
    [
      'a JWT identity not on the allow-list',
      { email: 'mallory@example.com' },
      403,
      'Not an approver',
    ],
    ['no authenticated identity at all', undefined, 403, 'Not an approver'],
  ])(
    'POST by %s is refused, audited, and the execution keeps waiting',
    async (_n, claims, status, text) => {
      // Prepare
      const w = await pendingApproval();
      const body = decide(await render(w, null), 'approve');

      // Act
      const res = await postForm(w, body, claims ?? null);

      // Assess
      expect(res.statusCode).toBe(status);
      expect(res.body).toContain(text);
      await expectUndecided(w);
      expect((await attemptsOf(w.approvalId)).map((r) => [r.kind, r.payload.reason])).toEqual([
        ['input_rejected', 'forbidden'],
      ]);
    },
  );
});

describe('approval page handler: one record per rendered form (its nonce)', () => {
  it('a double submit of one rendered form decides once, records once and answers the same page', async () => {
    // Prepare
    const w = await pendingApproval();
    const html = await render(w);
    const body = decide(html, 'approve', true);
    const first = await postForm(w, body);

    // Act
    const again = await postForm(w, body);

    // Assess
    expect(formOf(html, true).nonce).toMatch(/^[A-Za-z0-9_-]{16,64}$/);
    expect(first.statusCode).toBe(200);
    expect(again.statusCode).toBe(200);
    expect(again.body).toBe(first.body);
    expect(await statusOf(w.approvalId)).toBe('approved');
    expect((await attemptsOf(w.approvalId)).map((r) => [r.kind, r.actor])).toEqual([
      ['approval_decided', `web:${ALICE}`],
    ]);
  });

  it('control: a POST of another render (another nonce, a second tab) is a new attempt: refused as decided (409) and recorded', async () => {
    // Prepare: two tabs rendered the page; the first one's form is posted
    const w = await pendingApproval();
    const tabs = [await render(w), await render(w)];
    const post = (html: string) => postForm(w, decide(html, 'approve', true));
    await post(tabs[0] as string);

    // Act
    const again = await post(tabs[1] as string);

    // Assess
    expect(again.statusCode).toBe(409);
    expect(
      (await attemptsOf(w.approvalId)).map((r) => [r.kind, r.payload.reason ?? r.payload.decision]),
    ).toEqual([
      ['approval_decided', 'approved'],
      ['input_rejected', 'reused'],
    ]);
  });

  it('a malformed nonce is refused (400), audited, and nothing is decided', async () => {
    // Prepare
    const w = await pendingApproval();
    const form = { ...formOf(await render(w)), nonce: 'short', decision: 'approve' };

    // Act
    const res = await postForm(w, new URLSearchParams(form).toString());

    // Assess
    expect(res.statusCode).toBe(400);
    await expectUndecided(w);
    expect(
      (await attemptsOf(w.approvalId)).map((r) => [r.kind, r.payload.reason, r.payload.field]),
    ).toEqual([['input_rejected', 'malformed', 'nonce']]);
  });
});

describe('approval page handler: requests refused before any approval logic', () => {
  it('a form with a field given twice (decision=reject&decision=approve) is refused (400), audited, and nothing is decided', async () => {
    // Prepare
    const w = await pendingApproval();
    const body = `${decide(await render(w, null), 'reject')}&decision=approve`;

    // Act
    const res = await postForm(w, body);

    // Assess
    expect(res.statusCode).toBe(400);
    expect(res.body).toContain('decision');
    await expectUndecided(w);
    expect(
      (await attemptsOf(w.approvalId)).map((r) => [r.kind, r.payload.reason, r.payload.field]),
    ).toEqual([['input_rejected', 'malformed', 'decision']]);
  });

  it.each(['PUT', 'DELETE', 'OPTIONS', 'PATCH'])(
    '%s is answered 405 with Allow, audited, and changes nothing',
    async (method) => {
      // Prepare
      const w = await pendingApproval();

      // Act
      const res = await callPage(pageEvent({ method, url: w.url, claims: { email: ALICE } }));

      // Assess
      expect(res.statusCode).toBe(405);
      expect(res.headers.allow).toBe('GET, HEAD, POST');
      await expectUndecided(w);
      expect(
        (await attemptsOf(w.approvalId)).map((r) => [r.kind, r.payload.reason, r.payload.field]),
      ).toEqual([['input_rejected', 'malformed', 'method']]);
    },
  );
});

describe('Slack interactivity handler (signed requests)', () => {
  // Signed at the clock the handler verifies against (the stack's injected clock, set when
  // the stack started), never the wall clock: a slow machine cannot age a request past the
  // 5-minute replay window.
  const now = () => Math.floor(stack.clock.now() / 1000);
  /** The click body of `actionId` on `w` by the allowed Slack user (or `more.userId`). */
  const clickOf = (
    w: Waiting,
    actionId: 'approve' | 'reject' = 'approve',
    more: { readonly userId?: string; readonly actionTs?: string } = {},
  ) => slackClickBody({ userId: SLACK_USER, actionId, approvalId: w.approvalId, ...more });
  /** `body` signed with the app's signing secret now (or as `more` says). */
  const signed = (body: string, more: Partial<Parameters<typeof slackEvent>[0]> = {}) =>
    slackEvent({ body, secret: SIGNING_SECRET, timestamp: now(), ...more });

  it('a known-good signed click approves as slack:<user>, resumes the execution and updates the message', async () => {
    // Prepare
    const w = await pendingApproval();
    const body = clickOf(w);

    // Act
    const res = await callSlack(signed(body));

    // Assess
    expect(res.statusCode).toBe(200);
    expect(JSON.parse(res.body)).toEqual({
      ok: true,
      decision: 'approved',
      execution: 'resumed',
      by: `slack:${SLACK_USER}`,
      chain: { step: 1, of: 1, complete: true },
    });
    expect(await w.settled).toMatchObject({
      ok: true,
      value: { by: `slack:${SLACK_USER}`, channel: 'slack' },
    });
    expect(notifier.updates.at(-1)).toMatchObject({ channel: 'C0TEST', ts: '1' });
    expect((await attemptsOf(w.approvalId)).map((r) => [r.kind, r.actor])).toEqual([
      ['approval_decided', `slack:${SLACK_USER}`],
    ]);
  });

  it('a replay of that request inside the 5-minute window is refused: decided once (409)', async () => {
    // Prepare
    const w = await pendingApproval();
    const body = clickOf(w);
    const event = signed(body);
    await callSlack(event);

    // Act
    const replay = await callSlack(event);

    // Assess
    expect(replay.statusCode).toBe(409);
    expect(JSON.parse(replay.body)).toMatchObject({ ok: false, reason: 'reused' });
  });

  it("Slack's redelivery of a click (X-Slack-Retry-Num, same payload) decides once, records once and answers the same", async () => {
    // Prepare: the first delivery was decided and recorded; Slack saw no answer in time
    const w = await pendingApproval();
    const body = clickOf(w, 'approve', { actionTs: '1381348800.000100' });
    const first = await callSlack(signed(body));
    const updates = notifier.updates.length;

    // Act
    const retried = await callSlack(signed(body, { timestamp: now() + 1, retryNum: 1 }));

    // Assess
    expect(first.statusCode).toBe(200);
    expect(retried.statusCode).toBe(200);
    expect(JSON.parse(retried.body)).toEqual(JSON.parse(first.body));
    expect(await w.settled).toMatchObject({ ok: true, value: { by: `slack:${SLACK_USER}` } });
    expect(notifier.updates.length).toBe(updates);
    expect((await attemptsOf(w.approvalId)).map((r) => [r.kind, r.actor])).toEqual([
      ['approval_decided', `slack:${SLACK_USER}`],
    ]);
  });

  it('control: a second click (another action_ts) is a new attempt: refused as decided (409) and recorded', async () => {
    // Prepare
    const w = await pendingApproval();
    const click = (actionTs: string) => signed(clickOf(w, 'approve', { actionTs }));
    await callSlack(click('1381348800.000100'));

    // Act
    const second = await callSlack(click('1381348805.000200'));

    // Assess
    expect(second.statusCode).toBe(409);
    expect(JSON.parse(second.body)).toMatchObject({ ok: false, reason: 'reused' });
    expect(
      (await attemptsOf(w.approvalId)).map((r) => [r.kind, r.payload.reason ?? r.payload.decision]),
    ).toEqual([
      ['approval_decided', 'approved'],
      ['input_rejected', 'reused'],
    ]);
  });

  it.each<[string, (w: Waiting) => Record<string, unknown>, number, string, string]>([
    [
      'a tampered body (signature of another body)',
      (w) => signed(clickOf(w), { signedBody: clickOf(w, 'reject') }),
      401,
      'tampered',
      'slack:interactivity',
    ],
    [
      'a replayed request older than 5 minutes',
      (w) => signed(clickOf(w), { timestamp: now() - 600 }),
      401,
      'replayed',
      'slack:interactivity',
    ],
    [
      'a request signed with another secret',
      (w) => signed(clickOf(w), { secret: 'not-the-signing-secret' }),
      401,
      'tampered',
      'slack:interactivity',
    ],
    [
      'a signed body with the payload field given twice',
      (w) => signed(`${clickOf(w, 'reject')}&${clickOf(w)}`),
      400,
      'malformed',
      'slack:interactivity',
    ],
    [
      'a Slack user not on the allow-list',
      (w) => signed(clickOf(w, 'approve', { userId: 'U0MALLORY' })),
      403,
      'forbidden',
      'execution:',
    ],
  ])('%s is refused, audited, and changes nothing', async (_n, build, status, reason, stream) => {
    // Prepare
    const w = await pendingApproval();
    const before = new Set((await auditRecords(stack)).map((r) => r.id));

    // Act
    const res = await callSlack(build(w));

    // Assess
    expect(res.statusCode).toBe(status);
    expect(JSON.parse(res.body)).toMatchObject({ ok: false, reason });
    await expectUndecided(w);
    const added = (await auditRecords(stack)).filter((r) => !before.has(r.id));
    expect(added).toEqual([
      expect.objectContaining({
        kind: 'input_rejected',
        stream: expect.stringMatching(new RegExp(`^${stream}`)),
        payload: expect.objectContaining({ reason }),
      }),
    ]);
  });
});

describe('Slack redelivery whose re-sent resume is refused: answered from the execution (local DescribeExecution)', () => {
  const now = () => Math.floor(stack.clock.now() / 1000);

  /**
   * A local execution standing in for the Day-3 one: RUNNING until `conclude` hands its one
   * task the output Conclude would return (the local ASL runner's registry describes it).
   */
  function dayThreeExecution(name: string) {
    let conclude: (output: unknown) => void = () => undefined;
    const concluded = new Promise<unknown>((resolve) => {
      conclude = resolve;
    });
    const machine = LocalStateMachine.fromDefinition(
      `redelivery-${name}`,
      {
        StartAt: 'Conclude',
        States: { Conclude: { Type: 'Task', Resource: localFunctionArn('Conclude'), End: true } },
      },
      [{ placeholder: 'ConcludeFunctionArn', name: 'Conclude', handler: async () => concluded }],
    );
    const execution = machine.start({}, { executionName: name });
    return { execution, conclude };
  }

  it('answers "running" while the execution runs, then the decision it concluded with, recording each finding once', async () => {
    // Prepare: the first delivery records the approval, then its SendTaskSuccess fails
    const day3 = dayThreeExecution('it-redelivery-1');
    const w = await pendingApproval(day3.execution.executionArn);
    let failures = 1;
    const flaky = {
      sendTaskHeartbeat: (t: string) => localTaskTokens.sendTaskHeartbeat(t),
      sendTaskFailure: (t: string, e: string, c: string) =>
        localTaskTokens.sendTaskFailure(t, e, c),
      sendTaskSuccess: async (t: string, out: unknown) => {
        if (failures-- > 0) throw new TransientError('SendTaskSuccess: throttled');
        return localTaskTokens.sendTaskSuccess(t, out);
      },
    };
    const handler = slackHandler(() => ({ ...run.approval, taskTokens: flaky }));
    const click = (retryNum?: number) =>
      handler(
        slackEvent({
          body: slackClickBody({
            userId: SLACK_USER,
            actionId: 'approve',
            approvalId: w.approvalId,
            actionTs: '1381348800.000300',
          }),
          secret: SIGNING_SECRET,
          timestamp: now(),
          ...(retryNum ? { retryNum } : {}),
        }),
        ctx(),
      ) as Promise<Response>;
    const first = await click();
    localTaskTokens.end(w.token, 'timed_out'); // the wait timed out before Slack redelivered

    // Act
    const whileRunning = await click(1);
    day3.conclude({
      outcome: 'not_approved',
      reason: 'not approved: no decision within 14400 s (States.Timeout)',
      decision: 'expired',
      decidedBy: null,
      sliceId: null,
    });
    await day3.execution.result;
    const afterEnd = await click(2);
    const again = await click(3);

    // Assess
    expect(first.statusCode).toBe(503);
    expect(JSON.parse(whileRunning.body)).toMatchObject({
      ok: true,
      decision: 'approved',
      execution: 'running',
      workflow: { status: 'RUNNING', decision: null },
      message: expect.stringContaining('Re-sending it to the workflow failed'),
    });
    expect(JSON.parse(afterEnd.body)).toMatchObject({
      ok: true,
      execution: 'concluded',
      workflow: { status: 'SUCCEEDED', decision: 'expired', outcome: 'not_approved' },
      message: expect.stringContaining('timed out = not approved'),
    });
    expect(JSON.parse(again.body)).toEqual(JSON.parse(afterEnd.body));
    const records = await attemptsOf(w.approvalId);
    expect(records.map((r) => [r.kind, r.payload.finding ?? r.payload.decision])).toEqual([
      ['approval_decided', 'approved'],
      ['approval_reconciled', 'running'],
      ['approval_reconciled', 'concluded'],
    ]);
    expect(records[2]?.payload).toMatchObject({
      execution_status: 'SUCCEEDED',
      workflow_decision: 'expired',
      signed_by: `slack:${SLACK_USER}`,
    });
  });
});
