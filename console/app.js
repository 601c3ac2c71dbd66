/*
 * stagegate operator console: a small single-page app over the console API (/api/...,
 * docs/console-api.openapi.yaml). Hash routes: #/cohorts, #/cohorts/<id>,
 * #/cohorts/<id>/agents/<agentId>, #/promotions, #/promotions/<id>, #/paper,
 * #/paper/<promotionId>, #/risk, #/approvals, #/approvals/<id>, #/audit. No page shows a
 * minute Sharpe ratio: decisions rest on PSR/DSR and session-level statistics. Charts are uPlot (drag to zoom, double-click to reset, values
 * under the cursor in the legend). Every text from the API is set with textContent, never
 * parsed as HTML. Writes are POSTs with the x-csrf-token header (the stagegate_csrf cookie).
 */

const main = document.getElementById('main');
const who = document.getElementById('who');
let me = null;

/** Builds an element: h('td', {class: 'num'}, 'text', child...). */
function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

const usd = (v) =>
  v === null || v === undefined
    ? '—'
    : Number(v).toLocaleString('en-US', { style: 'currency', currency: 'USD' });
const pct = (v, d = 2) =>
  v === null || v === undefined ? '—' : `${(Number(v) * 100).toFixed(d)}%`;
const num = (v, d = 3) =>
  v === null || v === undefined ? '—' : typeof v === 'number' ? v.toFixed(d) : String(v);
const when = (iso) => (iso ? iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z') : '—');

// A market's times in that market's zone, labelled with it: a crypto session is a 24 h UTC
// day; US equities trade on New York time. The API names each cohort's, agent's, promotion's
// and paper session's `market`; records of no market (audit, approvals, kill switch) keep
// `when` (UTC).
const MARKET_ZONES = {
  crypto: { tz: 'UTC', name: 'UTC' },
  'equity-usa': { tz: 'America/New_York', name: 'New York' },
};
const zoneOf = (market) => MARKET_ZONES[market] || MARKET_ZONES.crypto;
const zoneParts = {};
function whenIn(iso, market) {
  if (!iso) return '—';
  const zone = zoneOf(market);
  zoneParts[zone.tz] ||= new Intl.DateTimeFormat('en-CA', {
    timeZone: zone.tz,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    hourCycle: 'h23',
  });
  const p = Object.fromEntries(
    zoneParts[zone.tz].formatToParts(new Date(iso)).map((x) => [x.type, x.value]),
  );
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}:${p.second} ${zone.name}`;
}

// ---------------------------------------------------------------------------------------------
// Sign-in in AWS: Cognito managed login, authorization code grant with PKCE (RFC 7636)
// ---------------------------------------------------------------------------------------------
// `/console-config.json` ({ signInUrl, clientId }, written by `stagegate publish-console`) turns
// it on; the local server has no such file and keeps its own login form. The code comes back
// in the redirect's query and leaves the address bar at once; the ID token (its email is the
// identity, its cognito:groups the roles) stays in this tab's sessionStorage and travels only
// as `Authorization: Bearer` to the same origin's /api.

/** The Cognito sign-in settings, or null (local mode). */
let auth = null;
const ID_TOKEN_KEY = 'stagegate.idToken';
const PENDING_KEY = 'stagegate.signIn';

async function loadAuthConfig() {
  const res = await fetch('/console-config.json', { cache: 'no-store' }).catch(() => null);
  if (!res?.ok) return null;
  const c = await res.json().catch(() => null);
  if (!c || typeof c.signInUrl !== 'string' || typeof c.clientId !== 'string') return null;
  if (!/^https:\/\//.test(c.signInUrl) && !/^http:\/\/127\.0\.0\.1[:/]/.test(c.signInUrl)) {
    return null;
  }
  return {
    signInUrl: c.signInUrl.replace(/\/+$/, ''),
    clientId: c.clientId,
    redirectUri: `${location.origin}/`,
  };
}

function base64Url(bytes) {
  return btoa(String.fromCharCode(...new Uint8Array(bytes)))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');
}

const randomText = () => base64Url(crypto.getRandomValues(new Uint8Array(32)));

/** Sends the browser to the Cognito managed login (S256 code challenge, random state). */
async function signInWithCognito() {
  const verifier = randomText();
  const stateValue = randomText();
  sessionStorage.setItem(
    PENDING_KEY,
    JSON.stringify({ verifier, state: stateValue, hash: location.hash }),
  );
  const challenge = base64Url(
    await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier)),
  );
  const q = new URLSearchParams({
    response_type: 'code',
    client_id: auth.clientId,
    redirect_uri: auth.redirectUri,
    scope: 'openid email',
    state: stateValue,
    code_challenge: challenge,
    code_challenge_method: 'S256',
  });
  location.assign(`${auth.signInUrl}/oauth2/authorize?${q}`);
}

/** After the redirect back: checks the state, exchanges the code (with the verifier) for tokens. */
async function completeCognitoSignIn() {
  const params = new URLSearchParams(location.search);
  const code = params.get('code');
  const error = params.get('error');
  if (!code && !error) return;
  const pending = JSON.parse(sessionStorage.getItem(PENDING_KEY) || 'null');
  sessionStorage.removeItem(PENDING_KEY);
  history.replaceState(null, '', `${location.pathname}${pending?.hash || ''}`);
  if (error) throw new Error(`sign-in refused (${error})`);
  if (!pending || params.get('state') !== pending.state) {
    throw new Error('sign-in answer does not match this tab: sign in again');
  }
  const res = await fetch(`${auth.signInUrl}/oauth2/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      client_id: auth.clientId,
      code,
      redirect_uri: auth.redirectUri,
      code_verifier: pending.verifier,
    }),
  });
  const tokens = res.ok ? await res.json() : null;
  if (!tokens || typeof tokens.id_token !== 'string') {
    throw new Error(`sign-in failed: the token endpoint answered HTTP ${res.status}`);
  }
  sessionStorage.setItem(ID_TOKEN_KEY, tokens.id_token);
}

/** The double-submit CSRF cookie: set by the local login, by the page itself in AWS. */
function ensureCsrfCookie() {
  if (csrfToken()) return;
  const secure = location.protocol === 'https:' ? '; Secure' : '';
  // biome-ignore lint/suspicious/noDocumentCookie: one random URL-safe value, nothing to escape; the Cookie Store API is not in every browser an operator may use
  document.cookie = `stagegate_csrf=${randomText()}; Path=/; SameSite=Strict${secure}`;
}

function signOutOfCognito() {
  sessionStorage.removeItem(ID_TOKEN_KEY);
  const q = new URLSearchParams({ client_id: auth.clientId, logout_uri: auth.redirectUri });
  location.assign(`${auth.signInUrl}/logout?${q}`);
}

function csrfToken() {
  const m = /(?:^|;\s*)stagegate_csrf=([^;]+)/.exec(document.cookie);
  return m ? m[1] : '';
}

class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.detail || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
  }
}

/** A fresh Idempotency-Key for one rendered action (none where the browser has no randomUUID). */
function actionKey() {
  return globalThis.crypto?.randomUUID ? globalThis.crypto.randomUUID() : undefined;
}

async function api(path, options = {}) {
  const init = { credentials: 'same-origin', headers: {} };
  const bearer = auth && sessionStorage.getItem(ID_TOKEN_KEY);
  if (bearer) init.headers.authorization = `Bearer ${bearer}`;
  if (options.body !== undefined) {
    init.method = 'POST';
    init.headers['content-type'] = 'application/json';
    init.headers['x-csrf-token'] = csrfToken();
    // One key per rendered action: a double submit or a retried request is one change.
    if (options.idempotencyKey) init.headers['idempotency-key'] = options.idempotencyKey;
    init.body = JSON.stringify(options.body);
  }
  const res = await fetch(`/api${path}`, init);
  const text = await res.text();
  const body = text ? JSON.parse(text) : null;
  if (!res.ok) throw new ApiError(res.status, body);
  return body;
}

function state(kind, text, ...extra) {
  return h(
    'div',
    { class: `state ${kind}`, role: kind === 'error' ? 'alert' : 'status' },
    text,
    ...extra,
  );
}

function show(...nodes) {
  main.replaceChildren(...nodes);
}

