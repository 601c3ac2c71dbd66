import { describe, expect, it } from 'vitest';
import {
  type ApprovalDeps,
  type DecideOutcome,
  decideApproval,
  decideFromForm,
  pageForOutcome,
  recordAttempt,
  showApprovalPage,
} from '../../../functions/core/approval/decide.js';
import {
  approvalCsrfToken,
  buildApprovalLink,
  expFromMs,
} from '../../../functions/core/approval/links.js';
import { createTaskTokenCipher } from '../../../functions/core/approval/token-cipher.js';
import { parseAuditDraft } from '../../../functions/core/audit/record.js';
import {
  ApprovalAlreadyDecidedError,
  ApprovalExpiredError,
  ApprovalForbiddenError,
  ApprovalNotFoundError,
  SignatureInvalidError,
  ValidationError,
} from '../../../functions/core/errors.js';
import { ManualClock } from '../../../functions/ports/clock.js';
import { MemoryApprovalStore } from '../../support/doubles/memory-approval-store.js';
import {
  APPROVAL_ID,
  APPROVER,
  EXECUTION_ARN,
  HOUR_MS,
  KEY,
  NOW_MS,
  newRequest,
  OTHER_KEY,
  TASK_TOKEN,
} from './fixtures.js';

const EXP = expFromMs(NOW_MS + 4 * HOUR_MS);

async function setup(requestOverrides: Parameters<typeof newRequest>[0] = {}) {
  const clock = new ManualClock(NOW_MS + 5 * 60_000);
  const store = new MemoryApprovalStore(createTaskTokenCipher(KEY));
  await store.create(newRequest(requestOverrides));
  const deps: ApprovalDeps = { store, key: KEY, clock };
  const link = buildApprovalLink(
    { baseUrl: 'https://a.example.com', approvalId: APPROVAL_ID, exp: EXP },
    KEY,
  );
  const form = (decision = 'approve') => ({
    decision,
    csrf: approvalCsrfToken(APPROVAL_ID, EXP, KEY),
    exp: String(EXP),
    sig: link.sig,
  });
  return { clock, store, deps, link, form };
}

function expectFailure(
  outcome: DecideOutcome,
  kind: string,
  status: number,
  error: abstract new (...args: never[]) => Error,
) {
  expect(outcome.ok).toBe(false);
  if (outcome.ok) return;
  expect(outcome.kind).toBe(kind);
  expect(outcome.httpStatus).toBe(status);
  expect(outcome.error).toBeInstanceOf(error);
}

