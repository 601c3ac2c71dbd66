/**
 * The console's sign-in in AWS, in Chromium: the pages are served as CloudFront serves them
 * (the published files plus `console-config.json` from `consolePageObjects`) by a loopback
 * "edge", and a fake Cognito managed login on another loopback port plays the authorization
 * code grant with PKCE. The page must send the S256 challenge, come back with the code, prove
 * the verifier at the token endpoint, clear the code from the address bar, call `/api` with
 * the ID token as a bearer (never in a URL), send the CSRF header equal to its cookie on a write,
 * and sign out through Cognito's logout endpoint.
 *
 * Needs the system Chromium (`apt-get install -y chromium`); without it every test FAILS.
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONSOLE_FILES } from '../../lib/console-files.js';
import { consolePageObjects, type PageObject } from '../../lib/console-publish.js';
import { launchChromium, requireChromium } from '../support/chromium.js';

const CLIENT_ID = 'console-client-1';
const ID_TOKEN = 'eyJhbGciOiJub25lIn0.eyJlbWFpbCI6InJpY2tAZXhhbXBsZS5jb20ifQ.sig';

interface Seen {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
}

const edgeSeen: Seen[] = [];
const idpSeen: Seen[] = [];
const challenges = new Map<string, string>();
let verified = 0;
let edge: Server | undefined;
let idp: Server | undefined;
let edgeUrl = '';
let idpUrl = '';
let browser: Browser | undefined;
let setupError: unknown;

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function bodyOf(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function json(res: ServerResponse, status: number, body: unknown, extra = {}) {
  res.writeHead(status, { 'content-type': 'application/json', ...extra });
  res.end(JSON.stringify(body));
}

/** The fake Cognito managed login: /oauth2/authorize, /oauth2/token, /logout. */
async function onIdp(req: IncomingMessage, res: ServerResponse) {
  const url = new URL(req.url ?? '/', idpUrl);
  const body = await bodyOf(req);
  idpSeen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
  const cors = { 'access-control-allow-origin': edgeUrl };
  if (url.pathname === '/oauth2/authorize') {
    const q = url.searchParams;
    const ok =
      q.get('response_type') === 'code' &&
      q.get('client_id') === CLIENT_ID &&
      q.get('redirect_uri') === `${edgeUrl}/` &&
      q.get('code_challenge_method') === 'S256' &&
      (q.get('scope') ?? '').split(' ').includes('openid') &&
      /^[A-Za-z0-9_-]{43}$/.test(q.get('code_challenge') ?? '');
    if (!ok) return json(res, 400, { error: 'invalid_request' });
    const code = `code-${challenges.size + 1}`;
    challenges.set(code, q.get('code_challenge') as string);
    const back = new URL(q.get('redirect_uri') as string);
    back.searchParams.set('code', code);
    back.searchParams.set('state', q.get('state') ?? '');
    res.writeHead(302, { location: back.toString() });
    return res.end();
  }
  if (url.pathname === '/oauth2/token' && req.method === 'POST') {
    const f = new URLSearchParams(body);
    const challenge = challenges.get(f.get('code') ?? '');
    challenges.delete(f.get('code') ?? '');
    const proof = createHash('sha256')
      .update(f.get('code_verifier') ?? '')
      .digest('base64url');
    if (
      f.get('grant_type') !== 'authorization_code' ||
      f.get('client_id') !== CLIENT_ID ||
      f.get('redirect_uri') !== `${edgeUrl}/` ||
      !challenge ||
      proof !== challenge
    ) {
      return json(res, 400, { error: 'invalid_grant' }, cors);
    }
    verified += 1;
    return json(
      res,
      200,
      { id_token: ID_TOKEN, access_token: 'access', token_type: 'Bearer', expires_in: 3600 },
      cors,
    );
  }
  if (url.pathname === '/logout') {
    res.writeHead(302, { location: url.searchParams.get('logout_uri') ?? '/' });
    return res.end();
  }
  return json(res, 404, { error: 'not_found' });
}

/** The loopback "CloudFront": the published objects, and /api/* (a JWT-checking stand-in). */
function onEdge(objects: readonly PageObject[]) {
  return async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', edgeUrl);
    const body = await bodyOf(req);
    edgeSeen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
    if (url.pathname.startsWith('/api/')) {
      if (req.headers.authorization !== `Bearer ${ID_TOKEN}`) {
        return json(res, 401, { title: 'Unauthorized', status: 401 });
      }
      if (url.pathname === '/api/me') {
        return json(res, 200, { identity: 'web:rick@example.com', roles: ['risk'] });
      }
      return json(res, 200, { items: [], nextCursor: null });
    }
    const key = url.pathname === '/' ? 'index.html' : url.pathname.slice(1);
    const o = objects.find((x) => x.key === key);
    if (!o) return json(res, 404, { title: 'Not found' });
    res.writeHead(200, { 'content-type': o.contentType, 'cache-control': 'no-store' });
    res.end(o.body);
  };
}