function table(headers, rows, onRow) {
  const head = h(
    'tr',
    null,
    headers.map((c) => h('th', { class: c.num ? 'num' : null }, c.label)),
  );
  const body = rows.map((r, i) =>
    h(
      'tr',
      { class: onRow ? 'clickable' : null, onclick: onRow ? () => onRow(r, i) : null },
      headers.map((c) => h('td', { class: c.num ? 'num' : null }, c.value(r))),
    ),
  );
  return h('table', null, h('thead', null, head), h('tbody', null, body));
}

/** Charts waiting to be drawn, in page order: one per animation frame. */
const drawQueue = [];

/**
 * Draws `draw` in a later animation frame, one chart per frame in the order the page made
 * them: the first chart (the top of the page) shows after one frame instead of after all of
 * them, and the browser paints between charts. Waits for uPlot if it has not loaded yet.
 */
function drawLater(draw) {
  drawQueue.push(draw);
  if (drawQueue.length > 1) return;
  const next = () => {
    // uPlot loads after this script (index.html): wait for it once, then draw.
    if (!window.uPlot) {
      document.getElementById('uplot').addEventListener('load', next, { once: true });
      return;
    }
    try {
      drawQueue[0]();
    } finally {
      drawQueue.shift();
      if (drawQueue.length) requestAnimationFrame(next);
    }
  };
  requestAnimationFrame(next);
}

/** A uPlot line chart of [[epochMs, value], ...] series (same time axis not required). */
function chart(title, series, options = {}) {
  const box = h('div', { class: 'chart', 'data-chart': title });
  const wrap = h('div', { class: 'card' }, h('h2', null, title), box);
  if (!series.length || series.every((s) => !s.points.length)) {
    box.replaceChildren(state('empty', 'No data for this chart yet.'));
    return wrap;
  }
  const xs = [...new Set(series.flatMap((s) => s.points.map((p) => p[0])))].sort((a, b) => a - b);
  const index = new Map(xs.map((x, i) => [x, i]));
  const data = [xs.map((x) => x / 1000)];
  for (const s of series) {
    const ys = new Array(xs.length).fill(null);
    for (const [x, y] of s.points) ys[index.get(x)] = y;
    data.push(ys);
  }
  const palette = [
    '#1f6feb',
    '#cf222e',
    '#1a7f37',
    '#9a6700',
    '#8250df',
    '#bf3989',
    '#0a7ea4',
    '#57606a',
  ];
  const fmt = options.format || ((v) => num(v, 2));
  drawLater(() => {
    const width = Math.max(320, box.clientWidth || 900);
    const plot = new window.uPlot(
      {
        width,
        height: options.height || 300,
        scales: { x: { time: true } },
        cursor: { drag: { x: true, y: false } },
        axes: [{}, { values: (_u, vals) => vals.map((v) => fmt(v)), size: 80 }],
        series: [
          {
            label: 'time (UTC)',
            value: (_u, v) =>
              v === null ? '—' : new Date(v * 1000).toISOString().slice(0, 16).replace('T', ' '),
          },
          ...series.map((s, i) => ({
            label: s.label,
            stroke: s.color || palette[i % palette.length],
            width: s.width || 1.5,
            spanGaps: true,
            fill: s.fill,
            value: (_u, v) => (v === null ? '—' : fmt(v)),
            // Markers only (orders on a price chart): no line between them.
            ...(s.markers
              ? {
                  paths: () => null,
                  points: {
                    show: true,
                    size: 10,
                    fill: s.color || palette[i % palette.length],
                    stroke: s.color || palette[i % palette.length],
                  },
                }
              : {}),
          })),
        ],
      },
      data,
      box,
    );
    box.dataset.rendered = 'true';
    box.uplot = plot;
  });
  return wrap;
}

/** Number of the newest navigation: a page that finishes loading after a newer one started is dropped. */
let navigation = 0;

async function load(render) {
  const mine = ++navigation;
  show(state('loading', 'Loading…'));
  try {
    const nodes = [].concat(await render());
    if (mine === navigation) show(...nodes);
  } catch (err) {
    if (mine !== navigation) return;
    if (err instanceof ApiError && err.status === 401) return showLogin();
    show(state('error', `Could not load this page: ${err.message}`));
  }
}

// ---------------------------------------------------------------------------------------------
// Login
// ---------------------------------------------------------------------------------------------

function showLogin(message) {
  who.textContent = '';
  if (auth) {
    sessionStorage.removeItem(ID_TOKEN_KEY);
    return show(
      h(
        'div',
        { class: 'card login' },
        h('h1', null, 'Sign in'),
        h('p', null, 'Sign in with your stagegate account (e-mail, password and MFA code).'),
        h('button', { type: 'button', onclick: () => signInWithCognito() }, 'Sign in'),
        h('p', { class: 'msg fail', role: 'alert' }, message || ''),
      ),
    );
  }
  const user = h('input', { name: 'username', autocomplete: 'username', required: true });
  const pass = h('input', {
    name: 'password',
    type: 'password',
    autocomplete: 'current-password',
    required: true,
  });
  const msg = h('p', { class: 'msg fail', role: 'alert' }, message || '');
  const form = h(
    'form',
    {
      class: 'card login',
      onsubmit: async (e) => {
        e.preventDefault();
        const res = await fetch('/api/login', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ username: user.value, password: pass.value }),
        });
        if (!res.ok) {
          msg.textContent = 'Unknown user or wrong password.';
          return;
        }
        await start();
      },
    },
    h('h1', null, 'Sign in'),
    h('label', null, 'User', user),
    h('label', null, 'Password', pass),
    h('button', { type: 'submit' }, 'Sign in'),
    msg,
    h(
      'p',
      { class: 'msg' },
      'Locally: npm run stagegate -- console --users lists the users and passwords.',
    ),
  );
  show(form);
}

// ---------------------------------------------------------------------------------------------
// Pages
// ---------------------------------------------------------------------------------------------

async function cohortsPage(params) {
  const q = new URLSearchParams(params);
  q.set('limit', '25');
  const page = await api(`/cohorts?${q}`);
  const date = h('input', { type: 'date', value: params.get('date') || '' });
  const bankroll = h('input', {
    type: 'number',
    min: '50',
    step: '1',
    value: params.get('bankroll') || '',
    placeholder: 'any',
  });
  const partial = params.get('kind') === 'partial';
  const kind = h(
    'select',
    { 'aria-label': 'Kind' },
    h('option', { value: 'complete', selected: !partial }, 'complete'),
    h('option', { value: 'partial', selected: partial }, 'partial (intraday)'),
  );
  const apply = () => {
    const p = new URLSearchParams();
    if (kind.value === 'partial') p.set('kind', 'partial');
    if (date.value) p.set('date', date.value);
    if (bankroll.value) p.set('bankroll', bankroll.value);
    location.hash = `#/cohorts?${p}`;
  };
  const exportQ = new URLSearchParams();
  if (params.get('date')) exportQ.set('date', params.get('date'));
  if (params.get('bankroll')) exportQ.set('bankroll', params.get('bankroll'));
  const toolbar = h(
    'div',
    { class: 'toolbar' },
    h('label', null, 'Cohorts', kind),
    h('label', null, 'Session date', date),
    h('label', null, 'Bankroll (USD)', bankroll),
    h('button', { onclick: apply }, 'Filter'),
    h('a', { href: `/api/exports/cohorts.csv?${exportQ}` }, 'cohorts.csv'),
    h('a', { href: `/api/exports/agents.csv?${exportQ}` }, 'agents.csv'),
  );
  const next = page.nextCursor
    ? h(
        'button',
        {
          class: 'secondary',
          onclick: () => {
            const p = new URLSearchParams(params);
            p.set('cursor', page.nextCursor);
            location.hash = `#/cohorts?${p}`;
          },
        },
        'Next page',
      )
    : null;
  const body = page.items.length
    ? table(
        [
          { label: 'Session', value: (c) => c.sessionDate },
          { label: 'Market', value: (c) => c.market },
          { label: 'Cohort', value: (c) => c.cohortId },
          { label: 'Symbols', value: (c) => c.symbols.join(' ') },
          { label: 'Bankroll', num: true, value: (c) => usd(c.bankrollUsd) },
          { label: 'Agents', num: true, value: (c) => c.agentCount },
          { label: 'Total PnL', num: true, value: (c) => usd(c.totalPnlUsd) },
          { label: 'Best agent', value: (c) => c.bestAgentId || '—' },
          ...(partial
            ? [{ label: 'Bars up to', value: (c) => whenIn(c.partialUpToIso, c.market) }]
            : []),
        ],
        page.items,
        (c) => {
          location.hash = `#/cohorts/${encodeURIComponent(c.cohortId)}`;
        },
      )
    : state(
        'empty',
        partial
          ? 'No partial cohort yet. An operator starts one below (today’s bars up to now).'
          : 'No cohort matches. Run one with npm start (or clear the filters).',
      );
  return [
    h('h1', null, 'Cohorts'),
    toolbar,
    h('div', { class: 'card', id: 'cohort-list' }, body),
    next,
    startCohortCard(),
  ];
}

