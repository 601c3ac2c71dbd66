import { describe, expect, it } from 'vitest';
import {
  type ApprovalStep,
  approvalChainSchema,
  chainIsSatisfiable,
} from '../../../functions/core/approval/chain.js';
import {
  type ApprovalDeps,
  decideApproval,
  decideFromForm,
  pageForOutcome,
  recordAttempt,
} from '../../../functions/core/approval/decide.js';
import {
  approvalCsrfToken,
  buildApprovalLink,
  expFromMs,
} from '../../../functions/core/approval/links.js';
import { createTaskTokenCipher } from '../../../functions/core/approval/token-cipher.js';
import type { AuditDraft } from '../../../functions/core/audit/record.js';
import { parseAuditDraft } from '../../../functions/core/audit/record.js';
import {
  ApprovalDuplicateSignerError,
  ApprovalExpiredError,
  ApprovalForbiddenError,
} from '../../../functions/core/errors.js';
import {
  type ApplyDecisionDeps,
  applyApprovalDecision,
} from '../../../functions/core/use-cases/day3-approval.js';
import { ManualClock } from '../../../functions/ports/clock.js';
import { LocalExecutionRegistry } from '../../../local/local-executions.js';
import { MemoryApprovalStore } from '../../support/doubles/memory-approval-store.js';
import { APPROVAL_ID, HOUR_MS, KEY, NOW_MS, newRequest, TASK_TOKEN } from './fixtures.js';

const OLIVIA = 'web:olivia@example.com';
const OSCAR = 'slack:UOSCAR';
const RICK = 'web:rick@example.com';
/** Operator then risk officer: the two-person rule. */
const CHAIN: ApprovalStep[] = [
  { role: 'operator', approvers: [OLIVIA, OSCAR] },
  { role: 'risk', approvers: [RICK] },
];

async function setup(chain: ApprovalStep[] | undefined = CHAIN) {
  const clock = new ManualClock(NOW_MS + 5 * 60_000);
  const store = new MemoryApprovalStore(createTaskTokenCipher(KEY));
  await store.create(newRequest({ approvers: [OLIVIA, OSCAR, RICK], ...(chain ? { chain } : {}) }));
  const deps: ApprovalDeps = { store, key: KEY, clock };
  const sign = (
    approver: string,
    decision: 'approved' | 'rejected' = 'approved',
    extra: { note?: string; roles?: string[] } = {},
  ) =>
    decideApproval(deps, { approvalId: APPROVAL_ID, decision, approver, channel: 'web', ...extra });
  return { clock, store, deps, sign };
}

/** Records what the apply step did: audit drafts and task-token calls. */
function applyDeps(deps: ApprovalDeps) {
  const drafts: AuditDraft[] = [];
  const sent: string[] = [];
  const executions = new LocalExecutionRegistry();
  const apply: ApplyDecisionDeps = {
    approvals: deps.store,
    environment: 'local',
    audit: {
      append: async (d: AuditDraft) => {
        drafts.push(parseAuditDraft(d) as AuditDraft);
        return { id: `rec-${drafts.length}` } as never;
      },
    } as never,
    executions,
    taskTokens: {
      sendTaskSuccess: async (token: string) => void sent.push(`success:${token}`),
      sendTaskFailure: async (token: string, error: string) => void sent.push(`${error}:${token}`),
      sendTaskHeartbeat: async () => undefined,
    },
    announcer: { request: async () => ({}), outcome: async () => undefined } as never,
    microLive: { getMessageRef: async () => null } as never,
  };
  return { apply, drafts, sent };
}

describe('approval chain configuration', () => {
  it('refuses a chain that distinct approvers cannot complete', () => {
    // One person listed for both steps could only ever sign once.
    const solo = [
      { role: 'operator' as const, approvers: [OLIVIA] },
      { role: 'risk' as const, approvers: [OLIVIA] },
    ];
    expect(chainIsSatisfiable(solo)).toBe(false);
    expect(approvalChainSchema.safeParse(solo).success).toBe(false);
    // Two people both eligible for both steps can: whoever signs first takes step 1.
    const both = [
      { role: 'operator' as const, approvers: [OLIVIA, RICK] },
      { role: 'risk' as const, approvers: [OLIVIA, RICK] },
    ];
    expect(approvalChainSchema.safeParse(both).success).toBe(true);
    expect(chainIsSatisfiable([...CHAIN, { role: 'risk', approvers: [RICK, OLIVIA] }])).toBe(true);
    expect(chainIsSatisfiable([...CHAIN, { role: 'risk', approvers: [RICK] }])).toBe(false);
  });

  it('refuses a request whose chain names someone off its allow-list', async () => {
    const store = new MemoryApprovalStore(createTaskTokenCipher(KEY));
    await expect(store.create(newRequest({ approvers: [OLIVIA], chain: CHAIN }))).rejects.toThrow(
      /chain/,
    );
  });
});

