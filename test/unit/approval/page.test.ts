import { describe, expect, it } from 'vitest';
import {
  type ApprovalPageErrorKind,
  downsampleEquityCurve,
  ERROR_PAGE_STATUS,
  equityCurveSvg,
  escapeHtml,
  PAGE_HEADERS,
  renderConfirmationPage,
  renderErrorPage,
  renderResultPage,
} from '../../../functions/core/approval/page.js';
import {
  APPROVAL_ID,
  gate,
  HOSTILE,
  HOUR_MS,
  hostileSummary,
  NOW_MS,
  summary,
} from './fixtures.js';

const CURVE: Array<readonly [number, number]> = [
  [NOW_MS - 2 * HOUR_MS, 1000],
  [NOW_MS - HOUR_MS, 990],
  [NOW_MS, 1012],
];

function confirmation(overrides: Partial<Parameters<typeof renderConfirmationPage>[0]> = {}) {
  return renderConfirmationPage({
    summary: summary(),
    equityCurve: CURVE,
    approvalId: APPROVAL_ID,
    exp: 1381363200,
    sig: 's'.repeat(43),
    csrfToken: 'c'.repeat(43),
    expiresAtIso: '2013-10-10T00:00:00.000Z',
    ...overrides,
  });
}

/** Every `<tag` in the document. */
const tags = (html: string) => [...html.matchAll(/<([a-zA-Z][a-zA-Z0-9]*)/g)].map((m) => m[1]);

describe('escapeHtml', () => {
  it('escapes the five HTML-significant characters', () => {
    // Act / Assess
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe(
      '&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;',
    );
  });
});

describe('renderConfirmationPage', () => {
  it('renders a form that POSTs decision, csrf, exp and sig to the same approval URL', () => {
    // Act
    const page = confirmation();
    // Assess
    expect(page.status).toBe(200);
    expect(page.body).toContain(`<form method="post" action="./${APPROVAL_ID}">`);
    expect(page.body).toContain(`<input type="hidden" name="csrf" value="${'c'.repeat(43)}">`);
    expect(page.body).toContain('<input type="hidden" name="exp" value="1381363200">');
    expect(page.body).toContain(`<input type="hidden" name="sig" value="${'s'.repeat(43)}">`);
    expect(page.body).toContain('name="decision" value="approve"');
    expect(page.body).toContain('name="decision" value="reject"');
  });

  it("carries this render's nonce as a hidden field (escaped), and none when not given", () => {
    // Act
    const withNonce = confirmation({ nonce: 'n0nce-"1234567890' });
    const without = confirmation();
    // Assess
    expect(withNonce.body).toContain(
      '<input type="hidden" name="nonce" value="n0nce-&quot;1234567890">',
    );
    expect(without.body).not.toContain('name="nonce"');
  });

  it('shows the metrics, the capital slice, the leverage and every gate', () => {
    // Act
    const { body } = confirmation();
    // Assess
    expect(body).toContain('$12.34');
    expect(body).toContain('1.23%');
    expect(body).toContain('1.82');
    expect(body).toContain('$50.00');
    expect(body).toContain('2.0x');
    expect(body).toContain('drawdown_agent');
    expect(body).toContain('<td class="fail">FAIL</td>');
    expect(body).toContain('Gates (1 passed, 1 failed)');
    expect(body).toContain('<polyline');
  });

  it('shows a gate not judged yet as NOT JUDGED, counted apart from the passes and failures', () => {
    // Prepare: the daily baseline gate without paper sessions
    const notJudged = gate({
      gate: 'baseline',
      verdict: 'not_judged',
      observed: '0 session(s)',
      threshold: '1 to judge',
      unit: 'out-of-sample sessions',
      reason: 'not judged yet',
    });
    // Act
    const { body } = confirmation({
      summary: summary({ gates: [...summary().gates, notJudged] }),
    });
    // Assess
    expect(body).toContain('<td class="not-judged">NOT JUDGED</td>');
    expect(body).toContain('Gates (1 passed, 1 failed, 1 not judged)');
  });

  it('labels the Sharpe ratio with its frequency and sample size, and shows both samples', () => {
    // Prepare
    const base = summary();
    const labelled = {
      ...base,
      metrics: {
        ...base.metrics,
        sharpe: 0.41,
        sharpeSessions: 3,
        annualizedSharpe: null,
        inSampleRoi: 0.004,
        inSampleSessions: 2,
        outOfSampleRoi: -0.0015,
        outOfSampleSessions: 1,
      },
    };
    // Act
    const { body } = confirmation({ summary: labelled });
    const old = confirmation();
    // Assess
    expect(body).toContain('0.41 per session (n = 3 sessions, not annualized)');
    expect(body).toContain('In sample (the selection saw them)');
    expect(body).toContain('0.40% per session, n = 2');
    expect(body).toContain('Out of sample (after the selection)');
    expect(body).toContain('-0.15% per session, n = 1');
    expect(body).not.toContain('(annualized)');
    expect(old.body).toContain('1.82 (sample size not recorded)');
  });

  it("shows the candidate's paper track record (sessions, paper PnL, parity, counted)", () => {
    // Prepare
    const base = summary();
    const withPaper = {
      ...base,
      metrics: {
        ...base.metrics,
        paperSessions: 2,
        paperPnlUsd: -0.13,
        paperParitySessions: 2,
        paperCountedSessions: 1,
      },
    };
    const none = { ...base, metrics: { ...base.metrics, paperSessions: 0 } };
    // Act
    const { body } = confirmation({ summary: withPaper });
    // Assess
    expect(body).toContain('Paper sessions (broker fills)');
    expect(body).toMatch(
      /2 session\(s\), paper PnL -\$0\.13, 2 at parity to the cent, 1 counted in the evidence/,
    );
    expect(confirmation({ summary: none }).body).toContain(
      'none (no paper session of this genome yet)',
    );
    expect(confirmation().body).not.toContain('Paper sessions (broker fills)');
  });

  it("shows the baseline comparison: the candidate's out-of-sample mean beside the best baseline's, both sample sizes", () => {
    // Prepare
    const base = summary();
    const baseline = {
      candidateMeanReturn: -0.00104,
      candidateSessions: 2,
      bestBaseline: 'flat',
      bestMeanReturn: 0,
      bestSessions: 2,
      missingDates: [],
    };
    const withBaseline = { ...base, metrics: { ...base.metrics, baseline } };
    const failedClosed = { ...base, metrics: { ...base.metrics, baseline: null } };
    // Act
    const { body } = confirmation({ summary: withBaseline });
    // Assess
    expect(body).toContain('Baseline (flat, buy-and-hold of the symbol)');
    expect(body).toContain(
      'candidate -0.104% per session (n=2) vs best baseline flat 0% per session (n=2), out of sample on the same sessions, bars and costs',
    );
    expect(confirmation({ summary: failedClosed }).body).toContain(
      'not compared (the baseline gate failed closed)',
    );
    expect(confirmation().body).not.toContain('Baseline (flat, buy-and-hold of the symbol)');
  });

  it('sends the protective headers', () => {
    // Act
    const page = confirmation();
    // Assess
    expect(page.headers).toBe(PAGE_HEADERS);
    expect(page.headers['referrer-policy']).toBe('no-referrer');
    expect(page.headers['cache-control']).toBe('no-store');
    expect(page.headers['content-security-policy']).toContain("default-src 'none'");
    expect(page.headers['content-security-policy']).toContain("frame-ancestors 'none'");
  });

  it('escapes hostile candidate, gate and link strings', () => {
    // Act
    const { body } = confirmation({
      summary: hostileSummary(),
      sig: '"><script>x</script>',
      csrfToken: '" autofocus onfocus="alert(1)',
    });
    // Assess
    expect(body).not.toContain(HOSTILE);
    expect(body).not.toContain('<script');
    expect(body).not.toContain('<img');
    expect(body).not.toContain('<b>SPY</b>');
    expect(body).not.toContain('" autofocus');
    expect(body).toContain('&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;');
    expect(new Set(tags(body))).toEqual(
      new Set([
        'html',
        'head',
        'meta',
        'title',
        'style',
        'body',
        'main',
        'h1',
        'p',
        'strong',
        'a',
        'h2',
        'table',
        'tr',
        'th',
        'td',
        'svg',
        'line',
        'polyline',
        'text',
        'form',
        'input',
        'label',
        'br',
        'textarea',
        'div',
        'button',
      ]),
    );
  });

  it('drops a report link that is not http(s)', () => {
    // Act
    const { body } = confirmation({ summary: summary({ reportUrl: 'javascript:alert(1)' }) });
    // Assess
    expect(body).not.toContain('javascript:');
    expect(body).not.toContain('Open the run report');
  });
});

