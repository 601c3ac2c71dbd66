/**
 * The local operator console server (`stagegate console`, `npm start -- --serve`): on
 * 127.0.0.1 it serves the static console (`console/` at `/`, uPlot at `/vendor/`) and the API
 * at `/api/` with the SAME routes and handler code as AWS (`functions/handlers/console-api.ts`,
 * fed API Gateway HTTP API v2 events).
 *
 * It stands in for Cognito and the JWT authorizer: `POST /api/login` checks a local user's
 * password (`local/console-users.ts`) and sets the session cookie (HttpOnly, SameSite=Strict)
 * and the CSRF cookie; every `/api/` request's session (cookie or `Authorization: Bearer`) is
 * verified HERE and passed on as the Lambda-authorizer context (`approver`, `groups`), never
 * read from anything else the client sends. A request without a valid session reaches the
 * handler unauthenticated, which refuses and audits it. Failed logins are audited too.
 */
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { HttpResponse } from '../functions/adapters/http/api-gateway.js';
import { buildConsoleApi } from '../functions/composition/console.js';
import type { AuditDraft } from '../functions/core/audit/record.js';
import type { ConsoleApi } from '../functions/core/use-cases/console-api.js';
import type { SlashCommandExtensions } from '../functions/core/use-cases/slash-command.js';
import { answer } from '../functions/handlers/console-api.js';
import type { AuditSink } from '../functions/ports/audit.js';
import { CONSOLE_FILES, type ConsoleFile } from '../lib/console-files.js';
import { REPO_ROOT } from '../lib/paths.js';
import { httpApiEvent, readBody } from './approval-server.js';
import { type LocalHandler, localLambdaContext } from './asl-runner.js';
import { ConsoleUsers, TOKEN_TTL_SECONDS } from './console-users.js';
import { localCohortStarter } from './local-cohort-starter.js';
import type { LocalStack } from './local-stack.js';
import {
  forgetEndpoint,
  localPlanDeps,
  localSigningSecret,
  localSlackHandlers,
  recordEndpoint,
} from './slack-local.js';

/** Static files: URL path -> file (nothing else of the disk is reachable). */
const STATIC: Readonly<Record<string, ConsoleFile>> = {
  '/': CONSOLE_FILES['/index.html'] as ConsoleFile,
  ...CONSOLE_FILES,
};

/** Security headers of every static answer. */
export const CONSOLE_PAGE_HEADERS = {
  'content-security-policy':
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; form-action 'self'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
} as const;

export interface ConsoleServerOptions {
  readonly api: ConsoleApi;
  readonly users: ConsoleUsers;
  /** Where failed logins are recorded. */
  readonly audit: AuditSink;
  readonly environment: AuditDraft['environment'];
  /** Port on 127.0.0.1. @default 0 (a free port) */
  readonly port?: number;
  /**
   * The Slack endpoints (`POST /slack/commands`, `POST /slack/interactivity`): the real
   * handlers, which authenticate every request by its Slack signature (local/slack-local.ts).
   */
  readonly slack?: { readonly commands: LocalHandler; readonly interactivity: LocalHandler };
}

export interface ConsoleServer {
  /** `http://127.0.0.1:<port>/` */
  readonly url: string;
  close(): Promise<void>;
}

function cookie(header: string | undefined, name: string): string | null {
  for (const part of (header ?? '').split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === name) return v.join('=');
  }
  return null;
}

function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  extra: Record<string, string | string[]> = {},
) {
  res.writeHead(status, {
    'content-type': status >= 400 ? 'application/problem+json' : 'application/json',
    'cache-control': 'no-store',
    ...extra,
  });
  res.end(JSON.stringify(body));
}

/** One request as a route's handler sees it. */
interface RouteContext {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  /** Upper-case HTTP method. */
  readonly method: string;
  readonly url: URL;
  /** The request body (read, bounded, for routes with `body: true`; empty otherwise). */
  readonly body: Buffer;
}

/** One row of the console server's route table: method + path pattern -> handler. */
interface ConsoleRoute {
  /** The methods served, or `ANY`. */
  readonly methods: readonly string[] | 'ANY';
  /** An exact path, or a prefix ending in `{proxy+}` (API Gateway's greedy path variable). */
  readonly path: string;
  /** Read the body first (413 past `readBody`'s limit) before the handler runs. */
  readonly body: boolean;
  readonly handle: (ctx: RouteContext) => Promise<void>;
}

function routeMatches(route: ConsoleRoute, method: string, pathname: string): boolean {
  if (route.methods !== 'ANY' && !route.methods.includes(method)) return false;
  return route.path.endsWith('{proxy+}')
    ? pathname.startsWith(route.path.slice(0, -'{proxy+}'.length))
    : pathname === route.path;
}

