/**
 * The `semver` stand-in of the deployed bundles (functions/adapters/aws/semver-gte.cjs): the one
 * comparison the X-Ray SDK's dependencies make, on plain versions, and a loud failure otherwise.
 */
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';

const require = createRequire(import.meta.url);
const shim = require('../../../functions/adapters/aws/semver-gte.cjs') as {
  gte: (a: string, b: string) => boolean;
};

describe('semver stand-in', () => {
  it('compares plain major.minor.patch versions numerically, not as text', () => {
    expect(shim.gte('22.23.3', '8.0.0')).toBe(true);
    expect(shim.gte('v8.0.0', '8.0.0')).toBe(true);
    expect(shim.gte('1.9.0', '1.10.0')).toBe(false);
    expect(shim.gte('2.0.0', '1.99.99')).toBe(true);
    expect(shim.gte('2.522.0', '2.7.15')).toBe(true);
  });

  it('throws on a version it cannot compare exactly (a range or a pre-release)', () => {
    expect(() => shim.gte('1.0.0-beta.1', '1.0.0')).toThrow(/not a plain major.minor.patch/);
    expect(() => shim.gte('1.0.0', '^1.0.0')).toThrow(/not a plain major.minor.patch/);
  });
});
