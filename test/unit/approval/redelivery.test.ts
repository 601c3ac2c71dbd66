/**
 * Redeliveries of a signing request (issue 17, "nothing lost, nothing doubled"): a redelivery
 * whose first delivery failed to resume the execution re-sends the resume with the stored task
 * token and answers from what actually happened; a redelivery whose first delivery crashed
 * between the signature and its audit record appends that record once; the Conclude sweep
 * appends a signature's missing record once. Each redelivery records once and resumes once.
 */
import { describe, expect, it } from 'vitest';
import type { ApprovalStep } from '../../../functions/core/approval/chain.js';
import {
  decideApproval,
  signatureAuditKey,
  signatureDraft,
} from '../../../functions/core/approval/decide.js';
import { createTaskTokenCipher } from '../../../functions/core/approval/token-cipher.js';
import type { AuditDraft, AuditRecord } from '../../../functions/core/audit/record.js';
import { appendKeyedOnce } from '../../../functions/core/audit/step-scoped.js';
import {
  AuditWriteError,
  TaskTokenInvalidError,
  TransientError,
} from '../../../functions/core/errors.js';
import {
  type ApplyDecisionDeps,
  applyApprovalDecision,
  recordMissingSignatures,
} from '../../../functions/core/use-cases/day3-approval.js';
import { ManualClock } from '../../../functions/ports/clock.js';
import { LocalExecutionRegistry } from '../../../local/local-executions.js';
import { MemoryApprovalStore } from '../../support/doubles/memory-approval-store.js';
import { MemoryAuditSink } from '../../support/doubles/memory-audit-sink.js';
import { APPROVAL_ID, EXECUTION_ARN, NOW_MS, newRequest, TASK_TOKEN } from './fixtures.js';

const OLIVIA = 'web:olivia@example.com';
const RICK = 'web:rick@example.com';

/** A sink whose next `failures` keyed appends fail as a crash would (nothing stored). */
class CrashingAuditSink extends MemoryAuditSink {
  failures = 0;
  override async appendManyOnce(
    drafts: readonly AuditDraft[],
    key: string,
  ): Promise<{ records: AuditRecord[]; replayed: boolean }> {
    if (this.failures > 0) {
      this.failures -= 1;
      throw new AuditWriteError('append', 'execution:day3', 'injected crash before the record');
    }
    return super.appendManyOnce(drafts, key);
  }
}

/** How each send goes: `ok`, a transient fault, or the token refused (the task timed out). */
type SendPlan = 'ok' | 'transient' | 'timed_out';

async function world(chain?: ApprovalStep[]) {
  const clock = new ManualClock(NOW_MS + 5 * 60_000);
  const store = new MemoryApprovalStore(createTaskTokenCipher(new Uint8Array(32).fill(7)));
  await store.create(
    newRequest(chain ? { approvers: [OLIVIA, RICK], chain } : { approvers: [OLIVIA, RICK] }),
  );
  const audit = new CrashingAuditSink(clock);
  const plan: SendPlan[] = [];
  const sent: { token: string; kind: string }[] = [];
  const send = async (token: string, kind: string) => {
    const next = plan.shift() ?? 'ok';
    if (next === 'transient') throw new TransientError('SendTaskSuccess: throttled');
    if (next === 'timed_out') throw new TaskTokenInvalidError('timed_out', 'SendTaskSuccess');
    sent.push({ token, kind });
  };
  const executions = new LocalExecutionRegistry();
  /** What the channel was told: the decision (`outcome`) or the workflow's finding. */
  const announced: Record<string, unknown>[] = [];
  const apply: ApplyDecisionDeps = {
    approvals: store,
    environment: 'local',
    audit,
    clock,
    executions,
    taskTokens: {
      sendTaskSuccess: (token) => send(token, 'success'),
      sendTaskFailure: (token) => send(token, 'failure'),
      sendTaskHeartbeat: async () => undefined,
    },
    announcer: {
      progress: async () => undefined,
      outcome: async (_s, o) => void announced.push({ kind: 'outcome', decision: o.decision }),
      finding: async (_s, f) => void announced.push({ kind: 'finding', ...f }),
      request: async () => ({ channel: 'C1', ts: '1.0' }),
    },
    microLive: { getMessageRef: async () => ({ channel: 'C1', ts: '1.0' }) } as never,
  };
  const attempt = async (approver: string, key: unknown[] | null) =>
    applyApprovalDecision(
      apply,
      await decideApproval(
        { store, clock },
        {
          approvalId: APPROVAL_ID,
          decision: 'approved',
          approver,
          channel: 'slack',
          attemptKey: key,
        },
      ),
      null,
      key,
    );
  const decided = () =>
    audit
      .records()
      .filter((r) => r.kind !== 'approval_reconciled')
      .map((r) => [
        r.kind,
        r.actor,
        JSON.parse(r.payload).decision ?? JSON.parse(r.payload).reason,
      ]);
  const reconciled = () =>
    audit
      .records()
      .filter((r) => r.kind === 'approval_reconciled')
      .map((r) => ({ actor: r.actor, stream: r.stream, ...JSON.parse(r.payload) }));
  return {
    store,
    audit,
    plan,
    sent,
    attempt,
    decided,
    apply,
    clock,
    executions,
    reconciled,
    announced,
  };
}