describe('equity chart', () => {
  it('renders a placeholder for fewer than two finite points', () => {
    // Act
    const svg = equityCurveSvg([
      [NOW_MS, Number.NaN],
      [NOW_MS + 1, 5],
    ]);
    // Assess
    expect(svg).toContain('no equity data');
    expect(svg).not.toContain('<polyline');
  });

  it('downsamples while keeping the first, last, lowest and highest points', () => {
    // Prepare
    const curve = Array.from(
      { length: 10_000 },
      (_, i) => [i, 1000 + Math.sin(i / 50) * 10] as const,
    );
    const withDip = curve.map(([t, v]) => (t === 4321 ? ([t, 500] as const) : ([t, v] as const)));
    // Act
    const out = downsampleEquityCurve(withDip, 200);
    // Assess
    expect(out.length).toBeLessThanOrEqual(200);
    expect(out[0]).toEqual(withDip[0]);
    expect(out[out.length - 1]).toEqual(withDip[withDip.length - 1]);
    expect(out).toContainEqual([4321, 500]);
    expect(out.map(([t]) => t)).toEqual([...out.map(([t]) => t)].sort((a, b) => a - b));
  });
});

describe('renderResultPage', () => {
  it('says who decided what, escaped', () => {
    // Act
    const page = renderResultPage('rejected', 'web:<mallory>', '2013-10-09T20:00:00.000Z');
    // Assess
    expect(page.status).toBe(200);
    expect(page.body).toContain('<h1>Rejected</h1>');
    expect(page.body).toContain('web:&lt;mallory&gt;');
    expect(page.body).toContain('2013-10-09T20:00:00.000Z');
  });
});

describe('renderErrorPage', () => {
  it.each<[ApprovalPageErrorKind, number, string]>([
    ['tampered', 403, 'Invalid approval link'],
    ['expired', 410, 'Approval request expired'],
    ['reused', 409, 'Already decided'],
    ['forbidden', 403, 'Not an approver'],
    ['missing', 404, 'Approval request not found'],
    ['csrf', 403, 'Form check failed'],
    ['malformed', 400, 'Malformed request'],
  ])('renders %s with status %i', (kind, status, title) => {
    // Act
    const page = renderErrorPage(kind, `detail ${HOSTILE}`);
    // Assess
    expect(page.status).toBe(status);
    expect(ERROR_PAGE_STATUS[kind]).toBe(status);
    expect(page.body).toContain(`<h1>${title}</h1>`);
    expect(page.body).toContain('Nothing was changed.');
    expect(page.body).not.toContain('<script');
  });
});
