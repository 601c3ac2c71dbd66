import { describe, expect, it } from 'vitest';
import { type Exemptions, judgeAudit } from '../../../bin/dependency-audit.js';

const GHSA = 'https://github.com/advisories/GHSA-aaaa-bbbb-cccc';

/** The shape `npm audit --json` prints (npm 7+), reduced to what the check reads. */
function report(severity: string) {
  return {
    vulnerabilities: {
      'some-lib': {
        via: [{ name: 'some-lib', url: GHSA, severity, title: 'Prototype pollution' }],
      },
      'uses-some-lib': { via: ['some-lib'] },
    },
  };
}

const none: Exemptions = { exemptions: [] };
const exempt = (expires: string): Exemptions => ({
  exemptions: [
    {
      advisory: GHSA,
      package: 'some-lib',
      reason: 'Only reachable through a code path stagegate never calls (checked by hand).',
      expires,
    },
  ],
});

describe('dependency audit verdict', () => {
  it('fails on a moderate advisory that is not exempted, naming it', () => {
    // Act
    const verdict = judgeAudit(report('moderate'), none, '2026-12-04');

    // Assess
    expect(verdict).toEqual({
      kind: 'failed',
      open: [
        { package: 'some-lib', advisory: GHSA, severity: 'moderate', title: 'Prototype pollution' },
      ],
      expired: [],
    });
  });

  it('passes a low advisory, and an exempted high one until its expiry', () => {
    // Act
    const low = judgeAudit(report('low'), none, '2026-12-04');
    const exempted = judgeAudit(report('high'), exempt('2026-12-31'), '2026-12-04');

    // Assess
    expect(low).toEqual({ kind: 'passed', exempted: [] });
    expect(exempted.kind).toBe('passed');
  });

  it('fails once an exemption has expired, even for a clean report', () => {
    // Act
    const verdict = judgeAudit({ vulnerabilities: {} }, exempt('2026-12-03'), '2026-12-04');

    // Assess
    expect(verdict.kind).toBe('failed');
  });

  it('skips (and says why) when the advisory endpoint did not answer', () => {
    // Prepare: what npm prints when the registry refuses the bulk advisory endpoint
    const refused = {
      message:
        '405 Method Not Allowed - POST https://registry.example/-/npm/v1/security/advisories/bulk',
      statusCode: 405,
    };

    // Act
    const verdict = judgeAudit(refused, none, '2026-12-04');
    const noJson = judgeAudit(undefined, none, '2026-12-04');

    // Assess
    expect(verdict).toEqual({
      kind: 'skipped',
      reason: expect.stringContaining('405 Method Not Allowed'),
    });
    expect(noJson.kind).toBe('skipped');
  });
});