type World = Awaited<ReturnType<typeof world>>;

/**
 * The world after Olivia's first click (`a-1`) was recorded but its resume failed (a transient
 * SendTaskSuccess fault); `thenSends` is how the sends after it go.
 */
async function afterFailedResume(...thenSends: SendPlan[]): Promise<World> {
  const w = await world();
  w.plan.push('transient', ...thenSends);
  await expect(w.attempt(OLIVIA, ['click', 'a-1'])).rejects.toBeInstanceOf(TransientError);
  return w;
}

/** The execution's result when the review timed out: SUCCEEDED, not approved. */
const TIMED_OUT_REVIEW = {
  status: 'SUCCEEDED',
  output: {
    outcome: 'not_approved',
    reason: 'not approved: no decision within 14400 s (States.Timeout)',
    decision: 'expired',
    decidedBy: null,
    sliceId: null,
  },
} as const;

describe('a redelivered approval whose first resume failed (S1)', () => {
  it('re-sends the resume with the stored token, answers "resumed", and records once', async () => {
    // Prepare: the first delivery records the approval, then SendTaskSuccess fails
    const w = await afterFailedResume();

    // Act: Slack redelivers the same click
    const again = await w.attempt(OLIVIA, ['click', 'a-1']);

    // Assess
    expect(again).toMatchObject({ execution: 'resumed', replayed: true });
    expect(again.answer).toMatchObject({ ok: true, status: 'approved', complete: true });
    expect(w.sent).toEqual([{ token: TASK_TOKEN, kind: 'success' }]);
    expect(w.decided()).toEqual([['approval_decided', OLIVIA, 'approved']]);
    expect((await w.store.getForDisplay(APPROVAL_ID)).resume?.outcome).toBe('resumed');
  });

  it('answers "unconfirmed", never "gone", when the re-sent resume is refused (timed out, or resumed by the first delivery), recording once', async () => {
    // Prepare: the first send fails; the redelivery's send is refused
    const w = await afterFailedResume('timed_out');

    // Act
    const again = await w.attempt(OLIVIA, ['click', 'a-1']);

    // Assess: Step Functions refuses a spent token as it refuses a timed-out one
    expect(again).toMatchObject({ execution: 'unconfirmed', replayed: true });
    expect(w.sent).toEqual([]);
    expect(w.decided()).toEqual([['approval_decided', OLIVIA, 'approved']]);
    expect((await w.store.getForDisplay(APPROVAL_ID)).resume).toBeFalsy();
  });

  it('a first delivery that resumed but could not store its mark: the redelivery does not say "not approved"', async () => {
    // Prepare: the resume succeeds, the mark fails; the token is spent for the redelivery
    const w = await world();
    const markResume = w.store.markResume.bind(w.store);
    w.store.markResume = async () => {
      throw new TransientError('UpdateItem: throttled');
    };
    const first = await w.attempt(OLIVIA, ['click', 'a-1']);
    w.store.markResume = markResume;
    w.plan.push('timed_out');

    // Act
    const again = await w.attempt(OLIVIA, ['click', 'a-1']);

    // Assess
    expect(first).toMatchObject({ execution: 'resumed', replayed: false });
    expect(again).toMatchObject({ execution: 'unconfirmed', replayed: true });
    expect(again.execution).not.toBe('gone');
    expect(w.sent).toEqual([{ token: TASK_TOKEN, kind: 'success' }]);
    expect(w.decided()).toEqual([['approval_decided', OLIVIA, 'approved']]);
  });

  it('answers "gone" when the fresh claim\'s own resume is refused (the task had timed out)', async () => {
    // Prepare
    const w = await world();
    w.plan.push('timed_out');

    // Act
    const first = await w.attempt(OLIVIA, ['click', 'a-1']);

    // Assess
    expect(first).toMatchObject({ execution: 'gone', replayed: false });
    expect((await w.store.getForDisplay(APPROVAL_ID)).resume?.outcome).toBe('gone');
  });

  it('a redelivery after a resume that worked answers "resumed" and sends nothing again', async () => {
    // Prepare
    const w = await world();
    const first = await w.attempt(OLIVIA, ['click', 'a-1']);

    // Act: the next send would be refused (the token is spent): it must not be tried
    w.plan.push('timed_out');
    const again = await w.attempt(OLIVIA, ['click', 'a-1']);

    // Assess
    expect(first).toMatchObject({ execution: 'resumed', replayed: false });
    expect(again).toMatchObject({ execution: 'resumed', replayed: true });
    expect(again.auditRecordId).toBe(first.auditRecordId);
    expect(w.sent).toHaveLength(1);
    expect(w.decided()).toEqual([['approval_decided', OLIVIA, 'approved']]);
  });

  it('control: another click by the same approver is another attempt, refused and recorded (twice in all)', async () => {
    // Prepare
    const w = await afterFailedResume();

    // Act
    const other = await w.attempt(OLIVIA, ['click', 'a-2']);

    // Assess: not a redelivery, so it neither resumes nor claims the decision as its own
    expect(other).toMatchObject({ execution: 'refused', replayed: false });
    expect(w.sent).toEqual([]);
    expect(w.decided()).toEqual([
      ['approval_decided', OLIVIA, 'approved'],
      ['input_rejected', OLIVIA, 'reused'],
    ]);
  });
});