beforeAll(async () => {
  try {
    requireChromium();
    idp = createServer((req, res) => void onIdp(req, res));
    idpUrl = await listen(idp);
    const edgeServer = createServer();
    edge = edgeServer;
    edgeUrl = await listen(edgeServer);
    const objects = await consolePageObjects({
      stack: 'stagegate-dev-workflow',
      url: `${edgeUrl}/`,
      bucket: 'pages',
      signInUrl: idpUrl,
      clientId: CLIENT_ID,
    });
    edgeServer.on('request', (req, res) => void onEdge(objects)(req, res));
    browser = await launchChromium();
  } catch (err) {
    setupError = err;
  }
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await new Promise((r) => edge?.close(r) ?? r(undefined));
  await new Promise((r) => idp?.close(r) ?? r(undefined));
});

describe('console sign-in through Cognito (authorization code with PKCE)', () => {
  it('publishes every console file and the sign-in settings', async () => {
    if (setupError !== undefined) throw setupError;
    const objects = await consolePageObjects({
      stack: 's',
      url: 'https://d.cloudfront.net/',
      bucket: 'b',
      signInUrl: 'https://x.auth.us-east-1.amazoncognito.com',
      clientId: 'c',
    });
    expect(objects.map((o) => o.key).sort()).toEqual(
      [...Object.keys(CONSOLE_FILES).map((k) => k.slice(1)), 'console-config.json'].sort(),
    );
    const config = objects.find((o) => o.key === 'console-config.json');
    expect(JSON.parse(config?.body.toString() ?? '')).toEqual({
      signInUrl: 'https://x.auth.us-east-1.amazoncognito.com',
      clientId: 'c',
    });
  });

  it('signs in, calls the API with the ID token as a bearer, writes with CSRF, signs out', async () => {
    if (setupError !== undefined) throw setupError;
    const context = await (browser as Browser).newContext();
    const page = await context.newPage();
    await page.goto(`${edgeUrl}/#/approvals`);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('#who').getByText('web:rick@example.com (risk)').waitFor();

    // The code grant completed with the verifier; the code left the address bar and the page
    // came back to the route it started on.
    expect(verified).toBe(1);
    expect(page.url()).toBe(`${edgeUrl}/#/approvals`);
    const authorize = idpSeen.find((s) => s.url.startsWith('/oauth2/authorize'));
    expect(new URL(authorize?.url ?? '', idpUrl).searchParams.get('code_challenge_method')).toBe(
      'S256',
    );
    // The ID token travelled only as a bearer header to the same origin's /api.
    const apiCalls = edgeSeen.filter((s) => s.url.startsWith('/api/'));
    expect(apiCalls.length).toBeGreaterThan(0);
    for (const s of apiCalls) expect(s.headers.authorization).toBe(`Bearer ${ID_TOKEN}`);
    for (const s of [...edgeSeen, ...idpSeen]) expect(s.url).not.toContain(ID_TOKEN);

    // A write carries the CSRF header equal to the page's cookie.
    // `api` is app.js's top-level function (a classic script: a global of the page).
    await page.evaluate("api('/kill-switch', { body: { engaged: true, reason: 'test' } })");
    const post = edgeSeen.find((s) => s.method === 'POST' && s.url === '/api/kill-switch');
    const cookie = /stagegate_csrf=([^;]+)/.exec(String(post?.headers.cookie))?.[1];
    expect(cookie?.length).toBeGreaterThanOrEqual(16);
    expect(post?.headers['x-csrf-token']).toBe(cookie);

    // A reload keeps the tab signed in without a new sign-in.
    await page.reload();
    await page.locator('#who').getByText('web:rick@example.com').waitFor();
    expect(verified).toBe(1);

    // Sign out: the token is dropped and Cognito's logout sends the browser back.
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
    const logout = idpSeen.find((s) => s.url.startsWith('/logout'));
    expect(new URL(logout?.url ?? '', idpUrl).searchParams.get('client_id')).toBe(CLIENT_ID);
    expect(await page.evaluate(() => sessionStorage.getItem('stagegate.idToken'))).toBeNull();
    await context.close();
  });

  it('refuses an answer whose state is not the one this tab sent', async () => {
    if (setupError !== undefined) throw setupError;
    const context = await (browser as Browser).newContext();
    const page = await context.newPage();
    const before = verified;
    await page.goto(`${edgeUrl}/?code=code-forged&state=not-mine`);
    await page.getByRole('alert').getByText('does not match this tab').waitFor();
    expect(verified).toBe(before);
    expect(page.url()).not.toContain('code=');
    await context.close();
  });
});