/** The operator's "start a partial cohort" form (POST /api/cohorts). */
function startCohortCard() {
  const canOperate = me.roles.includes('operator');
  const field = (name, attrs) => h('input', { name, ...attrs, disabled: !canOperate });
  const bankroll = field('bankrollUsd', {
    type: 'number',
    min: '50',
    max: '100000',
    value: '1000',
  });
  const agents = field('agentCount', { type: 'number', min: '1', max: '1000', value: '30' });
  const symbols = field('symbols', { value: 'SPY,BAC,AIG,IBM', size: 24 });
  const msg = h('p', { class: 'msg', role: 'status' });
  // One key per start: a retry after no answer (network, 5xx) is the same start, so the
  // server starts one execution; an answered start (or refusal) draws a new key.
  let startKey = actionKey();
  const start = h(
    'button',
    {
      disabled: !canOperate,
      title: canOperate ? null : 'needs the operator role',
      onclick: async () => {
        start.disabled = true;
        msg.textContent = 'Starting… (the cohort runs on the bars that have ended so far)';
        try {
          const out = await api('/cohorts', {
            body: {
              bankrollUsd: Number(bankroll.value),
              agentCount: Number(agents.value),
              symbols: symbols.value
                .split(',')
                .map((s) => s.trim())
                .filter(Boolean),
            },
            idempotencyKey: startKey,
          });
          startKey = actionKey();
          msg.textContent =
            out.status === 'RUNNING' || out.status === 'ALREADY_STARTED'
              ? `Started ${out.cohortId} (execution ${out.executionName}); it appears under partial cohorts when done.`
              : `Done: ${out.cohortId}.`;
          if (out.status === 'SUCCEEDED') {
            location.hash = `#/cohorts/${encodeURIComponent(out.cohortId)}`;
          }
        } catch (err) {
          if (err instanceof ApiError && err.status < 500) startKey = actionKey();
          msg.textContent = err.problem?.field
            ? `${err.problem.field}: ${err.message}`
            : err.message;
        } finally {
          start.disabled = !canOperate;
        }
      },
    },
    'Start a partial cohort',
  );
  return h(
    'div',
    { class: 'card', id: 'cohort-start' },
    h('h2', null, 'Start a partial cohort'),
    h(
      'p',
      null,
      'Today’s session on the bars that have ended so far, labelled partial: promotions, the Day-3 evidence and learning never read it. Recorded in the audit trail.',
    ),
    h(
      'div',
      { class: 'toolbar' },
      h('label', null, 'Bankroll (USD)', bankroll),
      h('label', null, 'Agents', agents),
      h('label', null, 'Symbols', symbols),
      start,
    ),
    canOperate ? null : h('p', { class: 'msg' }, 'Only an operator can start a cohort.'),
    msg,
  );
}

function riskBadges(risk) {
  const badge = (label, value, bad) =>
    h('span', { class: `badge ${bad ? 'fail' : 'pass'}` }, `${label}: ${value}`);
  return h(
    'div',
    { class: 'badges' },
    badge(
      'parent drawdown',
      pct(risk.parentMaxDrawdownFraction),
      risk.parentMaxDrawdownFraction > 0.05,
    ),
    badge('leverage breaches', risk.leverageBreaches, risk.leverageBreaches > 0),
    badge('exposure breaches', risk.exposureBreaches, risk.exposureBreaches > 0),
    badge('peak utilization', pct(risk.peakUtilization, 1), risk.peakUtilization > 0.95),
  );
}

/** Rows per leaderboard page; the first is the default. */
const LEADERBOARD_PAGE_SIZES = [50, 100, 250];

/** Orders two sort keys ascending: numbers by value, anything else as text. */
function compareKeys(a, b) {
  if (a === b) return 0;
  return typeof a === 'number' && typeof b === 'number' ? a - b : String(a).localeCompare(b);
}

/**
 * The cohort leaderboard as a paged, sortable, searchable table: all rows come in one API
 * response, but only one page of them (50 by default) is in the DOM, so a 1,000-agent
 * cohort renders as fast as a small one. The search keeps rows whose agent id, genome id,
 * family or symbol contains the text (case-insensitive); a header button sorts by that column
 * (again: reverse; nulls last). Search, sort, page and page size live in the address
 * (`#/cohorts/<id>?q=&sort=&dir=&page=&size=`, replaced, not pushed), so the browser's Back
 * from an agent returns to the same page.
 */
function pagedLeaderboard(cohortId, columns, rows, params) {
  const size = Number(params.get('size'));
  const view = {
    q: params.get('q') || '',
    sort: columns.some((c) => c.key === params.get('sort')) ? params.get('sort') : 'rank',
    dir: params.get('dir') === 'desc' ? 'desc' : 'asc',
    page: Math.max(0, Number.parseInt(params.get('page') || '1', 10) - 1 || 0),
    size: LEADERBOARD_PAGE_SIZES.includes(size) ? size : LEADERBOARD_PAGE_SIZES[0],
  };
  const tbody = h('tbody');
  const headRow = h('tr');
  const range = h('span', { id: 'leaderboard-range', role: 'status' });
  const empty = h('div');
  const search = h('input', {
    type: 'search',
    id: 'leaderboard-search',
    value: view.q,
    placeholder: 'agent or genome id, family, symbol',
  });
  const sizeSelect = h(
    'select',
    { id: 'leaderboard-size' },
    LEADERBOARD_PAGE_SIZES.map((n) => h('option', { value: n, selected: n === view.size }, n)),
  );
  const pager = (label, id, to) =>
    h('button', { class: 'secondary', id, onclick: () => to() }, label);
  let pages = 1;
  const first = pager('First', 'leaderboard-first', () => go(0));
  const prev = pager('Previous', 'leaderboard-prev', () => go(view.page - 1));
  const next = pager('Next', 'leaderboard-next', () => go(view.page + 1));
  const last = pager('Last', 'leaderboard-last', () => go(pages - 1));

  const matching = () => {
    const needle = view.q.trim().toLowerCase();
    const kept = needle
      ? rows.filter((r) =>
          [r.agentId, r.genomeId, r.family, r.symbol].some((s) =>
            String(s ?? '')
              .toLowerCase()
              .includes(needle),
          ),
        )
      : rows.slice();
    const sign = view.dir === 'desc' ? -1 : 1;
    const key = view.sort;
    const missing = (v) => v === null || v === undefined;
    return kept.sort((a, b) => {
      if (missing(a[key]) || missing(b[key]))
        return missing(a[key]) === missing(b[key]) ? a.rank - b.rank : missing(a[key]) ? 1 : -1;
      return sign * compareKeys(a[key], b[key]) || a.rank - b.rank;
    });
  };
  const remember = () => {
    const p = new URLSearchParams();
    if (view.q) p.set('q', view.q);
    if (view.sort !== 'rank' || view.dir !== 'asc') {
      p.set('sort', view.sort);
      p.set('dir', view.dir);
    }
    if (view.page > 0) p.set('page', String(view.page + 1));
    if (view.size !== LEADERBOARD_PAGE_SIZES[0]) p.set('size', String(view.size));
    const query = p.toString();
    history.replaceState(
      null,
      '',
      `#/cohorts/${encodeURIComponent(cohortId)}${query ? `?${query}` : ''}`,
    );
  };
  const render = () => {
    const kept = matching();
    pages = Math.max(1, Math.ceil(kept.length / view.size));
    view.page = Math.min(view.page, pages - 1);
    const from = view.page * view.size;
    const shown = kept.slice(from, from + view.size);
    tbody.replaceChildren(
      ...shown.map((r) =>
        h(
          'tr',
          {
            class: 'clickable',
            onclick: () => {
              location.hash = `#/cohorts/${encodeURIComponent(cohortId)}/agents/${encodeURIComponent(r.agentId)}`;
            },
          },
          columns.map((c) => h('td', { class: c.num ? 'num' : null }, c.value(r))),
        ),
      ),
    );
    headRow.replaceChildren(
      ...columns.map((c) =>
        h(
          'th',
          {
            class: c.num ? 'num' : null,
            'aria-sort':
              c.key === view.sort ? (view.dir === 'asc' ? 'ascending' : 'descending') : null,
          },
          h(
            'button',
            {
              class: 'sort',
              type: 'button',
              title: `Sort by ${c.label}`,
              onclick: () => {
                view.dir = view.sort === c.key && view.dir === 'asc' ? 'desc' : 'asc';
                view.sort = c.key;
                view.page = 0;
                update();
              },
            },
            c.label,
            c.key === view.sort ? (view.dir === 'asc' ? ' ▲' : ' ▼') : '',
          ),
        ),
      ),
    );
    range.textContent = kept.length
      ? `Agents ${(from + 1).toLocaleString('en-US')}–${(from + shown.length).toLocaleString('en-US')} of ${kept.length.toLocaleString('en-US')}${view.q ? ` matching “${view.q}” (${rows.length.toLocaleString('en-US')} in the cohort)` : ''} · page ${view.page + 1} of ${pages}`
      : `No agent matches “${view.q}” (${rows.length.toLocaleString('en-US')} in the cohort).`;
    empty.replaceChildren(
      kept.length ? '' : state('empty', `No agent of this cohort matches “${view.q}”.`),
    );
    first.disabled = prev.disabled = view.page === 0;
    next.disabled = last.disabled = view.page >= pages - 1;
  };
  const update = () => {
    render();
    remember();
  };
  const go = (page) => {
    view.page = Math.max(0, page);
    update();
  };
  search.addEventListener('input', () => {
    view.q = search.value;
    view.page = 0;
    update();
  });
  sizeSelect.addEventListener('change', () => {
    view.size = Number(sizeSelect.value);
    view.page = 0;
    update();
  });
  render();
  return h(
    'div',
    null,
    h(
      'div',
      { class: 'toolbar' },
      h('label', null, 'Search agents', search),
      h('label', null, 'Rows per page', sizeSelect),
    ),
    h('table', null, h('thead', null, headRow), tbody),
    empty,
    h('div', { class: 'toolbar pager' }, first, prev, range, next, last),
  );
}