describe('a crash between the signature and its audit record', () => {
  it('resumes nothing on the first delivery; the redelivery appends the record once, then resumes', async () => {
    // Prepare: the claim is stored, the record's append crashes
    const w = await world();
    w.audit.failures = 1;
    await expect(w.attempt(OLIVIA, ['click', 'a-1'])).rejects.toBeInstanceOf(AuditWriteError);
    expect(w.sent).toEqual([]);
    expect(w.decided()).toEqual([]);

    // Act
    const again = await w.attempt(OLIVIA, ['click', 'a-1']);

    // Assess
    expect(again).toMatchObject({ execution: 'resumed', replayed: true });
    expect(w.sent).toHaveLength(1);
    expect(w.decided()).toEqual([['approval_decided', OLIVIA, 'approved']]);
  });

  it('the Conclude sweep appends a missing signature record once, and nothing for recorded ones', async () => {
    // Prepare: operator signs (recorded), the risk officer's record crashes
    const w = await world([
      { role: 'operator', approvers: [OLIVIA] },
      { role: 'risk', approvers: [RICK] },
    ]);
    await w.attempt(OLIVIA, ['click', 'o-1']);
    w.audit.failures = 1;
    await expect(w.attempt(RICK, ['click', 'r-1'])).rejects.toBeInstanceOf(AuditWriteError);

    // Act
    const first = await recordMissingSignatures(w.apply, APPROVAL_ID);
    const second = await recordMissingSignatures(w.apply, APPROVAL_ID);

    // Assess
    expect([first, second]).toEqual([1, 0]);
    expect(w.decided()).toEqual([
      ['approval_decided', OLIVIA, 'approved'],
      ['approval_decided', RICK, 'approved'],
    ]);
    const last = w.audit.records().at(-1) as AuditRecord;
    expect(JSON.parse(last.payload)).toMatchObject({ chain_step: 2, chain_complete: true });
  });

  it('control: a sweep after a recorded signature and a redelivery appends nothing', async () => {
    // Prepare
    const w = await world();
    await w.attempt(OLIVIA, ['click', 'a-1']);
    await w.attempt(OLIVIA, ['click', 'a-1']);

    // Act
    const appended = await recordMissingSignatures(w.apply, APPROVAL_ID);

    // Assess
    expect(appended).toBe(0);
    expect(w.decided()).toEqual([['approval_decided', OLIVIA, 'approved']]);
  });
});

