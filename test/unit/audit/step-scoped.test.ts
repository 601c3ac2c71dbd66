/**
 * stepScopedAuditSink (functions/core/audit/step-scoped.ts) and the handlers' helpers
 * (functions/handlers/shared/audit-step.ts): a retry of a step appends nothing and gets the
 * first attempt's records; another loop iteration, another execution, and a second append of
 * one kind in one invocation all append.
 */
import { describe, expect, it } from 'vitest';
import { stepScopedAuditSink } from '../../../functions/core/audit/step-scoped.js';
import { withNestedAuditStep } from '../../../functions/handlers/shared/audit-step.js';
import type { AuditDraft } from '../../../functions/ports/audit.js';
import { ManualClock } from '../../../functions/ports/clock.js';
import { MemoryAuditSink } from '../../support/doubles/memory-audit-sink.js';

const step = { execution_id: 'arn:aws:states:us-east-1:1:execution:pp:e1', state: 'Tick' };
const draft = (reason: string, at: string): AuditDraft => ({
  kind: 'schedule_skipped',
  actor: 'stagegate/test',
  stream: 'promotion:p-1',
  environment: 'local',
  payload: { schedule: 'promotion', reason, at },
});

/** One invocation: two appends of one kind, then a batch of two. */
async function invocation(sink: MemoryAuditSink, input: unknown, at: string) {
  const audit = stepScopedAuditSink(sink, step, input);
  const a = await audit.append(draft('first', at));
  const b = await audit.append(draft('second', at));
  const c = await audit.appendMany([draft('third', at), draft('fourth', at)]);
  return [a, b, ...c];
}

describe('stepScopedAuditSink', () => {
  it('a retry (same step, same input, another clock reading) appends nothing and gets the first records', async () => {
    // Prepare
    const clock = new ManualClock(Date.UTC(2024, 2, 4, 15));
    const sink = new MemoryAuditSink(clock);
    const first = await invocation(sink, { state: { ticks: 3 } }, '15:00');
    // Act
    clock.advance(60_000);
    const retry = await invocation(sink, { state: { ticks: 3 } }, '15:01');
    // Assess
    expect(sink.records()).toHaveLength(4);
    expect(first.map((r) => r.seq)).toEqual([0, 1, 2, 3]);
    expect(retry).toEqual(first);
  });

  it('another loop iteration (other input) and another execution append their own records', async () => {
    // Prepare
    const sink = new MemoryAuditSink(new ManualClock(Date.UTC(2024, 2, 4, 15)));
    await invocation(sink, { state: { ticks: 3 } }, '15:00');
    // Act
    await invocation(sink, { state: { ticks: 4 } }, '15:00');
    const other = stepScopedAuditSink(
      sink,
      { ...step, execution_id: `${step.execution_id}x` },
      {
        state: { ticks: 3 },
      },
    );
    await other.append(draft('first', '15:00'));
    // Assess
    expect(sink.records()).toHaveLength(9);
  });

  it('withNestedAuditStep scopes the Day-3 promotion sink and a top-level audit that is the same sink', async () => {
    // Prepare
    const sink = new MemoryAuditSink(new ManualClock(Date.UTC(2024, 2, 4, 15)));
    const deps = { audit: sink, promotion: { audit: sink } };
    const event = { step, selection: { id: 's' } };
    // Act: a retried invocation appends through both references
    for (let attempt = 0; attempt < 2; attempt += 1) {
      const scoped = withNestedAuditStep(deps, event);
      await scoped.promotion.audit.append(draft('via promotion', '15:00'));
      await scoped.audit.append(draft('via top level', '15:00'));
    }
    // Assess: one count per invocation across both references; without step, the deps as is
    expect(sink.records()).toHaveLength(2);
    const withoutStep: { step?: typeof step; selection: unknown } = { selection: { id: 's' } };
    expect(withNestedAuditStep(deps, withoutStep)).toBe(deps);
  });
});
