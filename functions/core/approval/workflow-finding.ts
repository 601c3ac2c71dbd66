/**
 * What the Day-3 workflow did with a decision whose re-sent resume Step Functions refused:
 * read from the execution's state (DescribeExecution), never assumed. A refused re-send alone
 * cannot tell "an earlier delivery already resumed it" from "its wait had timed out" (Step
 * Functions refuses a used token as it refuses a timed-out one); the execution can:
 *
 * - `RUNNING` (or `PENDING_REDRIVE`): the re-send failed and the execution has not ended: an
 *   earlier delivery may have resumed it; if it still waits, its deadline ends it not approved;
 * - `SUCCEEDED`: its output (the Conclude step's `Day3Conclusion`) says the decision it took:
 *   approved and micro-live started (or not, and why), rejected, or timed out = not approved;
 * - `FAILED`, `TIMED_OUT`, `ABORTED`: it ended without concluding the review: no go-ahead.
 *
 * Anything that cannot be read (DescribeExecution failed, an output that is not a conclusion)
 * stays `unconfirmed`: fail closed, an approval is never claimed.
 */
import * as z from 'zod';
import type { ExecutionDescription, ExecutionStatus } from '../../ports/executions.js';
import type { ApprovalDecision } from './types.js';

/** What a redelivery answers after its re-sent resume was refused. */
export interface WorkflowFinding {
  /**
   * `running`: the execution has not ended; `concluded`: it ended and `decision` says what it
   * decided (null: it ended without concluding the review); `unconfirmed`: its state could not
   * be read, nothing is claimed.
   */
  readonly finding: 'running' | 'concluded' | 'unconfirmed';
  /** DescribeExecution's status, null when it could not be read. */
  readonly status: ExecutionStatus | null;
  /** The decision the workflow concluded with (`expired`: timed out = not approved). */
  readonly decision: ApprovalDecision | 'expired' | null;
  /** The workflow's outcome (`micro_live_started`, `not_approved`, ...), null when none. */
  readonly outcome: string | null;
  /** One sentence for the approver and the audit record. */
  readonly message: string;
}

/** The fields of the Day-3 execution's output (`Day3Conclusion`) a finding reads. */
const ConclusionSchema = z.looseObject({
  outcome: z.string().min(1),
  reason: z.string(),
  decision: z.enum(['approved', 'rejected', 'expired']).nullable(),
  decidedBy: z.string().nullable(),
  sliceId: z.string().nullable(),
});
type Conclusion = z.infer<typeof ConclusionSchema>;

const RECORDED = 'Your decision is recorded. ';

/** The finding of an execution as DescribeExecution describes it. */
export function workflowFinding(described: ExecutionDescription): WorkflowFinding {
  const { status } = described;
  if (status === 'RUNNING' || status === 'PENDING_REDRIVE') {
    return {
      finding: 'running',
      status,
      decision: null,
      outcome: null,
      message: `${RECORDED}Re-sending it to the workflow failed: the execution is still running (${status}) and no longer accepts this request's token. An earlier delivery may already have resumed it; if it is still waiting for a decision, its deadline ends it as not approved.`,
    };
  }
  if (status !== 'SUCCEEDED') {
    const error = described.error ? ` (${described.error})` : '';
    return {
      finding: 'concluded',
      status,
      decision: null,
      outcome: null,
      message: `${RECORDED}The workflow ended ${status}${error} without concluding the review: no go-ahead was taken, no micro-live slice was confirmed.`,
    };
  }
  const parsed = ConclusionSchema.safeParse(described.output);
  if (!parsed.success) {
    return unconfirmedFinding('its output does not say the decision it took', status);
  }
  return concluded(parsed.data);
}

/** A SUCCEEDED execution's conclusion, in words. */
function concluded(c: Conclusion): WorkflowFinding {
  const base = { finding: 'concluded', status: 'SUCCEEDED', decision: c.decision } as const;
  const by = c.decidedBy ? ` by ${c.decidedBy}` : '';
  const said = (what: string) => ({
    ...base,
    outcome: c.outcome,
    message: `${RECORDED}The workflow has concluded: ${what}.`,
  });
  if (c.decision === 'approved' && c.outcome === 'micro_live_started') {
    return said(`approved${by} and micro-live started${c.sliceId ? ` (slice ${c.sliceId})` : ''}`);
  }
  if (c.decision === 'approved')
    return said(`approved${by}, but micro-live did not start: ${c.reason}`);
  if (c.decision === 'rejected') return said(`rejected${by} = not approved`);
  if (c.decision === 'expired')
    return said('timed out = not approved (no decision reached it before its deadline)');
  return said(`not approved (${c.outcome}: ${c.reason})`);
}

/** A finding that claims nothing: the execution's state could not be read (`why`). */
export function unconfirmedFinding(
  why: string,
  status: ExecutionStatus | null = null,
): WorkflowFinding {
  return {
    finding: 'unconfirmed',
    status,
    decision: null,
    outcome: null,
    message: `${RECORDED}The workflow no longer accepts it, and what it did could not be read (${why}): an earlier delivery may already have resumed it, or its wait had timed out. Check the execution before acting on either.`,
  };
}