describe('a two-signature chain (operator then risk)', () => {
  it('keeps the token after one signature and releases it only with the second, distinct one', async () => {
    // Prepare
    const { store, sign } = await setup();
    // Act
    const first = await sign(OLIVIA, 'approved', { note: 'evidence checked' });
    // Assess: recorded, but nothing to resume with
    expect(first).toMatchObject({ ok: true, step: 1, role: 'operator', chainComplete: false });
    expect(first.ok && first.taskToken).toBeNull();
    expect(await store.getForDisplay(APPROVAL_ID)).toMatchObject({
      status: 'pending',
      signatures: [{ step: 1, by: OLIVIA, note: 'evidence checked', decision: 'approved' }],
    });
    // Act
    const second = await sign(RICK, 'approved', { note: 'within limits' });
    // Assess
    expect(second).toMatchObject({ ok: true, step: 2, role: 'risk', chainComplete: true });
    expect(second.ok && second.taskToken).toBe(TASK_TOKEN);
    expect(JSON.stringify(second)).not.toContain(TASK_TOKEN);
    expect(await store.getForDisplay(APPROVAL_ID)).toMatchObject({
      status: 'approved',
      decidedBy: RICK,
    });
  });

  it('refuses the same approver signing twice, and a second operator for the risk step', async () => {
    // Prepare
    const { sign } = await setup();
    await sign(OLIVIA);
    // Act
    const twice = await sign(OLIVIA);
    const otherOperator = await sign(OSCAR);
    // Assess
    expect(twice).toMatchObject({ ok: false, kind: 'signed', httpStatus: 409, field: 'approver' });
    expect(!twice.ok && twice.error).toBeInstanceOf(ApprovalDuplicateSignerError);
    expect(otherOperator).toMatchObject({ ok: false, kind: 'forbidden', httpStatus: 403 });
    expect(!otherOperator.ok && otherOperator.error.message).toContain('risk signature 2 of 2');
  });

  it('refuses an approval out of turn, but lets the risk officer reject before the operator signs', async () => {
    // Prepare
    const { sign, store } = await setup();
    // Act
    const early = await sign(RICK, 'approved');
    const no = await sign(RICK, 'rejected', { note: 'drawdown too deep' });
    // Assess
    expect(early).toMatchObject({ ok: false, kind: 'forbidden' });
    expect(no).toMatchObject({ ok: true, status: 'rejected', role: 'risk', chainComplete: true });
    expect(no.ok && no.taskToken).toBe(TASK_TOKEN);
    expect((await store.getForDisplay(APPROVAL_ID)).status).toBe('rejected');
  });

  it("requires the due step's role when the edge knows the signer's roles", async () => {
    // Prepare
    const { sign } = await setup([{ role: 'risk', approvers: [RICK, OLIVIA] }]);
    // Act: olivia is on the list but signs in with the operator role only
    const refused = await sign(OLIVIA, 'approved', { roles: ['viewer', 'operator'] });
    const allowed = await sign(RICK, 'approved', { roles: ['viewer', 'risk'] });
    // Assess
    expect(refused).toMatchObject({ ok: false, kind: 'forbidden' });
    expect(!refused.ok && refused.error).toBeInstanceOf(ApprovalForbiddenError);
    expect(!refused.ok && refused.error.message).toContain('lacks the risk role');
    expect(allowed).toMatchObject({ ok: true, chainComplete: true });
  });

  it('treats the deadline as no: a half-signed request expires', async () => {
    // Prepare
    const { sign, clock } = await setup();
    await sign(OLIVIA);
    clock.set(NOW_MS + 4 * HOUR_MS);
    // Act
    const late = await sign(RICK);
    // Assess
    expect(late).toMatchObject({ ok: false, kind: 'expired', httpStatus: 410 });
    expect(!late.ok && late.error).toBeInstanceOf(ApprovalExpiredError);
  });

  it('audits every signature with its note and place in the chain; resumes only on the last', async () => {
    // Prepare
    const { deps, sign } = await setup();
    const { apply, drafts, sent } = applyDeps(deps);
    // Act
    const first = await applyApprovalDecision(
      apply,
      await sign(OLIVIA, 'approved', { note: 'ok' }),
    );
    const second = await applyApprovalDecision(apply, await sign(RICK));
    // Assess
    expect(first.execution).toBe('waiting');
    expect(second.execution).toBe('resumed');
    expect(sent).toEqual([`success:${TASK_TOKEN}`]);
    expect(drafts.map((d) => [d.kind, d.actor])).toEqual([
      ['approval_decided', OLIVIA],
      ['approval_decided', RICK],
    ]);
    expect(drafts[0]?.payload).toMatchObject({
      decision: 'approved',
      note: 'ok',
      chain_step: 1,
      chain_steps: 2,
      role: 'operator',
      chain_complete: false,
    });
    expect(drafts[1]?.payload).toMatchObject({ note: null, chain_step: 2, chain_complete: true });
    expect(JSON.stringify(drafts)).not.toContain(TASK_TOKEN);
  });
});

describe('the approval page with a chain', () => {
  it('records the form note and says the request waits for the next signature', async () => {
    // Prepare
    const { deps } = await setup();
    const exp = expFromMs(NOW_MS + 4 * HOUR_MS);
    const link = buildApprovalLink(
      { baseUrl: 'https://a.example.com', approvalId: APPROVAL_ID, exp },
      KEY,
    );
    const form = {
      decision: 'approve',
      csrf: approvalCsrfToken(APPROVAL_ID, exp, KEY),
      exp: String(exp),
      sig: link.sig,
      note: '<b>fine</b>',
    };
    // Act
    const outcome = await decideFromForm(deps, { approvalId: APPROVAL_ID, form, approver: OLIVIA });
    const page = pageForOutcome(outcome);
    const tooLong = await decideFromForm(deps, {
      approvalId: APPROVAL_ID,
      form: { ...form, note: 'x'.repeat(1001) },
      approver: RICK,
    });
    // Assess
    expect(outcome).toMatchObject({ ok: true, note: '<b>fine</b>', chainComplete: false });
    expect(recordAttempt(outcome).payload).toMatchObject({ note: '<b>fine</b>' });
    expect(page.status).toBe(200);
    expect(page.body).toContain('Signature 1 of 2');
    expect(tooLong).toMatchObject({ ok: false, kind: 'malformed', field: 'note' });
  });
});