describe('decideFromForm', () => {
  it('records an approval once and hands back the task token and execution', async () => {
    // Prepare
    const { deps, form } = await setup();
    // Act
    const outcome = await decideFromForm(deps, {
      approvalId: APPROVAL_ID,
      form: form(),
      approver: APPROVER,
    });
    // Assess
    expect(outcome).toMatchObject({
      ok: true,
      status: 'approved',
      approvalId: APPROVAL_ID,
      by: APPROVER,
      channel: 'web',
      executionArn: EXECUTION_ARN,
      candidateId: 'genome-7f3a',
    });
    expect(outcome.ok && outcome.taskToken).toBe(TASK_TOKEN);
    expect(JSON.stringify(outcome)).not.toContain(TASK_TOKEN);
    expect(await deps.store.getForDisplay(APPROVAL_ID)).toMatchObject({
      status: 'approved',
      decidedBy: APPROVER,
      decidedChannel: 'web',
    });
  });

  it('records a rejection', async () => {
    // Prepare
    const { deps, form } = await setup();
    // Act
    const outcome = await decideFromForm(deps, {
      approvalId: APPROVAL_ID,
      form: form('reject'),
      approver: APPROVER,
    });
    // Assess
    expect(outcome).toMatchObject({ ok: true, status: 'rejected' });
  });

  it('refuses a second decision as reused (409), whatever it says', async () => {
    // Prepare
    const { deps, form } = await setup();
    await decideFromForm(deps, { approvalId: APPROVAL_ID, form: form(), approver: APPROVER });
    // Act
    const again = await decideFromForm(deps, {
      approvalId: APPROVAL_ID,
      form: form('reject'),
      approver: 'web:alice@example.com',
    });
    // Assess
    expectFailure(again, 'reused', 409, ApprovalAlreadyDecidedError);
    expect((await deps.store.getForDisplay(APPROVAL_ID)).status).toBe('approved');
  });

  it('lets exactly one of many concurrent decisions win', async () => {
    // Prepare
    const { deps, form } = await setup();
    // Act
    const outcomes = await Promise.all(
      ['approve', 'reject', 'approve', 'reject', 'approve'].map((d) =>
        decideFromForm(deps, { approvalId: APPROVAL_ID, form: form(d), approver: APPROVER }),
      ),
    );
    // Assess
    expect(outcomes.filter((o) => o.ok)).toHaveLength(1);
    expect(outcomes.filter((o) => !o.ok && o.kind === 'reused')).toHaveLength(4);
  });

  it.each([
    [
      'a tampered signature',
      (f: Record<string, string>) => ({
        ...f,
        sig: `${f.sig?.startsWith('A') ? 'B' : 'A'}${f.sig?.slice(1)}`,
      }),
      'tampered',
      403,
      SignatureInvalidError,
    ],
    [
      'a forged expiry',
      (f: Record<string, string>) => ({ ...f, exp: String(EXP + 86_400) }),
      'tampered',
      403,
      SignatureInvalidError,
    ],
    [
      'a missing signature',
      (f: Record<string, string>) => ({ ...f, sig: '' }),
      'malformed',
      400,
      ValidationError,
    ],
    [
      'a missing CSRF token',
      (f: Record<string, string>) => ({ ...f, csrf: '' }),
      'csrf',
      403,
      SignatureInvalidError,
    ],
    [
      'the link signature as CSRF token',
      (f: Record<string, string>) => ({ ...f, csrf: f.sig as string }),
      'csrf',
      403,
      SignatureInvalidError,
    ],
    [
      'an unknown decision',
      (f: Record<string, string>) => ({ ...f, decision: 'approved!' }),
      'malformed',
      400,
      ValidationError,
    ],
    [
      'a prototype key as decision',
      (f: Record<string, string>) => ({ ...f, decision: 'constructor' }),
      'malformed',
      400,
      ValidationError,
    ],
  ])('refuses %s and changes nothing', async (_name, mutate, kind, status, error) => {
    // Prepare
    const { deps, form } = await setup();
    // Act
    const outcome = await decideFromForm(deps, {
      approvalId: APPROVAL_ID,
      form: mutate(form()),
      approver: APPROVER,
    });
    // Assess
    expectFailure(outcome, kind, status, error);
    expect((await deps.store.getForDisplay(APPROVAL_ID)).status).toBe('pending');
  });

  it('refuses a form signed with another key as tampered', async () => {
    // Prepare
    const { deps, form } = await setup();
    // Act
    const outcome = await decideFromForm(
      { ...deps, key: OTHER_KEY },
      { approvalId: APPROVAL_ID, form: form(), approver: APPROVER },
    );
    // Assess
    expectFailure(outcome, 'tampered', 403, SignatureInvalidError);
  });

  it('refuses an expired link (410)', async () => {
    // Prepare
    const { deps, form, clock } = await setup();
    clock.set(EXP * 1000);
    // Act
    const outcome = await decideFromForm(deps, {
      approvalId: APPROVAL_ID,
      form: form(),
      approver: APPROVER,
    });
    // Assess
    expectFailure(outcome, 'expired', 410, ApprovalExpiredError);
  });

  it('refuses when the stored request expired before the link (410)', async () => {
    // Prepare
    const { deps, form, clock } = await setup({
      expiresAtIso: new Date(NOW_MS + HOUR_MS).toISOString(),
    });
    clock.set(NOW_MS + 2 * HOUR_MS);
    // Act
    const outcome = await decideFromForm(deps, {
      approvalId: APPROVAL_ID,
      form: form(),
      approver: APPROVER,
    });
    // Assess
    expectFailure(outcome, 'expired', 410, ApprovalExpiredError);
    expect((await deps.store.getForDisplay(APPROVAL_ID)).status).toBe('pending');
  });

  it.each([
    ['not on the allow-list', 'slack:U999'],
    ['of another case', 'slack:u024be7lh'],
    ['not an identity', '<script>'],
  ])('refuses an approver %s (403)', async (_name, approver) => {
    // Prepare
    const { deps, form } = await setup();
    // Act
    const outcome = await decideFromForm(deps, { approvalId: APPROVAL_ID, form: form(), approver });
    // Assess
    expectFailure(outcome, 'forbidden', 403, ApprovalForbiddenError);
    expect((await deps.store.getForDisplay(APPROVAL_ID)).status).toBe('pending');
  });

  it('refuses an unknown approval id (404)', async () => {
    // Prepare
    const { deps } = await setup();
    const otherId = 'Zz3dEf6hIj9kLm2nOp5qRs';
    const link = buildApprovalLink(
      { baseUrl: 'https://a.example.com', approvalId: otherId, exp: EXP },
      KEY,
    );
    const form = {
      decision: 'approve',
      csrf: approvalCsrfToken(otherId, EXP, KEY),
      exp: String(EXP),
      sig: link.sig,
    };
    // Act
    const outcome = await decideFromForm(deps, { approvalId: otherId, form, approver: APPROVER });
    // Assess
    expectFailure(outcome, 'missing', 404, ApprovalNotFoundError);
  });
});

