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