describe('the Conclude sweep and signatures stored before signatures carried their audit key', () => {
  /** A signature as the older doors stored it: claimed without `auditKey`. */
  async function legacyClaim(w: World, by: string) {
    const atIso = new Date(NOW_MS + 5 * 60_000).toISOString();
    const claim = { decision: 'approved' as const, by, atIso, channel: 'slack' as const };
    const claimed = await w.store.claimDecision(APPROVAL_ID, claim);
    expect(claimed.signature.auditKey).toBeUndefined();
    return claimed;
  }

  it('appends the record of a keyless signature an older door left unrecorded, once, under the key the doors derive', async () => {
    // Prepare: the older door claimed, then crashed before its record
    const w = await world();
    await legacyClaim(w, OLIVIA);

    // Act
    const first = await recordMissingSignatures(w.apply, APPROVAL_ID);
    const second = await recordMissingSignatures(w.apply, APPROVAL_ID);

    // Assess
    expect([first, second]).toEqual([1, 0]);
    expect(w.decided()).toEqual([['approval_decided', OLIVIA, 'approved']]);
    const record = w.audit.records()[0] as AuditRecord;
    expect(JSON.parse(record.payload)).toMatchObject({
      approval_id: APPROVAL_ID,
      chain_step: 1,
      chain_complete: true,
    });
    // The key a redelivery without an attempt key derives: it finds the sweep's record
    const view = await w.store.getForDisplay(APPROVAL_ID);
    const again = await w.audit.appendManyOnce(
      [{ ...signatureDraft(view, view.signatures[0] as never, true), environment: 'local' }],
      signatureAuditKey(APPROVAL_ID, OLIVIA, null),
    );
    expect(again.replayed).toBe(true);
  });

  it('control: a keyless signature the older door recorded (under its attempt key) is not recorded twice', async () => {
    // Prepare: the older door's claim and its record under the click's attempt key
    const w = await world();
    const claimed = await legacyClaim(w, OLIVIA);
    w.clock.set(Date.parse(claimed.atIso) + 2_000);
    const view = await w.store.getForDisplay(APPROVAL_ID);
    await appendKeyedOnce(
      w.audit,
      { ...signatureDraft(view, claimed.signature, true), environment: 'local' },
      ['approval-attempt', 'click', 'a-1'],
    );
    w.clock.set(Date.parse(claimed.atIso) + 6 * 3_600_000);

    // Act
    const appended = await recordMissingSignatures(w.apply, APPROVAL_ID);

    // Assess
    expect(appended).toBe(0);
    expect(w.decided()).toEqual([['approval_decided', OLIVIA, 'approved']]);
  });
});

