/**
 * One record per logical attempt (applyApprovalDecision's `attemptKey`): a redelivered request
 * appends nothing and answers as its first delivery did; another key is another attempt; a
 * fresh signature is never swallowed by a key an earlier refusal committed.
 */
import { describe, expect, it } from 'vitest';
import type { ApprovalStep } from '../../../functions/core/approval/chain.js';
import { decideApproval } from '../../../functions/core/approval/decide.js';
import { createTaskTokenCipher } from '../../../functions/core/approval/token-cipher.js';
import {
  type ApplyDecisionDeps,
  applyApprovalDecision,
} from '../../../functions/core/use-cases/day3-approval.js';
import { ManualClock } from '../../../functions/ports/clock.js';
import { LocalExecutionRegistry } from '../../../local/local-executions.js';
import { MemoryApprovalStore } from '../../support/doubles/memory-approval-store.js';
import { MemoryAuditSink } from '../../support/doubles/memory-audit-sink.js';
import { APPROVAL_ID, NOW_MS, newRequest } from './fixtures.js';

const OLIVIA = 'web:olivia@example.com';
const RICK = 'web:rick@example.com';
const CHAIN: ApprovalStep[] = [
  { role: 'operator', approvers: [OLIVIA] },
  { role: 'risk', approvers: [RICK] },
];

async function world() {
  const clock = new ManualClock(NOW_MS + 5 * 60_000);
  const store = new MemoryApprovalStore(createTaskTokenCipher(new Uint8Array(32).fill(7)));
  await store.create(newRequest({ approvers: [OLIVIA, RICK], chain: CHAIN }));
  const audit = new MemoryAuditSink(clock);
  const sent: string[] = [];
  const executions = new LocalExecutionRegistry();
  const apply: ApplyDecisionDeps = {
    approvals: store,
    environment: 'local',
    audit,
    executions,
    taskTokens: {
      sendTaskSuccess: async () => void sent.push('success'),
      sendTaskFailure: async () => void sent.push('failure'),
      sendTaskHeartbeat: async () => undefined,
    },
    announcer: { progress: async () => undefined, outcome: async () => undefined } as never,
    microLive: { getMessageRef: async () => null } as never,
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
          channel: 'web',
          attemptKey: key,
        },
      ),
      null,
      key,
    );
  const kinds = () =>
    audit.records().map((r) => [r.kind, r.actor, JSON.parse(r.payload).reason ?? null]);
  return { attempt, kinds, sent };
}

describe('applyApprovalDecision with an attempt key', () => {
  it('a redelivery of a recorded signature appends nothing and answers the recorded signature', async () => {
    // Prepare
    const w = await world();
    const first = await w.attempt(OLIVIA, ['click', 'a-1']);

    // Act
    const again = await w.attempt(OLIVIA, ['click', 'a-1']);

    // Assess
    expect(first.execution).toBe('waiting');
    expect(again).toMatchObject({ execution: 'waiting', replayed: true });
    expect(again.answer).toEqual(first.answer);
    expect(again.auditRecordId).toBe(first.auditRecordId);
    expect(w.kinds()).toEqual([['approval_decided', OLIVIA, null]]);
  });

  it('control: another key is another attempt, refused and recorded (twice in all)', async () => {
    // Prepare
    const w = await world();
    await w.attempt(OLIVIA, ['click', 'a-1']);

    // Act
    const again = await w.attempt(OLIVIA, ['click', 'a-2']);

    // Assess
    expect(again).toMatchObject({ execution: 'refused', replayed: false });
    expect(again.answer).toMatchObject({ ok: false, kind: 'signed', httpStatus: 409 });
    expect(w.kinds()).toEqual([
      ['approval_decided', OLIVIA, null],
      ['input_rejected', OLIVIA, 'signed'],
    ]);
  });

  it('a redelivered refusal answers the recorded refusal once', async () => {
    // Prepare: the risk officer signs before the operator (not due yet)
    const w = await world();
    const first = await w.attempt(RICK, ['click', 'r-1']);

    // Act
    const again = await w.attempt(RICK, ['click', 'r-1']);

    // Assess
    expect(first.answer).toMatchObject({ ok: false, kind: 'forbidden', httpStatus: 403 });
    expect(again).toMatchObject({ execution: 'refused', replayed: true });
    expect(again.answer).toEqual(first.answer);
    expect(w.kinds()).toEqual([['input_rejected', RICK, 'forbidden']]);
  });

  it('a signature made under a key an earlier refusal committed is still recorded, and resumes', async () => {
    // Prepare: refused as not due, then the operator signs
    const w = await world();
    await w.attempt(RICK, ['click', 'r-1']);
    await w.attempt(OLIVIA, ['click', 'o-1']);

    // Act: the same request again, now due
    const signed = await w.attempt(RICK, ['click', 'r-1']);

    // Assess
    expect(signed.execution).toBe('resumed');
    expect(signed.answer).toMatchObject({ ok: true, status: 'approved', complete: true });
    expect(w.sent).toEqual(['success']);
    expect(w.kinds()).toEqual([
      ['input_rejected', RICK, 'forbidden'],
      ['approval_decided', OLIVIA, null],
      ['approval_decided', RICK, null],
    ]);
  });
});
