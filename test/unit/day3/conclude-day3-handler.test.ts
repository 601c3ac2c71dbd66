/**
 * The conclude-day3 handler (middy + zod, the real handler factory) sweeps the approval
 * request's signatures before it concludes: a signature whose `approval_decided` record a door
 * crashed before appending gets it, once, and a retry of the step appends nothing. Ports: the
 * in-memory approval store and audit sink the other approval tests use (same contracts as the
 * DynamoDB store and the S3 sink).
 */
import { describe, expect, it } from 'vitest';
import { decideApproval } from '../../../functions/core/approval/decide.js';
import { createTaskTokenCipher } from '../../../functions/core/approval/token-cipher.js';
import { workflowFinding } from '../../../functions/core/approval/workflow-finding.js';
import { approvalIdFor } from '../../../functions/core/use-cases/day3-request-approval.js';
import { createHandler } from '../../../functions/handlers/conclude-day3.js';
import { ManualClock } from '../../../functions/ports/clock.js';
import { localLambdaContext } from '../../../local/asl-runner.js';
import { day3SelectionFixture } from '../../support/day3-selection.js';
import { MemoryApprovalStore } from '../../support/doubles/memory-approval-store.js';
import { MemoryAuditSink } from '../../support/doubles/memory-audit-sink.js';
import { KEY, NOW_MS, newRequest } from '../approval/fixtures.js';

const OLIVIA = 'web:olivia@example.com';
const NAME = 'day3-2013-10-09';
const EXECUTION_ARN = `arn:aws:states:us-east-1:123456789012:execution:day3-go-no-go:${NAME}`;
const APPROVAL_ID = approvalIdFor(EXECUTION_ARN, KEY);

/** The TimedOut state's event, as the shipped ASL builds it (with its `step`). */
const timedOutEvent = {
  kind: 'timed_out',
  selection: day3SelectionFixture(`d3-${NAME}`),
  execution: { id: EXECUTION_ARN, name: NAME },
  error: { Error: 'States.Timeout', Cause: null },
  step: { execution_id: EXECUTION_ARN, state: 'TimedOut' },
};

/** A request decided by a door that crashed before its record; `legacy`: an older door. */
async function world(legacy: boolean) {
  const clock = new ManualClock(NOW_MS + 5 * 60_000);
  const approvals = new MemoryApprovalStore(createTaskTokenCipher(KEY));
  await approvals.create(
    newRequest({ approvalId: APPROVAL_ID, executionArn: EXECUTION_ARN, approvers: [OLIVIA] }),
  );
  const atIso = new Date(clock.now()).toISOString();
  if (legacy) {
    await approvals.claimDecision(APPROVAL_ID, {
      decision: 'approved',
      by: OLIVIA,
      atIso,
      channel: 'web',
    });
  } else {
    const outcome = await decideApproval(
      { store: approvals, clock },
      {
        approvalId: APPROVAL_ID,
        decision: 'approved',
        approver: OLIVIA,
        channel: 'web',
        attemptKey: ['form', 'n-1'],
      },
    );
    expect(outcome.ok).toBe(true);
  }
  clock.set(NOW_MS + 4 * 3_600_000 + 60_000);
  const audit = new MemoryAuditSink(clock);
  const deps = {
    key: KEY,
    approvals,
    audit,
    environment: 'local',
    promotion: { audit, clock, environment: 'local' },
    microLive: { getMessageRef: async () => null },
    announcer: { outcome: async () => undefined },
  };
  const handler = createHandler(() => deps as never);
  const conclude = () =>
    handler(structuredClone(timedOutEvent), localLambdaContext('ConcludeDay3', 30_000));
  const decided = () =>
    audit
      .records()
      .filter((r) => r.kind === 'approval_decided')
      .map((r) => [r.actor, JSON.parse(r.payload).decision, JSON.parse(r.payload).approval_id]);
  return { conclude, decided, audit };
}

describe('conclude-day3 records the signatures a door left unaudited', () => {
  it.each([
    ['a signature stored with its audit key', false],
    ['a signature an older door stored without its key', true],
  ])(
    '%s: one approval_decided record after Conclude, nothing more on a retry',
    async (_, legacy) => {
      // Prepare
      const w = await world(legacy);

      // Act
      const out = await w.conclude();
      const after = w.audit.records().length;
      await w.conclude();

      // Assess: the signer's record once, beside the timeout's own `expired` record
      expect(out).toMatchObject({ outcome: 'not_approved', decision: 'expired' });
      expect(w.decided()).toEqual([
        [OLIVIA, 'approved', APPROVAL_ID],
        ['stagegate/day3-go-no-go', 'expired', APPROVAL_ID],
      ]);
      expect(w.audit.records()).toHaveLength(after);
    },
  );
});

describe("a redelivery's finding reads what Conclude really returns", () => {
  it('the timed-out conclusion (the execution output, OutputPath $.result) reads "timed out = not approved"', async () => {
    // Prepare: the handler's return is the ASL's `$.result`, which its OutputPath makes the
    // execution's output: what DescribeExecution hands workflowFinding
    const w = await world(false);
    const output = JSON.parse(JSON.stringify(await w.conclude()));

    // Act
    const finding = workflowFinding({
      executionArn: EXECUTION_ARN,
      status: 'SUCCEEDED',
      output,
      error: null,
      cause: null,
      stopDateIso: '2013-10-09T20:00:00.000Z',
    });

    // Assess: a drift of the conclusion's shape would read `unconfirmed` here
    expect(finding).toMatchObject({
      finding: 'concluded',
      status: 'SUCCEEDED',
      decision: 'expired',
      outcome: 'not_approved',
    });
    expect(finding.message).toContain('timed out = not approved');
  });
});