async function cohortPage(id, params = new URLSearchParams()) {
  const doc = await api(`/cohorts/${encodeURIComponent(id)}`);
  const c = doc.cohort;
  const header = h(
    'dl',
    { class: 'kv' },
    h('dt', null, 'Session'),
    h('dd', null, c.sessionDate),
    h('dt', null, 'Market'),
    h('dd', null, `${c.market} (times in ${zoneOf(c.market).name})`),
    h('dt', null, 'Bankroll'),
    h('dd', null, usd(c.bankrollUsd)),
    h('dt', null, 'Agents'),
    h('dd', null, `${c.agentCount} (${c.allocation})`),
    h('dt', null, 'Symbols'),
    h('dd', null, c.symbols.join(' ')),
    h('dt', null, 'Parent PnL'),
    h(
      'dd',
      null,
      `${usd(c.parent.totalPnlUsd)} (ROI ${pct(c.parent.roi)}, session volatility ${pct(c.parent.sessionVolatility)})`,
    ),
    h('dt', null, 'Genome generation'),
    h('dd', null, c.genomeGeneration),
    c.partial ? h('dt', null, 'Partial') : null,
    c.partial
      ? h(
          'dd',
          null,
          h('span', { class: 'badge warn' }, 'PARTIAL'),
          ` bars up to ${whenIn(c.partial.upToIso, c.market)} (${c.barCount} bars); never promoted`,
        )
      : null,
  );
  const leaderboard = pagedLeaderboard(
    id,
    [
      { label: '#', key: 'rank', num: true, value: (r) => r.rank },
      { label: 'Agent', key: 'agentId', value: (r) => r.agentId },
      { label: 'Genome', key: 'genomeId', value: (r) => r.genomeId },
      { label: 'Family', key: 'family', value: (r) => r.family },
      { label: 'Symbol', key: 'symbol', value: (r) => r.symbol },
      { label: 'Allocation', key: 'allocationUsd', num: true, value: (r) => usd(r.allocationUsd) },
      { label: 'PnL', key: 'totalPnlUsd', num: true, value: (r) => usd(r.totalPnlUsd) },
      { label: 'ROI', key: 'roi', num: true, value: (r) => pct(r.roi) },
      { label: 'PSR', key: 'psr', num: true, value: (r) => pct(r.psr, 1) },
      { label: 'DSR', key: 'dsr', num: true, value: (r) => pct(r.dsr, 1) },
      {
        label: 'Max DD',
        key: 'maxDrawdownFraction',
        num: true,
        value: (r) => pct(r.maxDrawdownFraction),
      },
      {
        label: 'Utilization',
        key: 'bankrollUtilization',
        num: true,
        value: (r) => pct(r.bankrollUtilization, 1),
      },
      {
        label: 'Lev. breaches',
        key: 'leverageBreaches',
        num: true,
        value: (r) => r.leverageBreaches,
      },
      { label: 'Trades', key: 'tradeCount', num: true, value: (r) => r.tradeCount },
    ],
    doc.leaderboard,
    params,
  );
  const inference = doc.sharpeInference
    ? h(
        'p',
        { class: 'msg' },
        `PSR/DSR: probability that the true Sharpe ratio exceeds 0 (PSR) or the expected best of ${doc.sharpeInference.trials} trials (DSR), on each agent's ${doc.sharpeInference.frequency} returns in this session (${doc.sharpeInference.source}). The Day-3 gates use session returns across cohorts.`,
      )
    : null;
  return [
    h('h1', null, `Cohort ${c.cohortId}`),
    riskBadges(doc.risk),
    h('div', { class: 'card' }, header),
    chart('Parent equity (USD)', [{ label: 'parent equity', points: doc.curves.parent.equity }], {
      format: (v) => usd(v),
    }),
    h(
      'div',
      { class: 'grid2' },
      chart(
        'Bankroll utilization',
        [{ label: 'gross exposure / bankroll', points: doc.curves.parent.utilization }],
        { format: (v) => pct(v, 1), height: 220 },
      ),
      chart(
        'Underwater (drawdown from peak)',
        [{ label: 'drawdown', points: doc.curves.parent.underwater, fill: 'rgba(207,34,46,0.12)' }],
        { format: (v) => pct(v), height: 220 },
      ),
    ),
    chart(
      'Top agents: equity (USD)',
      doc.curves.agents.map((a) => ({ label: a.agentId, points: a.equity })),
      { format: (v) => usd(v) },
    ),
    h('h2', null, 'Leaderboard'),
    h('div', { class: 'card', id: 'leaderboard' }, leaderboard, inference),
  ];
}

async function agentPage(cohortId, agentId) {
  const doc = await api(
    `/cohorts/${encodeURIComponent(cohortId)}/agents/${encodeURIComponent(agentId)}`,
  );
  const r = doc.row;
  const wins = [];
  const fills = doc.fills || [];
  const trades = fills.length
    ? table(
        [
          {
            label: `Time (${zoneOf(doc.market).name})`,
            value: (f) => whenIn(new Date(f.t).toISOString(), doc.market),
          },
          { label: 'Side', value: (f) => f.side },
          { label: 'Qty', num: true, value: (f) => num(f.qty, 4) },
          { label: 'Price', num: true, value: (f) => usd(f.priceUsd) },
          { label: 'Fee', num: true, value: (f) => usd(f.feeUsd) },
          { label: 'Reason', value: (f) => f.reason },
        ],
        fills,
      )
    : state('empty', 'This agent did not trade in this session.');
  wins.push(
    h('h1', null, `Agent ${agentId} · cohort ${cohortId}`),
    h(
      'dl',
      { class: 'kv card' },
      h('dt', null, 'Rank'),
      h('dd', null, r.rank),
      h('dt', null, 'Genome'),
      h('dd', null, `${r.genomeId} (${r.family}, ${r.symbol})`),
      h('dt', null, 'PnL'),
      h(
        'dd',
        null,
        `${usd(r.totalPnlUsd)} (realized ${usd(r.realizedPnlUsd)}, fees ${usd(r.feesUsd)})`,
      ),
      h('dt', null, 'ROI / session volatility'),
      h('dd', null, `${pct(r.roi)} / ${pct(r.sessionVolatility)}`),
      h('dt', null, 'Max drawdown'),
      h('dd', null, pct(r.maxDrawdownFraction)),
    ),
    chart('Equity (USD)', [{ label: agentId, points: doc.equity }], { format: (v) => usd(v) }),
    chart(
      'Underwater',
      [{ label: 'drawdown', points: doc.underwater, fill: 'rgba(207,34,46,0.12)' }],
      { format: (v) => pct(v), height: 200 },
    ),
    h('h2', null, `Trades (${fills.length})`),
    h('div', { class: 'card' }, trades),
  );
  return wins;
}

