/**
 * The CLI prints typed results: every state output it reads is declared once (state, result
 * path, type) and checked against the workflow's ASL file, so renaming a state or its result
 * path fails loudly instead of silently dropping a table from the output.
 */
import { describe, expect, it } from 'vitest';
import type { LocalExecutionResult } from '../../../local/asl-runner.js';
import {
  COHORT_VIEW,
  DAY3_VIEW,
  INGESTION_VIEW,
  LEARNING_VIEW,
  PROMOTION_VIEW,
  readExecution,
  viewProblems,
} from '../../../local/execution-views.js';

const execution = (overrides: Partial<LocalExecutionResult>): LocalExecutionResult => ({
  status: 'SUCCEEDED',
  path: [],
  stateOutputs: {},
  ...overrides,
});

describe('typed CLI results of local executions', () => {
  it('declares only states and result paths that the workflows define', () => {
    // Act
    const problems = [
      PROMOTION_VIEW,
      DAY3_VIEW,
      INGESTION_VIEW,
      COHORT_VIEW,
      LEARNING_VIEW,
    ].flatMap((v) => viewProblems(v));

    // Assess
    expect(problems).toEqual([]);
  });

  it('refuses to read through a view whose state or result path is not in the definition', () => {
    // Prepare: the gates as if EvaluateGates had been renamed, the paper session re-pathed
    const renamed = {
      ...PROMOTION_VIEW,
      fields: {
        ...PROMOTION_VIEW.fields,
        gates: { ...PROMOTION_VIEW.fields.gates, state: 'EvaluateRiskGates' },
        paperSession: { ...PROMOTION_VIEW.fields.paperSession, key: 'paper' },
      },
    };

    // Act
    const problems = viewProblems(renamed);
    const read = () => readExecution(renamed, execution({}));

    // Assess
    expect(problems).toEqual([
      'promotion-pipeline.asl.json: state EvaluateRiskGates (printed as gates) does not exist',
      'promotion-pipeline.asl.json: state PaperSession does not write $.paper (printed as paperSession)',
    ]);
    expect(read).toThrow(/CLI output out of date: .*EvaluateRiskGates/);
  });

  it('reads the typed fields, a nested execution output and the output of a run', () => {
    // Prepare
    const gates = { passed: false, results: [{ gate: 'leverage', passed: false }] };
    const session = { parity: { promotionId: 'pr-1' }, orders: [] };
    const ok = execution({
      output: { promotionId: 'pr-1', outcome: 'gates_failed', reason: 'leverage' },
      stateOutputs: {
        EvaluateGates: { request: {}, gates },
        PaperSession: { session: { executionArn: 'arn', status: 'SUCCEEDED', output: session } },
      },
    });
    const failed = execution({ status: 'FAILED', error: 'Boom', cause: 'why', output: { x: 1 } });

    // Act
    const run = readExecution(PROMOTION_VIEW, ok);
    const failedRun = readExecution(PROMOTION_VIEW, failed);

    // Assess
    expect(run.gates).toEqual(gates);
    expect(run.paperSession).toEqual(session);
    expect(run.staged).toBeUndefined();
    expect(run.reconciliation).toBeUndefined();
    expect(run.output).toEqual({
      promotionId: 'pr-1',
      outcome: 'gates_failed',
      reason: 'leverage',
    });
    expect([failedRun.status, failedRun.error, failedRun.cause, failedRun.output]).toEqual([
      'FAILED',
      'Boom',
      'why',
      undefined,
    ]);
  });
});
