/**
 * The approval page, rendered as complete HTML documents by pure functions (no templates, no
 * I/O). Every interpolated value goes through {@link escapeHtml}; attribute values are always
 * double-quoted. The page runs no script; its response headers (see {@link PAGE_HEADERS})
 * forbid scripts, framing, caching and the Referer header (the link in the address bar is a
 * bearer capability and must not leak to the run report's host).
 *
 * GET renders {@link renderConfirmationPage} (it never changes state); its form POSTs the
 * `decision`, `csrf`, `exp` and `sig` fields back to the same approval URL (see decide.ts).
 */
import { createHash } from 'node:crypto';
import { describeBaselineSummary } from '../gates/baseline.js';
import { countVerdicts, describeVerdictCounts, verdictLabel } from '../gates/types.js';
import type { ApprovalDecision, ApprovalSummary, EquityCurve } from './types.js';

/** An HTTP response the handler can return as is. */
export interface RenderedPage {
  /** Suggested HTTP status. */
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  /** Complete HTML document, UTF-8. */
  readonly body: string;
}

/** Escapes text for HTML element content and double-quoted attribute values (OWASP rule #1/#2). */
export function escapeHtml(value: unknown): string {
  return String(value)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

const STYLE = [
  'body{font-family:system-ui,sans-serif;margin:2rem auto;max-width:60rem;padding:0 1rem;color:#1b1f24}',
  'h1{font-size:1.5rem}table{border-collapse:collapse;width:100%;margin:1rem 0}',
  'th,td{border:1px solid #d0d7de;padding:.35rem .5rem;text-align:left;vertical-align:top}',
  'td.num{text-align:right;font-variant-numeric:tabular-nums}',
  '.pass{color:#116329}.fail{color:#a40e26;font-weight:600}.not-judged{color:#6e5b00}',
  '.actions{display:flex;gap:1rem;margin:1.5rem 0}',
  'button{font-size:1rem;padding:.6rem 1.4rem;border-radius:6px;border:1px solid #8c959f;cursor:pointer}',
  'button.approve{background:#1f883d;color:#fff}button.reject{background:#cf222e;color:#fff}',
  '.note{color:#57606a}.error{border-left:4px solid #cf222e;padding-left:1rem}',
  'svg{width:100%;height:auto;background:#f6f8fa}',
].join('');

const STYLE_HASH = createHash('sha256').update(STYLE, 'utf8').digest('base64');

/**
 * Response headers of every approval page: HTML, not cacheable, no framing, no Referer, and a
 * CSP that allows nothing but the page's own inline style (by hash) and form posts to itself.
 */
export const PAGE_HEADERS: Readonly<Record<string, string>> = {
  'content-type': 'text/html; charset=utf-8',
  'cache-control': 'no-store',
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'content-security-policy': `default-src 'none'; style-src 'sha256-${STYLE_HASH}'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'`,
};

function document(title: string, main: string, status: number): RenderedPage {
  const body = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex, nofollow">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<main>
${main}
</main>
</body>
</html>
`;
  return { status, headers: PAGE_HEADERS, body };
}

const usd = new Intl.NumberFormat('en-US', {
  style: 'currency',
  currency: 'USD',
  minimumFractionDigits: 2,
  maximumFractionDigits: 2,
});

/** `$1,234.50`; `n/a` for a non-finite value. */
function fmtUsd(v: number): string {
  return Number.isFinite(v) ? usd.format(v) : 'n/a';
}

/** Fraction as a percentage with 2 decimals (`0.0123` -> `1.23%`). */
function fmtPct(v: number): string {
  return Number.isFinite(v) ? `${(v * 100).toFixed(2)}%` : 'n/a';
}

function fmtNum(v: number, digits = 2): string {
  return Number.isFinite(v) ? v.toFixed(digits) : 'n/a';
}

/** Observed / threshold cell of the gate table: numbers to 6 significant digits. */
function fmtGateValue(v: number | string | null): string {
  if (v === null) return 'missing';
  if (typeof v === 'number') return Number.isFinite(v) ? String(Number(v.toPrecision(6))) : 'n/a';
  return v;
}

/**
 * Reduces an equity curve to at most `maxPoints` points, keeping the first and last point and,
 * for each of the equal time-ordered buckets in between, its lowest and highest equity (in time
 * order), so drawdowns and peaks survive the reduction. Non-finite points are dropped.
 *
 * @param maxPoints >= 4.
 */
export function downsampleEquityCurve(curve: EquityCurve, maxPoints: number): EquityCurve {
  const points = curve.filter(([t, v]) => Number.isFinite(t) && Number.isFinite(v));
  const cap = Math.max(4, Math.floor(maxPoints));
  if (points.length <= cap) return points;
  const first = points[0] as readonly [number, number];
  const last = points[points.length - 1] as readonly [number, number];
  const inner = points.slice(1, -1);
  const buckets = Math.floor((cap - 2) / 2);
  const out: Array<readonly [number, number]> = [first];
  for (let b = 0; b < buckets; b++) {
    const from = Math.floor((b * inner.length) / buckets);
    const to = Math.floor(((b + 1) * inner.length) / buckets);
    if (to <= from) continue;
    let lo = from;
    let hi = from;
    for (let i = from; i < to; i++) {
      if ((inner[i] as readonly [number, number])[1] < (inner[lo] as readonly [number, number])[1])
        lo = i;
      if ((inner[i] as readonly [number, number])[1] > (inner[hi] as readonly [number, number])[1])
        hi = i;
    }
    for (const i of lo === hi ? [lo] : lo < hi ? [lo, hi] : [hi, lo]) {
      out.push(inner[i] as readonly [number, number]);
    }
  }
  out.push(last);
  return out;
}

/** Largest number of points drawn in the chart. */
const CHART_POINTS = 600;

/**
 * Inline SVG line chart of an equity curve (`[epoch ms UTC, USD]`, oldest first): time on x,
 * equity on y, labelled with the first/last instant (UTC) and the min/max equity. A curve with
 * fewer than two finite points renders a "no equity data" placeholder.
 */
export function equityCurveSvg(
  curve: EquityCurve,
  size: { readonly width: number; readonly height: number } = { width: 640, height: 220 },
): string {
  const { width, height } = size;
  const pts = downsampleEquityCurve(curve, CHART_POINTS);
  const open = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" role="img" aria-label="Equity curve">`;
  if (pts.length < 2) {
    return `${open}<text x="${width / 2}" y="${height / 2}" text-anchor="middle">no equity data</text></svg>`;
  }
  const pad = { left: 80, right: 16, top: 16, bottom: 36 };
  const t0 = (pts[0] as readonly [number, number])[0];
  const t1 = (pts[pts.length - 1] as readonly [number, number])[0];
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (const [, v] of pts) {
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  const span = hi - lo > 0 ? hi - lo : Math.max(1, Math.abs(hi));
  const yLo = hi - lo > 0 ? lo : lo - span / 2;
  const plotW = width - pad.left - pad.right;
  const plotH = height - pad.top - pad.bottom;
  const x = (t: number, i: number) =>
    pad.left + (t1 > t0 ? ((t - t0) / (t1 - t0)) * plotW : (i / (pts.length - 1)) * plotW);
  const y = (v: number) => pad.top + plotH - ((v - yLo) / span) * plotH;
  const line = pts.map(([t, v], i) => `${x(t, i).toFixed(1)},${y(v).toFixed(1)}`).join(' ');
  const iso = (t: number) => escapeHtml(new Date(t).toISOString().slice(0, 16).replace('T', ' '));
  return [
    open,
    `<line x1="${pad.left}" y1="${pad.top}" x2="${pad.left}" y2="${pad.top + plotH}" stroke="#8c959f"/>`,
    `<line x1="${pad.left}" y1="${pad.top + plotH}" x2="${pad.left + plotW}" y2="${pad.top + plotH}" stroke="#8c959f"/>`,
    `<polyline fill="none" stroke="#0969da" stroke-width="1.5" points="${line}"/>`,
    `<text x="${pad.left - 6}" y="${pad.top + 10}" text-anchor="end" font-size="11">${escapeHtml(fmtUsd(hi))}</text>`,
    `<text x="${pad.left - 6}" y="${pad.top + plotH}" text-anchor="end" font-size="11">${escapeHtml(fmtUsd(lo))}</text>`,
    `<text x="${pad.left}" y="${height - 10}" font-size="11">${iso(t0)} UTC</text>`,
    `<text x="${pad.left + plotW}" y="${height - 10}" text-anchor="end" font-size="11">${iso(t1)} UTC</text>`,
    '</svg>',
  ].join('');
}

/**
 * "0.41 per session (n = 3, not annualized)", or with the annualized figure once the record is
 * long enough (docs/evidence.md). Requests made before the sample size was stored say so.
 */
export function sharpeText(s: ApprovalSummary): string {
  const m = s.metrics;
  if (m.sharpeSessions === undefined) return `${fmtNum(m.sharpe)} (sample size not recorded)`;
  const annual =
    m.annualizedSharpe === null || m.annualizedSharpe === undefined
      ? 'not annualized'
      : `${fmtNum(m.annualizedSharpe)} annualized × √252`;
  return `${fmtNum(m.sharpe)} per session (n = ${m.sharpeSessions} sessions, ${annual})`;
}

/**
 * The candidate's paper track record up to Day 3: "2 sessions, paper PnL -$0.13, 2 at parity
 * to the cent, 2 counted in the evidence"; "none" without sessions.
 */
export function paperText(m: ApprovalSummary['metrics']): string {
  const n = m.paperSessions ?? 0;
  if (n === 0) return 'none (no paper session of this genome yet)';
  return `${n} session(s), paper PnL ${fmtUsd(m.paperPnlUsd ?? 0)}, ${m.paperParitySessions ?? 0} at parity to the cent, ${m.paperCountedSessions ?? 0} counted in the evidence`;
}

/**
 * The `baseline` gate's comparison: "candidate -0.104% per session (n=2) vs best baseline
 * flat 0% per session (n=2), out of sample on the same sessions, bars and costs"; null when the
 * request predates it.
 */
export function baselineText(m: ApprovalSummary['metrics']): string | null {
  if (m.baseline === undefined) return null;
  if (m.baseline === null) return 'not compared (the baseline gate failed closed)';
  return describeBaselineSummary(m.baseline);
}

/** In-sample and out-of-sample mean session returns side by side (walk-forward). */
function sampleRows(s: ApprovalSummary): Array<[string, string]> {
  const m = s.metrics;
  if (m.inSampleRoi === undefined || m.outOfSampleRoi === undefined) return [];
  return [
    [
      'In sample (the selection saw them)',
      `${fmtPct(m.inSampleRoi)} per session, n = ${m.inSampleSessions ?? 0}`,
    ],
    [
      'Out of sample (after the selection)',
      `${fmtPct(m.outOfSampleRoi)} per session, n = ${m.outOfSampleSessions ?? 0}`,
    ],
  ];
}

function baselineRow(m: ApprovalSummary['metrics']): Array<[string, string]> {
  const text = baselineText(m);
  return text === null ? [] : [['Baseline (flat, buy-and-hold of the symbol)', text]];
}

function summaryTable(s: ApprovalSummary): string {
  const rows: Array<[string, string]> = [
    ['Candidate', s.candidateId],
    ['Agent', s.agentId],
    ['Strategy family', s.family],
    ['Symbol', s.symbol],
    ['Sessions', s.sessionDates.join(', ') || 'n/a'],
    ['Total PnL (net of fees)', fmtUsd(s.metrics.totalPnlUsd)],
    ['Return on allocation', fmtPct(s.metrics.roi)],
    ['Sharpe ratio', sharpeText(s)],
    ...sampleRows(s),
    ...(s.metrics.paperSessions !== undefined
      ? [['Paper sessions (broker fills)', paperText(s.metrics)] as [string, string]]
      : []),
    ...baselineRow(s.metrics),
    ["Max drawdown (from the agent's own peak)", fmtPct(s.metrics.maxDrawdownFraction)],
    ['Trades', String(s.metrics.tradeCount)],
    ['Bankroll', fmtUsd(s.bankrollUsd)],
    ['Micro-live capital slice', fmtUsd(s.capitalSliceUsd)],
    ['Starting leverage', `${fmtNum(s.leverage, 1)}x`],
  ];
  const body = rows
    .map(([k, v]) => `<tr><th scope="row">${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`)
    .join('\n');
  return `<table aria-label="Candidate summary">\n${body}\n</table>`;
}

/** The CSS class of a verdict cell: `pass`, `not-judged` (does not block) or `fail`. */
const verdictClass = (v: string): string =>
  v === 'pass' ? 'pass' : v === 'not_judged' ? 'not-judged' : 'fail';

function gateTable(gates: ApprovalSummary['gates']): string {
  if (gates.length === 0) return '<p class="note">No gate results were recorded.</p>';
  const head =
    '<tr><th scope="col">Gate</th><th scope="col">Verdict</th><th scope="col">Observed</th><th scope="col">Threshold</th><th scope="col">Unit</th><th scope="col">Reason</th></tr>';
  const rows = gates
    .map(
      (g) =>
        `<tr><td>${escapeHtml(g.gate)}</td><td class="${verdictClass(g.verdict)}">${escapeHtml(verdictLabel(g.verdict))}</td><td class="num">${escapeHtml(fmtGateValue(g.observed))}</td><td class="num">${escapeHtml(fmtGateValue(g.threshold))}</td><td>${escapeHtml(g.unit)}</td><td>${escapeHtml(g.reason)}</td></tr>`,
    )
    .join('\n');
  return `<table aria-label="Gate results">\n${head}\n${rows}\n</table>`;
}

/** What the confirmation page shows and posts back. */
export interface ConfirmationPageInput {
  readonly summary: ApprovalSummary;
  /** `[epoch ms UTC, equity USD]`, oldest first (downsampled for the chart). */
  readonly equityCurve: EquityCurve;
  readonly approvalId: string;
  /** Link expiry, epoch seconds UTC (posted back as `exp`). */
  readonly exp: number;
  /** Link signature (posted back as `sig`). */
  readonly sig: string;
  /** CSRF token of this approval (links.ts `approvalCsrfToken`), posted back as `csrf`. */
  readonly csrfToken: string;
  /** Request expiry shown to the approver, UTC ISO-8601. */
  readonly expiresAtIso: string;
  /**
   * This render's nonce (posted back as `nonce`; decide.ts `FORM_NONCE_PATTERN`): a double
   * submit or a retried POST of this form is one attempt, recorded once. Absent: no field.
   */
  readonly nonce?: string;
}

/**
 * The GET page: candidate summary, gate table, equity chart, and a form whose Approve / Reject
 * buttons POST `decision` (`approve` | `reject`), `csrf`, `exp`, `sig` (and `nonce`) to `./<approvalId>`
 * (the same approval URL, whatever path prefix the API is mounted under). Status 200.
 */
export function renderConfirmationPage(input: ConfirmationPageInput): RenderedPage {
  const s = input.summary;
  const report =
    s.reportUrl && /^https?:\/\//i.test(s.reportUrl)
      ? `<p><a href="${escapeHtml(s.reportUrl)}" rel="noopener noreferrer" target="_blank">Open the run report</a></p>`
      : '';
  const demo = s.demoOverride
    ? `<p class="demo" role="alert"><strong>${escapeHtml(s.demoOverride)}</strong></p>\n`
    : '';
  const main = `${demo}<h1>Approve micro-live for ${escapeHtml(s.candidateId)} (${escapeHtml(s.symbol)})?</h1>
<p>Approving starts a micro-live slice of <strong>${escapeHtml(fmtUsd(s.capitalSliceUsd))}</strong> at <strong>${escapeHtml(fmtNum(s.leverage, 1))}x</strong> leverage on the paper account, watched by the automatic rollback monitor. Rejecting ends this promotion.</p>
<p class="note">This request expires at ${escapeHtml(input.expiresAtIso)} (UTC); it can be decided once.</p>
${report}
<h2>Day 1-3 results</h2>
${summaryTable(s)}
<h2>Equity curve</h2>
${equityCurveSvg(input.equityCurve)}
<h2>Gates (${describeVerdictCounts(countVerdicts(s.gates))})</h2>
${gateTable(s.gates)}
<form method="post" action="./${escapeHtml(encodeURIComponent(input.approvalId))}">
<input type="hidden" name="csrf" value="${escapeHtml(input.csrfToken)}">
<input type="hidden" name="exp" value="${escapeHtml(input.exp)}">
<input type="hidden" name="sig" value="${escapeHtml(input.sig)}">
${input.nonce ? `<input type="hidden" name="nonce" value="${escapeHtml(input.nonce)}">\n` : ''}<p><label for="note">Note (recorded with your signature in the audit trail)</label><br>
<textarea id="note" name="note" maxlength="1000" rows="3" cols="60"></textarea></p>
<div class="actions">
<button type="submit" class="approve" name="decision" value="approve">Approve</button>
<button type="submit" class="reject" name="decision" value="reject">Reject</button>
</div>
</form>`;
  return document(`Approval: ${s.candidateId}`, main, 200);
}

/**
 * The page after a recorded decision: who decided what (and when, if given). Status 200.
 *
 * @param by approver identity `scheme:id`.
 * @param atIso when the decision was recorded, UTC ISO-8601.
 */
export function renderResultPage(
  decision: ApprovalDecision,
  by: string,
  atIso?: string,
): RenderedPage {
  const word = decision === 'approved' ? 'Approved' : 'Rejected';
  const next =
    decision === 'approved'
      ? 'The micro-live slice will start on the paper account; the rollback monitor watches it.'
      : 'The promotion was stopped; nothing was sent to the broker.';
  const main = `<h1>${word}</h1>
<p>${escapeHtml(word)} by <strong>${escapeHtml(by)}</strong>${atIso ? ` at ${escapeHtml(atIso)} (UTC)` : ''}.</p>
<p>${escapeHtml(next)}</p>`;
  return document(word, main, 200);
}

/**
 * The page after a signature that does not complete the request's approval chain: recorded,
 * and the request waits for the next step's signature (the execution is not resumed).
 *
 * @param step 1-based position of the signature; `of` the chain's length; `role` its role.
 */
export function renderSignedPage(input: {
  readonly by: string;
  readonly atIso: string;
  readonly step: number;
  readonly of: number;
  readonly role: string;
}): RenderedPage {
  const main = `<h1>Signed</h1>
<p>Signature ${input.step} of ${input.of} (${escapeHtml(input.role)}) by <strong>${escapeHtml(input.by)}</strong> at ${escapeHtml(input.atIso)} (UTC).</p>
<p>The request now waits for the next signature of its approval chain, from a different approver; nothing is started until the chain is complete, and no decision before the deadline counts as not approved.</p>`;
  return document('Signed', main, 200);
}

/** Why a request to the approval page was refused. */
export type ApprovalPageErrorKind =
  | 'tampered'
  | 'expired'
  | 'reused'
  | 'signed'
  | 'forbidden'
  | 'missing'
  | 'csrf'
  | 'malformed';

/**
 * Suggested HTTP status per error: a forged link, a foreign approver or a bad CSRF token is
 * 403, an expired request 410 Gone, a second decision 409 Conflict, an unknown id 404, a
 * malformed link or form 400.
 */
export const ERROR_PAGE_STATUS: Readonly<Record<ApprovalPageErrorKind, number>> = {
  tampered: 403,
  expired: 410,
  reused: 409,
  signed: 409,
  forbidden: 403,
  missing: 404,
  csrf: 403,
  malformed: 400,
};

const ERROR_TEXT: Readonly<Record<ApprovalPageErrorKind, { title: string; text: string }>> = {
  tampered: {
    title: 'Invalid approval link',
    text: 'This link was altered or was not issued by stagegate. Nothing was changed. Use the link from the original Slack message.',
  },
  expired: {
    title: 'Approval request expired',
    text: 'This approval request is past its deadline; an expired request counts as rejected. Nothing was changed.',
  },
  reused: {
    title: 'Already decided',
    text: 'This approval request was already decided; each request can be decided once. Nothing was changed.',
  },
  signed: {
    title: 'Already signed',
    text: 'You already signed this approval request; its chain needs the signature of a different approver. Nothing was changed.',
  },
  forbidden: {
    title: 'Not an approver',
    text: 'You are not on the list of approvers for this request. Nothing was changed.',
  },
  missing: {
    title: 'Approval request not found',
    text: 'There is no approval request with this id (it may have been purged). Nothing was changed.',
  },
  csrf: {
    title: 'Form check failed',
    text: 'The form did not come from the approval page (missing or invalid CSRF token). Reload the link and try again. Nothing was changed.',
  },
  malformed: {
    title: 'Malformed request',
    text: 'The link or the submitted form is incomplete or malformed. Nothing was changed.',
  },
};

/**
 * An error page with a clear title and explanation for `kind`, plus `message` (escaped) for
 * detail; status from {@link ERROR_PAGE_STATUS}.
 */
export function renderErrorPage(kind: ApprovalPageErrorKind, message: string): RenderedPage {
  const { title, text } = ERROR_TEXT[kind];
  const main = `<div class="error">
<h1>${escapeHtml(title)}</h1>
<p>${escapeHtml(text)}</p>
${message ? `<p class="note">${escapeHtml(message)}</p>` : ''}
</div>`;
  return document(title, main, ERROR_PAGE_STATUS[kind]);
}