async function promotionsPage() {
  const page = await api('/promotions?limit=50');
  const body = page.items.length
    ? table(
        [
          { label: 'Staged', value: (p) => whenIn(p.stagedAtIso, p.market) },
          { label: 'Promotion', value: (p) => p.promotionId },
          { label: 'Agent', value: (p) => `${p.agentId} (${p.genome.family}, ${p.genome.symbol})` },
          { label: 'Slice', num: true, value: (p) => usd(p.capitalSliceUsd) },
          {
            label: 'Status',
            value: (p) =>
              h(
                'span',
                {
                  class: `badge ${p.status === 'promoted' ? 'pass' : p.status === 'staged' || p.status === 'submitted' ? 'warn' : 'fail'}`,
                },
                p.status,
              ),
          },
          { label: 'Reason', value: (p) => p.statusReason },
        ],
        page.items,
        (p) => {
          location.hash = `#/promotions/${encodeURIComponent(p.promotionId)}`;
        },
      )
    : state(
        'empty',
        'No promotion yet: the promotion schedule stages the previous session’s best candidate at 10:00 New York.',
      );
  return [
    h('h1', null, 'Candidates and promotions'),
    h('p', null, h('a', { href: '/api/exports/orders.csv' }, 'orders.csv')),
    h('div', { class: 'card' }, body),
  ];
}

/**
 * "16 passed, 0 failed, 1 not judged": a gate not judged yet (too little to judge; does not
 * block) is counted apart, never as a pass; an unknown verdict counts as a failure.
 */
function verdictCounts(gates) {
  const passed = gates.filter((g) => g.verdict === 'pass').length;
  const notJudged = gates.filter((g) => g.verdict === 'not_judged').length;
  const failed = gates.length - passed - notJudged;
  return `${passed} passed, ${failed} failed${notJudged ? `, ${notJudged} not judged` : ''}`;
}

function gateTable(gates) {
  if (!gates.length) return state('empty', 'No gate evaluated yet.');
  const verdictClass = (v) => (v === 'pass' ? 'pass' : v === 'not_judged' ? 'not-judged' : 'fail');
  return table(
    [
      { label: 'Gate', value: (g) => g.gate },
      {
        label: 'Verdict',
        value: (g) =>
          h('span', { class: `badge ${verdictClass(g.verdict)}` }, g.verdict.replaceAll('_', ' ')),
      },
      { label: 'Observed', num: true, value: (g) => num(g.observed, 4) },
      { label: 'Threshold', num: true, value: (g) => num(g.threshold, 4) },
      { label: 'Unit', value: (g) => g.unit || '' },
      { label: 'Reason', value: (g) => g.reason },
    ],
    gates,
  );
}

async function promotionPage(id) {
  const doc = await api(`/promotions/${encodeURIComponent(id)}`);
  const p = doc.promotion;
  const orders = doc.orders.length
    ? table(
        [
          { label: 'client_order_id', value: (o) => o.clientOrderId },
          { label: 'Symbol', value: (o) => o.symbol },
          { label: 'Side', value: (o) => o.side },
          { label: 'Qty', num: true, value: (o) => num(o.qty, 4) },
          { label: 'Status', value: (o) => o.status },
          { label: 'Filled', num: true, value: (o) => num(o.filledQty, 4) },
          { label: 'Avg price', num: true, value: (o) => usd(o.avgFillPriceUsd) },
        ],
        doc.orders,
      )
    : state(
        'empty',
        'No order was sent for this promotion (gates failed, window expired, or not yet submitted).',
      );
  return [
    h('h1', null, `Promotion ${p.promotionId}`),
    h(
      'div',
      { class: 'badges' },
      h('span', { class: `badge ${p.status === 'promoted' ? 'pass' : 'fail'}` }, p.status),
      h('span', null, p.statusReason),
    ),
    h(
      'dl',
      { class: 'kv card' },
      h('dt', null, 'Cohort'),
      h('dd', null, h('a', { href: `#/cohorts/${encodeURIComponent(p.cohortId)}` }, p.cohortId)),
      h('dt', null, 'Agent'),
      h('dd', null, `${p.agentId} (rank ${p.agentRank})`),
      h('dt', null, 'Bankroll / slice'),
      h('dd', null, `${usd(p.bankrollUsd)} / ${usd(p.capitalSliceUsd)}`),
      h('dt', null, 'Broker'),
      h('dd', null, p.broker),
      h('dt', null, 'Config hash'),
      h('dd', null, p.configHash),
    ),
    h('h2', null, 'Gate table: observed vs threshold'),
    ...(doc.gates.length ? [h('p', { class: 'gate-counts' }, verdictCounts(doc.gates))] : []),
    h('div', { class: 'card', id: 'gates' }, gateTable(doc.gates)),
    h(
      'p',
      null,
      h('a', { href: `#/paper/${encodeURIComponent(id)}` }, 'Paper session of this promotion'),
    ),
    h('h2', null, 'Orders'),
    h('div', { class: 'card' }, orders),
    h(
      'p',
      null,
      h('a', { href: `/api/exports/orders.csv?promotion=${encodeURIComponent(id)}` }, 'orders.csv'),
    ),
  ];
}

// What the last engage left undone (`shortfall` of POST /api/kill-switch: failed cancels to
// engage again for, unsent flattens), shown once on the re-rendered risk page.
let killShortfall = null;
// The orders the last engage found already ended, not canceled (`endedNote`: a filled one
// opened a position its flatten closes), shown once with it.
let killEnded = null;
// A release refused because the switch changed meanwhile (409: who and when), shown once on
// the risk page re-rendered with the switch as it now is.
let killRefused = null;
// A change that wrote nothing because the switch already was so (`unchangedNote`: a release of
// a switch someone released since the page read it), shown once.
let killUnchanged = null;

async function riskPage() {
  const [ks, cohorts] = await Promise.all([api('/kill-switch'), api('/cohorts?limit=1')]);
  const latest = cohorts.items[0];
  const canOperate = me.roles.includes('operator');
  const reason = h('input', { placeholder: 'reason (recorded)', size: 40 });
  const msg = h('p', { class: 'msg', role: 'status' });
  if (killShortfall || killEnded) {
    const head = killShortfall ? `Engaged, but ${killShortfall}.` : 'Engaged.';
    msg.textContent = killEnded ? `${head} ${killEnded}.` : head;
  }
  if (killRefused) msg.textContent = `Release refused: ${killRefused}`;
  if (killUnchanged) msg.textContent = `Nothing changed: ${killUnchanged}.`;
  killShortfall = null;
  killEnded = null;
  killRefused = null;
  killUnchanged = null;
  const toggleKey = actionKey();
  const toggle = h(
    'button',
    {
      class: ks.engaged ? 'secondary' : 'danger',
      disabled: !canOperate,
      title: canOperate ? null : 'needs the operator role',
      onclick: async () => {
        try {
          // A release names the switch this page shows: one engaged since is not released (409).
          const out = await api('/kill-switch', {
            body: {
              engaged: !ks.engaged,
              reason: reason.value,
              expectedChangedAtIso: ks.changedAtIso,
            },
            idempotencyKey: toggleKey,
          });
          killShortfall = out.shortfall ?? null;
          killEnded = out.endedNote ?? null;
          killUnchanged = out.unchangedNote ?? null;
          route();
        } catch (err) {
          if (err.status !== 409) {
            msg.textContent = err.message;
            return;
          }
          killRefused = err.message;
          route();
        }
      },
    },
    ks.engaged ? 'Release the kill switch' : 'Engage the kill switch',
  );
  const parts = [
    h('h1', null, 'Risk and leverage'),
    h(
      'div',
      { class: 'card' },
      h('h2', null, 'Kill switch'),
      h(
        'p',
        null,
        h(
          'span',
          { class: `badge ${ks.engaged ? 'fail' : 'pass'}` },
          ks.engaged ? 'ENGAGED: every gate fails' : 'off',
        ),
        ' ',
        ks.changedBy
          ? `since ${when(ks.changedAtIso)} by ${ks.changedBy}: ${ks.reason}`
          : ks.reason,
        ks.lastEngageNote ? `; ${ks.lastEngageNote}` : '',
      ),
      h('div', { class: 'toolbar' }, reason, toggle),
      canOperate ? null : h('p', { class: 'msg' }, 'Only an operator can change the kill switch.'),
      msg,
    ),
  ];
  if (latest) {
    const doc = await api(`/cohorts/${encodeURIComponent(latest.cohortId)}`);
    parts.push(h('h2', null, `Latest cohort (${latest.sessionDate})`), riskBadges(doc.risk));
    parts.push(
      chart(
        'Bankroll utilization',
        [{ label: 'utilization', points: doc.curves.parent.utilization }],
        { format: (v) => pct(v, 1), height: 220 },
      ),
    );
  } else {
    parts.push(state('empty', 'No cohort yet: risk figures appear after the first cohort.'));
  }
  const live = await api('/micro-live');
  parts.push(
    h(
      'div',
      { class: 'card', id: 'micro-live' },
      h('h2', null, 'Leverage tiers and micro-live slices'),
      live.items.length
        ? live.items.map(sliceCard)
        : state(
            'empty',
            'Leverage decisions and rollbacks of micro-live slices appear here once a Day-3 approval starts a slice (see Approvals).',
          ),
      h(
        'p',
        { class: 'msg' },
        `Policy: start ${live.policy.startLeverage}x, ±${live.policy.stepLeverage}x, floor ${live.policy.minLeverage}x, cap ${live.policy.maxLeverage}x; step up on an annualized Sharpe above ${live.policy.stepUpMinSharpe} over at least ${live.policy.minSharpeSessions} daily returns with drawdown below ${pct(live.policy.stepUpMaxDrawdownFraction, 1)}.`,
      ),
    ),
  );
  return parts;
}