async function serveStatic({ res, method }: RouteContext, asset: ConsoleFile): Promise<void> {
  const content = await readFile(path.join(REPO_ROOT, asset.file));
  res.writeHead(200, { 'content-type': asset.type, ...CONSOLE_PAGE_HEADERS });
  res.end(method === 'HEAD' ? undefined : content);
}

/** Slack presents no credentials: the handler authenticates the request by its signature. */
async function forwardToSlack(
  { req, res, method, url, body }: RouteContext,
  handler: LocalHandler,
): Promise<void> {
  const event = {
    ...httpApiEvent({
      method,
      url,
      headers: req.headers,
      body,
      routeKey: `POST ${url.pathname}`,
      pathParameters: {},
      approver: '',
    }),
  };
  (event.requestContext as Record<string, unknown>).authorizer = undefined;
  const out = (await handler(event, localLambdaContext('Slack', 30_000))) as HttpResponse;
  res.writeHead(out.statusCode, out.headers);
  res.end(out.body);
}

/** `POST /api/login`: checks the password, sets the session and CSRF cookies; audits a failure. */
async function login(options: ConsoleServerOptions, { req, res, body }: RouteContext) {
  let fields: Record<string, unknown> = {};
  const type = req.headers['content-type'] ?? '';
  try {
    fields = type.startsWith('application/json')
      ? (JSON.parse(body.toString('utf8')) as Record<string, unknown>)
      : Object.fromEntries(new URLSearchParams(body.toString('utf8')));
  } catch {
    fields = {};
  }
  const username = typeof fields.username === 'string' ? fields.username.slice(0, 64) : '';
  const password = typeof fields.password === 'string' ? fields.password.slice(0, 256) : '';
  const token = options.users.login(username, password);
  if (!token) {
    await options.audit.append({
      kind: 'input_rejected',
      actor: 'anonymous:unauthenticated',
      stream: 'console:refusals',
      environment: options.environment,
      payload: {
        source: 'console-login',
        field: 'password',
        message: 'unknown user or wrong password',
        username: /^[a-z0-9-]{1,32}$/.test(username) ? username : '(invalid)',
      },
    });
    sendJson(res, 401, {
      title: 'Unauthorized',
      status: 401,
      detail: 'unknown user or wrong password',
    });
    return;
  }
  const session = options.users.verify(token);
  const csrf = randomBytes(24).toString('base64url');
  const attrs = `Path=/; SameSite=Strict; Max-Age=${TOKEN_TTL_SECONDS}`;
  sendJson(
    res,
    200,
    { identity: session?.identity, roles: session?.roles },
    {
      'set-cookie': [
        `stagegate_session=${token}; HttpOnly; ${attrs}`,
        `stagegate_csrf=${csrf}; ${attrs}`,
      ],
    },
  );
}

/** `POST /api/logout`: clears both cookies. */
async function logout({ res }: RouteContext): Promise<void> {
  sendJson(
    res,
    200,
    { ok: true },
    {
      'set-cookie': [
        'stagegate_session=; HttpOnly; Path=/; SameSite=Strict; Max-Age=0',
        'stagegate_csrf=; Path=/; SameSite=Strict; Max-Age=0',
      ],
    },
  );
}

/**
 * `ANY /api/{proxy+}`: verifies the session (bearer token or cookie) HERE and hands the
 * handler the Lambda-authorizer context; without a valid session the handler refuses.
 */
async function proxyToApi(
  { api, users }: ConsoleServerOptions,
  { req, res, method, url, body }: RouteContext,
): Promise<void> {
  const bearer = /^Bearer (.+)$/i.exec(req.headers.authorization ?? '')?.[1];
  const session = users.verify(bearer ?? cookie(req.headers.cookie, 'stagegate_session'));
  const event = httpApiEvent({
    method,
    url,
    headers: req.headers,
    body,
    routeKey: 'ANY /api/{proxy+}',
    pathParameters: { proxy: url.pathname.slice('/api/'.length) },
    approver: session?.identity ?? '',
  });
  const ctx = event.requestContext as Record<string, unknown>;
  ctx.authorizer = session
    ? { lambda: { approver: session.identity, groups: `[${session.roles.join(' ')}]` } }
    : undefined;
  const out = await answer(api, event);
  res.writeHead(out.statusCode, out.headers);
  res.end(method === 'HEAD' ? undefined : out.body);
}

/**
 * The console server's route table, first match wins: the static files (GET/HEAD), the Slack
 * endpoints (when configured), login, logout, then the API proxy. Anything else is a 404.
 */
