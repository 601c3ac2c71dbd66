/**
 * `bin/lazy-asl-validator.mjs` stands in for `asl-validator` inside the local interpreter when
 * the CLI runs through `bin/launch.mjs`: it must not load the validator until a definition is
 * validated, and then answer exactly as the validator does.
 */
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';

const require = createRequire(import.meta.url);
const loaded = () => Object.keys(require.cache).some((k) => k.includes('/asl-validator/'));

describe('lazy asl-validator', () => {
  it('loads the validator on its first call and gives its verdicts', async () => {
    // Prepare
    const { default: lazy } = await import('../../../bin/lazy-asl-validator.mjs');
    const valid = { StartAt: 'Done', States: { Done: { Type: 'Pass', End: true } } };
    const invalid = { StartAt: 'Missing', States: { Done: { Type: 'Pass' } } };
    const options = { checkPaths: true, checkArn: true };
    const notYet = loaded();

    // Act
    const a = lazy(valid, options);
    const b = lazy(invalid, options);

    // Assess
    expect(notYet).toBe(false);
    expect(loaded()).toBe(true);
    const real = require('asl-validator') as typeof lazy;
    expect(a.isValid).toBe(true);
    expect(a.errors).toEqual(real(valid, options).errors);
    expect(b.isValid).toBe(false);
    expect(b.errors).toEqual(real(invalid, options).errors);
    expect(b.errorsText()).toBe(real(invalid, options).errorsText());
  });
});