function sliceCard(v) {
  const s = v.slice;
  const rollbackClass =
    v.rollback.state === 'watching' ? 'pass' : v.rollback.state === 'starting' ? 'warn' : 'fail';
  return h(
    'div',
    { class: 'slice' },
    h('h3', null, `${s.sliceId}: ${s.agentId} (${s.family}, ${s.symbol})`),
    h(
      'div',
      { class: 'badges' },
      h('span', { class: 'badge warn' }, `tier ${v.leverage.current}x`),
      h(
        'span',
        { class: 'badge' },
        v.leverage.nextTier === null ? 'at the cap' : `next ${v.leverage.nextTier}x`,
      ),
      h('span', { class: `badge ${rollbackClass}` }, `rollback: ${v.rollback.state}`),
    ),
    h(
      'dl',
      { class: 'kv' },
      h('dt', null, 'Bankroll at risk'),
      h(
        'dd',
        null,
        `${usd(v.bankrollAtRiskUsd)} (${pct(v.bankrollAtRiskFraction, 1)} of ${usd(s.bankrollUsd)}; slice ${usd(s.capitalSliceUsd)} × ${v.leverage.current}x)`,
      ),
      h('dt', null, 'Next tier trigger'),
      h('dd', null, v.leverage.trigger),
      h('dt', null, 'Rollback status'),
      h(
        'dd',
        null,
        `${v.rollback.reason}${v.rollback.flattenClientOrderId ? ` (flatten ${v.rollback.flattenClientOrderId})` : ''}`,
      ),
      h('dt', null, 'Approved'),
      h('dd', null, `by ${s.approvedBy} at ${when(s.approvedAtIso)}`),
      s.promotionId ? h('dt', null, 'Paper session') : null,
      s.promotionId
        ? h(
            'dd',
            null,
            h('a', { href: `#/paper/${encodeURIComponent(s.promotionId)}` }, s.promotionId),
          )
        : null,
    ),
    table(
      [
        { label: 'Decided (UTC)', value: (d) => when(d.decidedAtIso) },
        { label: 'From', num: true, value: (d) => (d.previous === null ? '—' : `${d.previous}x`) },
        { label: 'To', num: true, value: (d) => `${d.next}x` },
        { label: 'Rule', value: (d) => d.rule },
        { label: 'Rationale', value: (d) => d.rationale },
      ],
      v.leverage.decisions,
    ),
  );
}

async function approvalsPage() {
  const page = await api('/approvals?limit=50');
  const body = page.items.length
    ? table(
        [
          { label: 'Requested (UTC)', value: (a) => when(a.createdAtIso) },
          {
            label: 'Candidate',
            value: (a) => `${a.summary.agentId} (${a.summary.family}, ${a.summary.symbol})`,
          },
          {
            label: 'Status',
            value: (a) =>
              h(
                'span',
                {
                  class: `badge ${a.status === 'approved' ? 'pass' : a.status === 'pending' ? 'warn' : 'fail'}`,
                },
                a.expired && a.status === 'pending' ? 'expired' : a.status,
              ),
          },
          { label: 'Decided by', value: (a) => a.decidedBy || '—' },
          { label: 'Expires (UTC)', value: (a) => when(a.expiresAtIso) },
        ],
        page.items,
        (a) => {
          location.hash = `#/approvals/${encodeURIComponent(a.approvalId)}`;
        },
      )
    : state(
        'empty',
        'No approval request yet: the Day-3 go/no-go asks after the third daily cohort.',
      );
  return [h('h1', null, 'Approvals'), h('div', { class: 'card' }, body)];
}

async function approvalPage(id) {
  const a = await api(`/approvals/${encodeURIComponent(id)}`);
  const s = a.summary;
  const failed = s.gates.filter((g) => g.verdict === 'fail');
  const check = (ok, text) => h('li', { class: ok ? 'pass' : 'fail' }, `${ok ? '✓' : '✗'} ${text}`);
  const checklist = h(
    'ul',
    { class: 'checklist' },
    check(
      s.metrics.sessions >= 3,
      `${s.metrics.sessions} sessions of evidence (${s.sessionDates.join(', ')})`,
    ),
    check(
      failed.length === 0,
      failed.length
        ? `${failed.length} gate(s) fail: ${failed.map((g) => g.gate).join(', ')}`
        : s.gates.every((g) => g.verdict === 'pass')
          ? `all ${s.gates.length} gates pass`
          : `no gate fails (${verdictCounts(s.gates)})`,
    ),
    check(
      s.metrics.totalPnlUsd > 0,
      `total PnL ${usd(s.metrics.totalPnlUsd)} (ROI ${pct(s.metrics.roi)})`,
    ),
    check(
      s.metrics.maxDrawdownFraction < 0.05,
      `max drawdown ${pct(s.metrics.maxDrawdownFraction)}`,
    ),
    check(s.metrics.tradeCount > 0, `${s.metrics.tradeCount} trades`),
    ...evidenceGates(s.gates).map((g) =>
      check(
        g.verdict === 'pass',
        `${g.gate.toUpperCase()} ${num(g.observed, 3)} vs threshold ${num(g.threshold, 3)}${g.unit ? ` (${g.unit})` : ''}`,
      ),
    ),
    s.metrics.sharpeSessions === undefined
      ? null
      : h(
          'li',
          { class: 'note' },
          `Session Sharpe ${num(s.metrics.sharpe, 2)} per session on n = ${s.metrics.sharpeSessions} sessions (for reference; the decision rests on PSR/DSR)`,
        ),
    check(
      true,
      `micro-live slice ${usd(s.capitalSliceUsd)} of ${usd(s.bankrollUsd)} at ${s.leverage}x`,
    ),
  );
  // The server decides who may sign which step; the page only hides what a role can never do.
  const signer = me.roles.includes('risk') || me.roles.includes('operator');
  const canDecide = signer && a.status === 'pending' && !a.expired;
  const msg = h('p', { class: 'msg', role: 'status' });
  const note = h('textarea', {
    id: 'decision-note',
    maxlength: '1000',
    rows: '3',
    placeholder: 'Why (recorded with your signature in the audit trail)',
  });
  const decisionKey = actionKey();
  const decide = (decision) => async () => {
    try {
      const out = await api(`/approvals/${encodeURIComponent(id)}/decision`, {
        body: note.value.trim() ? { decision, note: note.value.trim() } : { decision },
        idempotencyKey: decisionKey,
      });
      msg.textContent = out.chain.complete
        ? `Recorded: ${out.status} (execution ${out.execution}).`
        : `Signed ${out.chain.step} of ${out.chain.of}: waiting for the next signature (execution ${out.execution}).`;
      // A repeat whose re-sent resume was refused: what the execution says it did.
      if (out.workflow) msg.textContent += ` ${out.workflow.message}`;
      // The signature stands; say so when the Slack message could not follow (and stay here).
      if (out.messageUpdateError)
        msg.textContent += ` The Slack approval message was not updated: ${out.messageUpdateError}`;
      else setTimeout(route, 800);
    } catch (err) {
      msg.textContent = err.message;
    }
  };
  return [
    h('h1', null, `Day-3 review: ${s.agentId}`),
    h(
      'div',
      { class: 'badges' },
      h(
        'span',
        {
          class: `badge ${a.status === 'approved' ? 'pass' : a.status === 'pending' ? 'warn' : 'fail'}`,
        },
        a.expired && a.status === 'pending' ? 'expired' : a.status,
      ),
      a.decidedBy
        ? `decided by ${a.decidedBy} at ${when(a.decidedAtIso)}`
        : `expires ${when(a.expiresAtIso)}`,
    ),
    h('div', { class: 'card' }, h('h2', null, 'Evidence checklist'), checklist),
    approvalChainCard(a),
    chart('Candidate equity (USD)', [{ label: 'equity', points: a.equityCurve }], {
      format: (v) => usd(v),
    }),
    h('h2', null, 'Gate table'),
    h('div', { class: 'card' }, gateTable(s.gates)),
    h(
      'div',
      { class: 'card' },
      h('h2', null, 'Decision'),
      h('label', { for: 'decision-note' }, 'Note'),
      note,
      h(
        'div',
        { class: 'toolbar' },
        h('button', { id: 'approve', disabled: !canDecide, onclick: decide('approve') }, 'Approve'),
        h(
          'button',
          { id: 'reject', class: 'danger', disabled: !canDecide, onclick: decide('reject') },
          'Reject',
        ),
      ),
      signer
        ? null
        : h('p', { class: 'msg' }, 'Only an operator or a risk officer can sign (their step).'),
      msg,
    ),
  ];
}

