/**
 * The `record-audit` handler (the ASL's RecordAudit / RecordRejection / RecordFailure steps)
 * hands the workflow's untyped JSON to the sink, which checks it against the per-kind schema:
 * a valid draft is chained once per step key; an invalid one is dead-lettered and refused,
 * with or without a step key, and nothing is chained.
 */
import { describe, expect, it } from 'vitest';
import type { StoreRuntime } from '../../../functions/composition/stores.js';
import { ValidationError } from '../../../functions/core/errors.js';
import { createHandler } from '../../../functions/handlers/record-audit.js';
import { ManualClock } from '../../../functions/ports/clock.js';
import { localLambdaContext } from '../../../local/asl-runner.js';
import { MemoryAuditSink } from '../../support/doubles/memory-audit-sink.js';

function harness() {
  const audit = new MemoryAuditSink(new ManualClock(Date.UTC(2024, 2, 4, 15, 0, 0)));
  // Only `env.STAGE` and `audit` are read by this handler.
  const runtime = { env: { STAGE: 'local' }, audit } as unknown as StoreRuntime;
  const handler = createHandler(() => runtime);
  const call = (event: unknown) => handler(event, localLambdaContext('record-audit', 10_000));
  return { audit, call };
}

const executionId = 'arn:aws:states:us-east-1:123456789012:execution:pipeline:e-1';
/** What promotion-pipeline.asl.json's RecordSkipped sends, resolved. */
const draft = {
  kind: 'schedule_skipped',
  actor: 'stagegate/promotion-pipeline',
  stream: 'execution:e-1',
  subject: { execution_id: executionId },
  payload: { schedule: 'promotion', reason: 'outside the promotion window' },
};
const step = { execution_id: executionId, state: 'RecordSkipped' };

describe('record-audit', () => {
  it('chains a valid draft once per step, with the stage as its environment', async () => {
    const { audit, call } = harness();
    const first = (await call({ draft, step })) as { seq: number };
    const retried = (await call({ draft, step })) as { seq: number };
    expect(retried).toEqual(first);
    expect(audit.records()).toHaveLength(1);
    expect(audit.records()[0]?.environment).toBe('local');
    expect(audit.records()[0]?.kind).toBe('schedule_skipped');
  });

  it.each([
    ['with a step key', { step }],
    ['without a step key', {}],
  ])('dead-letters a draft of an unknown kind %s and chains nothing', async (_what, extra) => {
    const { audit, call } = harness();
    const bad = { ...draft, kind: 'schedule_teleported' };
    await expect(call({ draft: bad, ...extra })).rejects.toBeInstanceOf(ValidationError);
    expect(audit.records()).toHaveLength(0);
    expect(audit.rejected).toHaveLength(1);
    expect(audit.rejected[0]?.draft).toMatchObject({ kind: 'schedule_teleported' });
  });

  it('dead-letters a payload that breaks its kind schema', async () => {
    const { audit, call } = harness();
    await expect(
      call({ draft: { ...draft, payload: { schedule: 'promotion', reason: 42 } }, step }),
    ).rejects.toBeInstanceOf(ValidationError);
    expect(audit.records()).toHaveLength(0);
    expect(audit.rejected).toHaveLength(1);
  });
});