describe('decideApproval (Slack interactivity)', () => {
  it('records the decision for an allowed Slack user', async () => {
    // Prepare
    const { deps } = await setup();
    // Act
    const outcome = await decideApproval(deps, {
      approvalId: APPROVAL_ID,
      decision: 'rejected',
      approver: APPROVER,
      channel: 'slack',
    });
    // Assess
    expect(outcome).toMatchObject({ ok: true, status: 'rejected', channel: 'slack' });
  });

  it('refuses a malformed approval id without touching the store', async () => {
    // Prepare
    const { deps } = await setup();
    // Act
    const outcome = await decideApproval(deps, {
      approvalId: '../etc',
      decision: 'approved',
      approver: APPROVER,
      channel: 'slack',
    });
    // Assess
    expectFailure(outcome, 'malformed', 400, ValidationError);
  });
});

describe('showApprovalPage', () => {
  it("shows the confirmation page with this approval's CSRF token", async () => {
    // Prepare
    const { deps, link } = await setup();
    // Act
    const { page, failure } = await showApprovalPage(deps, { link, viewer: null });
    // Assess
    expect(failure).toBeNull();
    expect(page.status).toBe(200);
    expect(page.body).toContain(`value="${approvalCsrfToken(APPROVAL_ID, EXP, KEY)}"`);
    expect(page.body).not.toContain(TASK_TOKEN);
    expect((await deps.store.getForDisplay(APPROVAL_ID)).status).toBe('pending');
  });

  it.each([
    ['a tampered link', { sig: 'x'.repeat(43) }, null, 403],
    ['a malformed link', { sig: undefined }, null, 400],
    ['a viewer not on the allow-list', {}, 'slack:U999', 403],
  ])('refuses %s', async (_name, override, viewer, status) => {
    // Prepare
    const { deps, link } = await setup();
    // Act
    const { page, failure } = await showApprovalPage(deps, {
      link: { ...link, ...override },
      viewer,
    });
    // Assess
    expect(page.status).toBe(status);
    expect(failure?.httpStatus).toBe(status);
  });

  it('shows "already decided" (409) after a decision', async () => {
    // Prepare
    const { deps, link } = await setup();
    await decideApproval(deps, {
      approvalId: APPROVAL_ID,
      decision: 'approved',
      approver: APPROVER,
      channel: 'slack',
    });
    // Act
    const { page, failure } = await showApprovalPage(deps, { link, viewer: null });
    // Assess
    expect(page.status).toBe(409);
    expect(failure?.kind).toBe('reused');
    expect(page.body).toContain(APPROVER);
  });
});

describe('recordAttempt and pageForOutcome', () => {
  it('audits a decision as approval_decided on the execution stream, without the token', async () => {
    // Prepare
    const { deps, form } = await setup();
    const outcome = await decideFromForm(deps, {
      approvalId: APPROVAL_ID,
      form: form(),
      approver: APPROVER,
    });
    // Act
    const draft = recordAttempt(outcome);
    // Assess
    const parsed = parseAuditDraft({ ...draft, environment: 'local' });
    expect(parsed).toMatchObject({
      kind: 'approval_decided',
      actor: APPROVER,
      stream: 'execution:day3-2013-10-09',
      subject: { execution_id: EXECUTION_ARN, genome_id: 'genome-7f3a', agent_id: 'agent-03' },
      payload: { decision: 'approved', approval_id: APPROVAL_ID, channel: 'web' },
    });
    expect(JSON.stringify(draft)).not.toContain(TASK_TOKEN);
    expect(pageForOutcome(outcome).body).toContain('<h1>Approved</h1>');
  });

  it('audits a refusal as input_rejected with its reason', async () => {
    // Prepare
    const { deps, form } = await setup();
    const outcome = await decideFromForm(deps, {
      approvalId: APPROVAL_ID,
      form: { ...form(), csrf: 'x' },
      approver: APPROVER,
    });
    // Act
    const draft = parseAuditDraft({ ...recordAttempt(outcome), environment: 'local' });
    // Assess
    expect(draft).toMatchObject({
      kind: 'input_rejected',
      actor: APPROVER,
      stream: `approval:${APPROVAL_ID}`,
      payload: {
        source: 'approval-page',
        field: 'csrf',
        reason: 'csrf',
        error: 'SignatureInvalidError',
      },
    });
    expect(pageForOutcome(outcome).status).toBe(403);
  });

  it('audits a refusal with a hostile id and approver under safe names', async () => {
    // Prepare
    const { deps } = await setup();
    const outcome = await decideFromForm(deps, {
      approvalId: '<script>',
      form: {},
      approver: '<script>',
    });
    // Act
    const draft = parseAuditDraft({ ...recordAttempt(outcome), environment: 'local' });
    // Assess
    expect(draft).toMatchObject({
      kind: 'input_rejected',
      actor: 'stagegate/approval-page',
      stream: 'approval:invalid',
      payload: { reason: 'malformed' },
    });
  });
});