/** The evidence gates (PSR, DSR, out of sample) of a Day-3 gate table; none on old requests. */
function evidenceGates(gates) {
  const found = gates.filter((g) => ['psr', 'dsr', 'oos'].includes(g.gate));
  if (found.length) return found;
  return [
    {
      gate: 'psr/dsr',
      verdict: 'fail',
      observed: null,
      threshold: null,
      unit: 'not evaluated for this request',
    },
  ];
}

/** The approval chain: each signature or refused attempt, the task token's state (never the token). */
function approvalChainCard(a) {
  const c = a.chain;
  if (!c) return null;
  const tokenClass =
    c.taskToken.state === 'released' ? 'pass' : c.taskToken.state === 'held' ? 'warn' : 'fail';
  const steps = c.steps.length
    ? table(
        [
          { label: 'When (UTC)', value: (s) => when(s.atIso) },
          { label: 'Step', value: (s) => s.step },
          { label: 'Who', value: (s) => s.actor },
          { label: 'Outcome', value: (s) => s.outcome || '—' },
          { label: 'Channel', value: (s) => s.channel || '—' },
          { label: 'Detail', value: (s) => s.detail || '' },
        ],
        c.steps,
      )
    : state('empty', 'No signature or attempt recorded yet.');
  return h(
    'div',
    { class: 'card', id: 'approval-chain' },
    h('h2', null, 'Approval chain'),
    h(
      'p',
      null,
      c.requiredSignatures === 1
        ? `One signature of an allowed approver decides (${c.approvers.join(', ')}).`
        : `${c.requiredSignatures} signatures, in order, each by a different approver; a rejection or the deadline ends it as not approved.`,
    ),
    Object.assign(
      table(
        [
          { label: 'Signature', value: (s) => `${s.step} of ${c.requiredSignatures}` },
          { label: 'Role', value: (s) => s.role },
          { label: 'May sign', value: (s) => s.approvers.join(', ') },
          {
            label: 'Signed',
            value: (s) =>
              s.signature
                ? `${s.signature.decision} by ${s.signature.by} at ${when(s.signature.atIso)} (${s.signature.channel})`
                : 'not yet',
          },
          { label: 'Note', value: (s) => s.signature?.note || '' },
        ],
        c.signatureSteps,
      ),
      { id: 'signature-steps' },
    ),
    h(
      'p',
      null,
      'Task token: ',
      h('span', { class: `badge ${tokenClass}`, id: 'task-token-state' }, c.taskToken.state),
      ` ${c.taskToken.detail}`,
    ),
    steps,
    c.sliceId ? h('p', null, 'Micro-live slice: ', h('a', { href: '#/risk' }, c.sliceId)) : null,
  );
}

// ---------------------------------------------------------------------------------------------
// Paper sessions
// ---------------------------------------------------------------------------------------------

function statusBadge(status) {
  const cls = status === 'completed' ? 'pass' : status === 'running' ? 'warn' : 'fail';
  return h('span', { class: `badge ${cls}` }, status);
}

async function paperSessionsPage() {
  const page = await api('/paper-sessions?limit=100');
  const body = page.items.length
    ? table(
        [
          { label: 'Session', value: (s) => s.sessionDate || '—' },
          { label: 'Market', value: (s) => s.market },
          { label: 'Promotion', value: (s) => s.promotionId },
          { label: 'Symbol', value: (s) => s.symbol || '—' },
          { label: 'Capital', num: true, value: (s) => usd(s.capitalUsd) },
          { label: 'Broker', value: (s) => s.broker || '—' },
          { label: 'Status', value: (s) => statusBadge(s.status) },
          {
            label: 'Orders (filled)',
            num: true,
            value: (s) => `${s.orderCount} (${s.filledCount})`,
          },
          { label: 'Paper PnL', num: true, value: (s) => usd(s.paperPnlUsd) },
          { label: 'Simulator PnL', num: true, value: (s) => usd(s.referencePnlUsd) },
          { label: 'Difference', num: true, value: (s) => usd(s.differenceUsd) },
          {
            label: 'Reconciled',
            value: (s) =>
              s.reconciliationClean === null
                ? '—'
                : h(
                    'span',
                    { class: `badge ${s.reconciliationClean ? 'pass' : 'fail'}` },
                    s.reconciliationClean ? 'clean' : 'BREAK',
                  ),
          },
        ],
        page.items,
        (s) => {
          location.hash = `#/paper/${encodeURIComponent(s.promotionId)}`;
        },
      )
    : state(
        'empty',
        'No paper session yet: a promoted candidate trades one on the paper broker from its promotion window to the close.',
      );
  return [h('h1', null, 'Paper sessions'), h('div', { class: 'card', id: 'paper-sessions' }, body)];
}