function consoleRoutes(options: ConsoleServerOptions): readonly ConsoleRoute[] {
  const slack = options.slack;
  return [
    ...Object.entries(STATIC).map(
      ([urlPath, asset]): ConsoleRoute => ({
        methods: ['GET', 'HEAD'],
        path: urlPath,
        body: false,
        handle: (ctx) => serveStatic(ctx, asset),
      }),
    ),
    ...(slack
      ? [
          { path: '/slack/commands', handler: slack.commands },
          { path: '/slack/interactivity', handler: slack.interactivity },
        ].map(
          ({ path: urlPath, handler }): ConsoleRoute => ({
            methods: ['POST'],
            path: urlPath,
            body: true,
            handle: (ctx) => forwardToSlack(ctx, handler),
          }),
        )
      : []),
    { methods: ['POST'], path: '/api/login', body: true, handle: (ctx) => login(options, ctx) },
    { methods: ['POST'], path: '/api/logout', body: true, handle: logout },
    {
      methods: 'ANY',
      path: '/api/{proxy+}',
      body: true,
      handle: (ctx) => proxyToApi(options, ctx),
    },
  ];
}

/** Finds the request's route (404 if none), reads its body if it takes one (413), runs it. */
async function dispatch(
  routes: readonly ConsoleRoute[],
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const method = (req.method ?? 'GET').toUpperCase();
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  const route = routes.find((r) => routeMatches(r, method, url.pathname));
  if (!route) {
    sendJson(res, 404, { title: 'Not found', status: 404, detail: url.pathname });
    return;
  }
  let body: Buffer = Buffer.alloc(0);
  if (route.body) {
    const read = await readBody(req);
    if (read === null) {
      sendJson(res, 413, { title: 'Payload too large', status: 413 });
      return;
    }
    body = read;
  }
  await route.handle({ req, res, method, url, body });
}

/** Starts the console server on 127.0.0.1. @throws when the port is taken. */
export async function startConsoleServer(options: ConsoleServerOptions): Promise<ConsoleServer> {
  const routes = consoleRoutes(options);
  const server = createServer((req, res) => {
    dispatch(routes, req, res).catch((err: unknown) => {
      if (!res.headersSent) {
        sendJson(res, 500, { title: 'Internal error', status: 500, detail: (err as Error).name });
      } else res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * The console API over a local stack: its runtime, its promotion and approval dependencies
 * (kill switch, decisions), the local intraday-cohort workflow (cohort start) and the plan use
 * cases over the stage's chat-ops settings (the plan routes).
 */
export function localConsoleApi(
  stack: Pick<LocalStack, 'runtime' | 'promotion' | 'approvalDeps' | 'intradayCohort' | 'config'>,
): ConsoleApi {
  return buildConsoleApi(stack.runtime, {
    plans: localPlanDeps(stack),
    promotionDeps: () => stack.promotion,
    approvalDeps: () => stack.approvalDeps(),
    cohortStarter: () => localCohortStarter(stack.intradayCohort),
  });
}

/**
 * Starts the console over a running local stack with the users of `stateDir` (the CLI's
 * `stagegate console` and `npm start -- --serve`) and prints its URL and how to log in.
 */
export async function serveLocalConsole(
  stack: Pick<LocalStack, 'runtime' | 'promotion' | 'approvalDeps' | 'config' | 'intradayCohort'>,
  options: {
    readonly stateDir: string;
    readonly port?: number;
    readonly write?: (text: string) => void;
    /** The slash commands other modules provide (plans, fund?, cohort start). */
    readonly slackExtensions?: SlashCommandExtensions;
  },
): Promise<ConsoleServer> {
  const users = await ConsoleUsers.load(options.stateDir);
  const slack = await localSlackHandlers(
    stack,
    await localSigningSecret(options.stateDir),
    options.slackExtensions,
  );
  const started = await startConsoleServer({
    slack,
    api: localConsoleApi(stack),
    users,
    audit: stack.runtime.audit,
    environment: stack.runtime.env.STAGE,
    ...(options.port !== undefined ? { port: options.port } : {}),
  });
  await recordEndpoint(options.stateDir, started.url);
  const server: ConsoleServer = {
    url: started.url,
    close: async () => {
      await forgetEndpoint(options.stateDir);
      await started.close();
    },
  };
  const write = options.write ?? ((t: string) => process.stdout.write(t));
  write(
    `\nconsole: ${server.url} (API at ${server.url}api/)\n` +
      `  log in as ${users.file.users.map((u) => `${u.username} (${u.roles.join('+')})`).join(', ')}; ` +
      `passwords: npm run stagegate -- console --users (kept in ${path.join(options.stateDir, 'console-users.json')})\n` +
      `  Slack stand-in: POST ${server.url}slack/commands (npm run stagegate -- slack "status")\n` +
      '  serving until Ctrl-C\n',
  );
  return server;
}
