/**
 * A $50 bankroll end to end on the local stack: a 30-agent cohort (1.67 USD slices, fractional
 * shares, fees a large share of each trade) and the promotion pipeline on its best candidate,
 * with the $10 capital slice of the small-bankroll rule (docs/evidence.md).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalStack, startLocalStack } from '../../local/local-stack.js';
import { runTestCohort } from '../support/cohort.js';
import { DATA_ROOT } from '../support/paths.js';

let stack: LocalStack;

beforeAll(async () => {
  stack = await startLocalStack({ dataRoot: DATA_ROOT, stateDir: 'memory', logLevel: 'SILENT' });
});

afterAll(async () => {
  await stack?.stop();
});

describe('a $50 bankroll through the pipeline', () => {
  it('simulates the cohort on fractional shares and promotes a passing candidate on a $10 slice, PnL at parity to the cent', async () => {
    // Prepare: the cohort of 2013-10-07
    const cohortId = await runTestCohort(stack, {
      sessionDate: '2013-10-07',
      executionName: 'it-small-cohort',
      bankrollUsd: 50,
      // Seed 2: Alpaca's USD 1 minimum of a fractional buy keeps most 1.67 USD agents of
      // seed 1 from trading (their best candidate makes 2 round trips, below the gate's 4)
      seed: 2,
    });

    // Act: the promotion on 2013-10-08, five minutes before the window opens
    stack.clock.set(Date.parse('2013-10-08T13:55:00.000Z'));
    const result = await stack.promotionPipeline.execute(
      { source: 'test', cohortId },
      { executionName: 'it-small-promo' },
    );

    // Assess
    expect(result.status).toBe('SUCCEEDED');
    const gates = (
      result.stateOutputs.EvaluateGates as {
        gates: { results: { gate: string; verdict: string; reason: string }[] };
      }
    ).gates;
    expect(gates.results.filter((r) => r.verdict === 'fail')).toEqual([]);
    expect(result.output).toMatchObject({ outcome: 'promoted' });
    const stage = result.stateOutputs.StageCandidate as {
      staged: { promotion: { capitalSliceUsd: number } };
    };
    expect(stage.staged.promotion.capitalSliceUsd).toBe(10);
    const session = (
      result.stateOutputs.PaperSession as {
        session: { output: { orders: { filledQty: number }[]; parity: { differenceUsd: number } } };
      }
    ).session.output;
    expect(session.orders.some((o) => !Number.isInteger(o.filledQty))).toBe(true);
    expect(Math.round(session.parity.differenceUsd * 100)).toBe(0);
  });
});
