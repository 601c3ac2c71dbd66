/**
 * The console's plan writes answer what the plan use cases decided, as HTTP: two creates at
 * once are one 201 and one 422 ("is active"); an `Idempotency-Key` reused with another body
 * is a 422 naming the key (the same body answers the first create again); a plan that keeps
 * changing under a create is a 409. Every refusal is in the trail (`plan:commands`).
 */
import { describe, expect, it } from 'vitest';
import { PlanConflictError } from '../../../functions/core/errors.js';
import type { PlanDeps } from '../../../functions/core/use-cases/plans.js';
import { raceReads, threeSessionPlanDeps } from '../../support/plan-deps.js';
import { planConsole } from '../../support/plan-doors.js';

function fixture() {
  const made = threeSessionPlanDeps();
  const apiOver = (deps: PlanDeps) => {
    const request = planConsole(deps, made);
    return async (body: unknown, key?: string) => {
      const res = await request('POST', '/api/plans', body, key);
      return { status: res.status, body: JSON.parse(res.body) as Record<string, unknown> };
    };
  };
  const refusals = () =>
    made.audit
      .records()
      .filter((r) => r.kind === 'input_rejected' && r.stream === 'plan:commands')
      .map((r) => (JSON.parse(r.payload) as { error: string }).error);
  return { ...made, apiOver, refusals };
}

describe('console API: plan writes under concurrency and reused keys', () => {
  it('two creates at once: one 201, one 422 "is active"; one plan stored', async () => {
    // Prepare: both requests read the plan before either stores
    const { deps, store, apiOver, refusals } = fixture();
    const post = apiOver({ ...deps, plans: raceReads(store, 2) });

    // Act
    const answers = await Promise.all([
      post({ amountUsd: 1000, days: 2 }, 'console-key-a-0123456789'),
      post({ amountUsd: 500, days: 3 }, 'console-key-b-0123456789'),
    ]);

    // Assess
    expect(answers.map((a) => a.status).sort()).toEqual([201, 422]);
    expect(answers.find((a) => a.status === 422)?.body.detail).toMatch(/is active/);
    expect(store.writes).toBe(1);
    expect(refusals()).toEqual(['ValidationError']);
  });

  it('an Idempotency-Key reused with another body is a 422 naming the key; the same body answers the first create', async () => {
    // Prepare
    const { deps, apiOver, refusals } = fixture();
    const post = apiOver(deps);
    const key = 'console-key-0123456789';
    const created = await post({ amountUsd: 1000, days: 2 }, key);

    // Act
    const reused = await post({ amountUsd: 1000, days: 3 }, key);
    const again = await post({ amountUsd: 1000, days: 2 }, key);

    // Assess
    expect(created.status).toBe(201);
    expect(reused.status).toBe(422);
    expect(reused.body).toMatchObject({
      title: 'Idempotency key reused',
      field: 'idempotency-key',
    });
    expect(again).toEqual(created);
    expect(refusals()).toEqual(['IdempotencyKeyReusedError']);
  });

  it('a create under a plan that keeps changing is a 409, recorded', async () => {
    // Prepare: every write loses to another request
    const { deps, apiOver, refusals } = fixture();
    const post = apiOver({
      ...deps,
      plans: {
        read: async () => null,
        write: async () => {
          throw new PlanConflictError(null);
        },
      },
    });

    // Act
    const answer = await post({ amountUsd: 1000, days: 2 }, 'console-key-0123456789');

    // Assess
    expect(answer.status).toBe(409);
    expect(answer.body.detail).toMatch(/changed meanwhile.*retry/);
    expect(refusals()).toEqual(['PlanConflictError']);
  });
});
