import { describe, expect, it } from 'vitest';
import { causeMessage, failureDraft } from '../../../functions/core/use-cases/record-failure.js';

describe('causeMessage', () => {
  it('unwraps the Lambda error envelope AWS puts in Cause', () => {
    const cause = JSON.stringify({
      errorType: 'ValidationError',
      errorMessage: 'bankrollUsd: must be between 50 and 100000 USD, got 20',
      trace: ['at x'],
    });
    expect(causeMessage(cause)).toBe('bankrollUsd: must be between 50 and 100000 USD, got 20');
  });

  it('keeps a plain-text cause (the local interpreter) and an empty one', () => {
    expect(causeMessage('no trading session on 2013-10-05')).toBe(
      'no trading session on 2013-10-05',
    );
    expect(causeMessage(undefined)).toBe('');
  });
});

describe('failureDraft', () => {
  const base = {
    source: 'intraday-cohort',
    stream: 'execution:abc',
    executionId: 'arn:aws:states:us-east-1:000000000000:execution:m:abc',
    request: { bankrollUsd: 20 },
  };

  it('names the rejected field of a ValidationError and keeps the request', () => {
    // Act
    const draft = failureDraft({
      ...base,
      kind: 'input_rejected',
      error: 'ValidationError',
      cause: 'bankrollUsd: must be between 50 and 100000 USD, got 20',
    });
    // Assess
    expect(draft.kind).toBe('input_rejected');
    expect(draft.payload).toMatchObject({
      field: 'bankrollUsd',
      error: 'ValidationError',
      request: { bankrollUsd: 20 },
    });
    expect(draft.subject.execution_id).toBe(base.executionId);
  });

  it('leaves field empty for other errors', () => {
    const draft = failureDraft({
      ...base,
      kind: 'workflow_failed',
      error: 'TransientError',
      cause: 'x: y',
    });
    expect(draft.payload.field).toBe('');
    expect(draft.actor).toBe('stagegate/intraday-cohort');
  });
});