async function paperSessionPage(id) {
  const doc = await api(`/paper-sessions/${encodeURIComponent(id)}`);
  const s = doc.session;
  const p = doc.promotion;
  const at = (iso) => Date.parse(iso);
  const buys = s.fills.filter((f) => f.side === 'buy').map((f) => [at(f.atIso), f.priceUsd]);
  const sells = s.fills.filter((f) => f.side === 'sell').map((f) => [at(f.atIso), f.priceUsd]);
  const priceChart = chart(
    `${s.symbol || 'price'}: minute close with the session's fills (USD)`,
    [
      { label: 'close', points: doc.prices.close, color: '#57606a' },
      { label: 'buy fill', points: buys, color: '#1a7f37', markers: true },
      { label: 'sell fill', points: sells, color: '#cf222e', markers: true },
    ],
    { format: (v) => usd(v) },
  );
  const orders = s.orders.length
    ? table(
        [
          { label: 'client_order_id', value: (o) => o.clientOrderId },
          {
            label: `Decided (${zoneOf(s.market).name})`,
            value: (o) => whenIn(o.decidedAtIso, s.market),
          },
          { label: 'Side', value: (o) => o.side },
          { label: 'Qty', num: true, value: (o) => num(o.qty, 4) },
          { label: 'Reason', value: (o) => o.reason || '—' },
          { label: 'Status', value: (o) => o.status },
          { label: 'Filled', num: true, value: (o) => num(o.filledQty, 4) },
          { label: 'Avg price', num: true, value: (o) => usd(o.avgPriceUsd) },
          { label: 'History', value: (o) => o.history.map((x) => x.status).join(' → ') },
        ],
        s.orders,
      )
    : state('empty', 'The session sent no order (no signal, or every tick was skipped).');
  const parity = s.parity
    ? h(
        'dl',
        { class: 'kv' },
        h('dt', null, 'Paper PnL'),
        h('dd', null, usd(s.parity.paperPnlUsd)),
        h('dt', null, 'Simulator PnL (same genome, same bars)'),
        h('dd', null, usd(s.parity.referencePnlUsd)),
        h('dt', null, 'Difference (paper − simulator)'),
        h('dd', { id: 'parity-difference' }, usd(s.parity.differenceUsd)),
        h('dt', null, 'Cohort PnL that promoted it'),
        h('dd', null, usd(s.parity.cohortPnlUsd)),
      )
    : state('loading', 'The session is still running: parity is computed at the close.');
  const rec = s.reconciliation
    ? h(
        'p',
        null,
        h(
          'span',
          { class: `badge ${s.reconciliation.clean ? 'pass' : 'fail'}` },
          s.reconciliation.clean ? 'clean' : 'BREAK',
        ),
        ` book ${num(s.reconciliation.bookQty, 4)} vs broker ${num(s.reconciliation.brokerQty, 4)} shares`,
      )
    : state('loading', 'Reconciled at the close.');
  const decisions = s.decisions.length
    ? table(
        [
          { label: `When (${zoneOf(s.market).name})`, value: (d) => whenIn(d.atIso, s.market) },
          { label: 'Action', value: (d) => d.action },
          { label: 'Reason', value: (d) => d.reason || '' },
        ],
        s.decisions,
      )
    : null;
  return [
    h('h1', null, `Paper session ${s.promotionId}`),
    h(
      'div',
      { class: 'badges' },
      statusBadge(s.status),
      s.halt
        ? h('span', { class: 'badge fail' }, `halted (${s.halt.mode}): ${s.halt.reason}`)
        : null,
    ),
    h(
      'dl',
      { class: 'kv card' },
      h('dt', null, 'Session'),
      h(
        'dd',
        null,
        `${s.sessionDate} ${s.symbol} on ${s.broker}, close ${whenIn(s.closeIso, s.market)}${s.earlyClose ? ' (early close)' : ''}`,
      ),
      h('dt', null, 'Capital / bankroll'),
      h('dd', null, `${usd(s.capitalUsd)} / ${usd(p.bankrollUsd)}`),
      h('dt', null, 'Promotion'),
      h(
        'dd',
        null,
        h('a', { href: `#/promotions/${encodeURIComponent(p.promotionId)}` }, p.promotionId),
      ),
      h('dt', null, 'Cohort / agent'),
      h(
        'dd',
        null,
        h('a', { href: `#/cohorts/${encodeURIComponent(p.cohortId)}` }, p.cohortId),
        ` / ${p.agentId}`,
      ),
    ),
    priceChart,
    doc.prices.error ? h('p', { class: 'msg' }, `No price bars: ${doc.prices.error}`) : null,
    h('div', { class: 'card', id: 'parity' }, h('h2', null, 'Paper vs simulator PnL'), parity),
    h('div', { class: 'card' }, h('h2', null, 'Reconciliation'), rec),
    h('h2', null, `Orders (${s.orders.length})`),
    h('div', { class: 'card', id: 'paper-orders' }, orders),
    decisions ? h('h2', null, 'Skipped and halted ticks') : null,
    decisions ? h('div', { class: 'card' }, decisions) : null,
  ];
}

async function auditPage(params) {
  const q = new URLSearchParams(params);
  q.set('limit', '100');
  const doc = await api(`/audit?${q}`);
  const kind = h('input', {
    value: params.get('kind') || '',
    placeholder: 'any kind',
    list: 'kinds',
  });
  const from = h('input', { type: 'date', value: params.get('from') || '' });
  const to = h('input', { type: 'date', value: params.get('to') || '' });
  const apply = () => {
    const p = new URLSearchParams();
    if (kind.value) p.set('kind', kind.value);
    if (from.value) p.set('from', from.value);
    if (to.value) p.set('to', to.value);
    location.hash = `#/audit?${p}`;
  };
  const chain = doc.chain.ok
    ? h(
        'span',
        { class: 'badge pass', id: 'chain-status' },
        `hash chain intact: ${doc.chain.checked} records, ${doc.chain.streams} streams (${doc.chain.window})`,
      )
    : h(
        'span',
        { class: 'badge fail', id: 'chain-status' },
        `hash chain BROKEN at ${doc.chain.firstBreak?.stream} seq ${doc.chain.firstBreak?.seq}: ${doc.chain.firstBreak?.reason}`,
      );
  const rows = doc.items.length
    ? table(
        [
          { label: 'ts (UTC)', value: (r) => when(r.ts) },
          { label: 'Kind', value: (r) => r.kind },
          { label: 'Actor', value: (r) => r.actor },
          { label: 'Stream', value: (r) => `${r.stream} #${r.seq}` },
          {
            label: 'Chain',
            value: (r) =>
              h(
                'span',
                { class: `badge ${r.chainBroken ? 'fail' : 'pass'}` },
                r.chainBroken ? 'broken' : 'ok',
              ),
          },
          {
            label: 'Payload',
            value: (r) => h('pre', null, JSON.stringify(r.payload).slice(0, 300)),
          },
        ],
        doc.items,
      )
    : state('empty', 'No audit record matches.');
  const exportQ = new URLSearchParams(params);
  exportQ.delete('cursor');
  return [
    h('h1', null, 'Audit trail'),
    h('div', { class: 'badges' }, chain),
    h(
      'div',
      { class: 'toolbar' },
      h('label', null, 'Kind', kind),
      h('label', null, 'From (UTC day)', from),
      h('label', null, 'To', to),
      h('button', { onclick: apply }, 'Filter'),
      h('a', { href: `/api/exports/audit.csv?${exportQ}` }, 'audit.csv'),
    ),
    h('p', null, `${doc.total} record(s)`),
    h('div', { class: 'card', id: 'audit' }, rows),
    doc.nextCursor
      ? h(
          'button',
          {
            class: 'secondary',
            onclick: () => {
              const p = new URLSearchParams(params);
              p.set('cursor', doc.nextCursor);
              location.hash = `#/audit?${p}`;
            },
          },
          'Next page',
        )
      : null,
  ];
}

// ---------------------------------------------------------------------------------------------
// Router
// ---------------------------------------------------------------------------------------------

function route() {
  const [path, query] = (location.hash.replace(/^#/, '') || '/cohorts').split('?');
  const params = new URLSearchParams(query || '');
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  for (const a of document.querySelectorAll('#nav a'))
    a.classList.toggle('active', a.dataset.page === parts[0]);
  switch (parts[0]) {
    case 'cohorts':
      if (parts[1] && parts[2] === 'agents' && parts[3])
        return load(() => agentPage(parts[1], parts[3]));
      if (parts[1]) return load(() => cohortPage(parts[1], params));
      return load(() => cohortsPage(params));
    case 'promotions':
      return load(() => (parts[1] ? promotionPage(parts[1]) : promotionsPage()));
    case 'paper':
      return load(() => (parts[1] ? paperSessionPage(parts[1]) : paperSessionsPage()));
    case 'risk':
      return load(riskPage);
    case 'approvals':
      return load(() => (parts[1] ? approvalPage(parts[1]) : approvalsPage()));
    case 'audit':
      return load(() => auditPage(params));
    default:
      location.hash = '#/cohorts';
  }
}

async function start() {
  if (auth === null) auth = await loadAuthConfig();
  if (auth) {
    try {
      await completeCognitoSignIn();
    } catch (err) {
      return showLogin(err.message);
    }
    if (!sessionStorage.getItem(ID_TOKEN_KEY)) return showLogin();
    ensureCsrfCookie();
  }
  try {
    me = await api('/me');
  } catch (err) {
    if (err instanceof ApiError && (err.status === 401 || err.status === 403)) return showLogin();
    return show(state('error', `The API is not reachable: ${err.message}`));
  }
  who.replaceChildren(
    `${me.identity} (${me.roles.join(', ')}) `,
    h(
      'button',
      {
        class: 'secondary',
        onclick: async () => {
          me = null;
          if (auth) return signOutOfCognito();
          await fetch('/api/logout', { method: 'POST' });
          showLogin();
        },
      },
      'Sign out',
    ),
  );
  route();
}

window.addEventListener('hashchange', () => {
  if (me) route();
});
start();