describe('a redelivery whose re-sent resume is refused answers from the execution (DescribeExecution)', () => {
  /** The first delivery's send fails; the redelivery's is refused (a spent or timed-out token). */
  async function refusedRedelivery(prepare: (w: World) => void) {
    const w = await afterFailedResume('timed_out');
    prepare(w);
    return { w, again: await w.attempt(OLIVIA, ['click', 'a-1']) };
  }
  const ended = (w: World, result: Parameters<LocalExecutionRegistry['end']>[1]) => {
    w.executions.started(EXECUTION_ARN);
    w.executions.end(EXECUTION_ARN, result, NOW_MS + 6 * 3_600_000);
  };

  it('still RUNNING: says the re-send failed and the execution runs on, and records it', async () => {
    // Act
    const { w, again } = await refusedRedelivery((w) => w.executions.started(EXECUTION_ARN));

    // Assess
    expect(again).toMatchObject({ execution: 'running', replayed: true });
    expect(again.workflow).toMatchObject({ finding: 'running', status: 'RUNNING', decision: null });
    expect(again.workflow?.message).toMatch(
      /Re-sending it to the workflow failed: the execution is still running/,
    );
    expect(w.reconciled()).toEqual([
      expect.objectContaining({
        actor: 'stagegate/approvals',
        stream: 'execution:day3-2013-10-09',
        approval_id: APPROVAL_ID,
        decision: 'approved',
        finding: 'running',
        execution_status: 'RUNNING',
        workflow_decision: null,
      }),
    ]);
    expect(w.decided()).toEqual([['approval_decided', OLIVIA, 'approved']]);
  });

  it('SUCCEEDED after the approval: "approved and micro-live started", recorded once over two redeliveries', async () => {
    // Prepare
    const { w, again } = await refusedRedelivery((w) =>
      ended(w, {
        status: 'SUCCEEDED',
        output: {
          outcome: 'micro_live_started',
          reason: 'micro-live slice active',
          decision: 'approved',
          decidedBy: OLIVIA,
          sliceId: 'ml-1',
        },
      }),
    );
    w.plan.push('timed_out');

    // Act
    const third = await w.attempt(OLIVIA, ['click', 'a-1']);

    // Assess
    for (const answer of [again, third]) {
      expect(answer).toMatchObject({ execution: 'concluded', replayed: true });
      expect(answer.workflow).toMatchObject({
        decision: 'approved',
        outcome: 'micro_live_started',
        status: 'SUCCEEDED',
      });
      expect(answer.workflow?.message).toContain(
        `approved by ${OLIVIA} and micro-live started (slice ml-1)`,
      );
    }
    expect(w.reconciled()).toHaveLength(1);
    expect(w.reconciled()[0]).toMatchObject({
      finding: 'concluded',
      workflow_decision: 'approved',
      workflow_outcome: 'micro_live_started',
    });
  });

  it('SUCCEEDED by the timeout: "timed out = not approved", never approved', async () => {
    // Act
    const { w, again } = await refusedRedelivery((w) => ended(w, TIMED_OUT_REVIEW));

    // Assess
    expect(again).toMatchObject({ execution: 'concluded' });
    expect(again.workflow).toMatchObject({ decision: 'expired', outcome: 'not_approved' });
    expect(again.workflow?.message).toContain('timed out = not approved');
    expect(w.reconciled()[0]).toMatchObject({ workflow_decision: 'expired' });
  });

  it('FAILED, TIMED_OUT or ABORTED: ended without concluding the review, no go-ahead', async () => {
    for (const [error, cause, status] of [
      ['States.TaskFailed', 'pipeline failed', 'FAILED'],
      ['States.Timeout', 'execution timed out', 'TIMED_OUT'],
      ['ExecutionAborted', 'aborted', 'ABORTED'],
    ] as const) {
      // Act
      const { again } = await refusedRedelivery((w) =>
        ended(w, { status: 'FAILED', error, cause }),
      );

      // Assess
      expect(again).toMatchObject({ execution: 'concluded' });
      expect(again.workflow).toMatchObject({ status, decision: null });
      expect(again.workflow?.message).toContain(`The workflow ended ${status}`);
      expect(again.workflow?.message).toContain('no go-ahead was taken');
    }
  });

  it('the channel is told the finding, never "Approved ... micro-live starting": timed out, failed, still running; an unconfirmed one leaves the message', async () => {
    const cases = [
      ['timed out', (w) => ended(w, TIMED_OUT_REVIEW), 'concluded', 'timed out = not approved'],
      [
        'failed',
        (w) => ended(w, { status: 'FAILED', error: 'States.TaskFailed', cause: 'x' }),
        'concluded',
        'The workflow ended FAILED',
      ],
      ['running', (w) => w.executions.started(EXECUTION_ARN), 'running', 'still running'],
    ] as const satisfies readonly (readonly [string, (w: World) => void, string, string])[];
    for (const [, prepare, finding, says] of cases) {
      // Act
      const { w } = await refusedRedelivery(prepare);

      // Assess
      expect(w.announced).toEqual([
        expect.objectContaining({ kind: 'finding', approvalId: APPROVAL_ID, finding }),
      ]);
      expect(w.announced[0]?.message).toContain(says);
    }
    const { w } = await refusedRedelivery((w) => {
      w.executions.describeExecution = async () => {
        throw new TransientError('DescribeExecution: throttled');
      };
    });
    expect(w.announced).toEqual([]);
  });

  it('control: a redelivery whose re-sent resume goes through announces the decision', async () => {
    // Prepare
    const w = await afterFailedResume();

    // Act
    await w.attempt(OLIVIA, ['click', 'a-1']);

    // Assess
    expect(w.announced).toEqual([{ kind: 'outcome', decision: 'approved' }]);
  });

  it('fails closed: when DescribeExecution fails the answer stays "unconfirmed" and claims nothing', async () => {
    // Act
    const { w, again } = await refusedRedelivery((w) => {
      w.executions.describeExecution = async () => {
        throw new TransientError('DescribeExecution: throttled');
      };
    });

    // Assess
    expect(again).toMatchObject({ execution: 'unconfirmed' });
    expect(again.workflow).toMatchObject({ finding: 'unconfirmed', status: null, decision: null });
    expect(again.workflow?.message).toContain('DescribeExecution failed: TransientError');
    expect(again.workflow?.message).not.toMatch(/approved/);
    expect(w.reconciled()).toEqual([
      expect.objectContaining({ finding: 'unconfirmed', execution_status: null }),
    ]);
  });
});
