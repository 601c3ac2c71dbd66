import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { isKnownValid, rememberValid } from '../../../local/asl-validation-cache.js';

const definition = () => ({
  StartAt: 'Done',
  States: { Done: { Type: 'Pass', Result: randomUUID(), End: true } },
});

describe('ASL validation cache', () => {
  it('knows a definition once it was recorded valid, for the same options only', () => {
    // Prepare
    const def = definition();
    const options = { checkPaths: true, checkArn: true };

    // Act / Assess
    expect(isKnownValid(def, options)).toBe(false);
    rememberValid(def, options);
    expect(isKnownValid(def, options)).toBe(true);
    expect(isKnownValid(structuredClone(def), options)).toBe(true);
    expect(isKnownValid(def, { checkPaths: false })).toBe(false);
  });

  it('does not take a changed definition for a validated one', () => {
    // Prepare
    const def = definition();
    rememberValid(def, {});

    // Act
    const changed = { ...def, States: { Done: { ...def.States.Done, Result: 'other' } } };

    // Assess
    expect(isKnownValid(changed, {})).toBe(false);
  });
});

describe('ASL validation cache in the local runner', () => {
  it('validates a definition once: the next load of the same file skips the validator', async () => {
    // Prepare: the learning-cycle machine with stub functions (never invoked here).
    const { LocalStateMachine } = await import('../../../local/asl-runner.js');
    const stub = async () => ({});
    const functions = [
      { placeholder: 'RunLearningCycleFunctionArn', name: 'RunLearningCycle', handler: stub },
      { placeholder: 'RecordAuditFunctionArn', name: 'RecordAudit', handler: stub },
    ];

    // Act: the first load validates (or finds an earlier run's record), the second must not.
    await LocalStateMachine.load('learning-cycle.asl.json', functions as never, {});
    const second = await LocalStateMachine.load('learning-cycle.asl.json', functions as never, {});

    // Assess
    expect(second.validatedNow).toBe(false);
  });
});
