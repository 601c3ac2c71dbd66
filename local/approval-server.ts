/**
 * The local approval server: serves the SAME Lambda handlers the HTTP API invokes in AWS
 * (`functions/handlers/approval-http.ts` for `GET|POST /approvals/{approvalId}`,
 * `functions/handlers/slack-interactivity.ts` for `POST /slack/interactivity`) over node:http
 * on loopback, translating each request into an API Gateway HTTP API (payload 2.0) event.
 *
 * Identity: the server is started FOR one approver (e.g. `local:<os user>`); it puts that
 * identity where a Lambda authorizer puts its context (`requestContext.authorizer.lambda
 * .approver`), never reading it from the request. Anyone who can reach 127.0.0.1 acts as
 * that user, exactly like the CLI itself.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  APPROVAL_PAGE_ROUTE_KEY,
  type HttpResponse,
} from '../functions/adapters/http/api-gateway.js';
import { localLambdaContext } from './asl-runner.js';

/** Largest request body read, bytes (an approval form is a few hundred). */
const MAX_BODY_BYTES = 64 * 1024;

/** A handler as the server calls it (API Gateway HTTP API v2 event in, structured result out). */
export type HttpHandler = (
  event: unknown,
  context: ReturnType<typeof localLambdaContext>,
) => Promise<unknown>;

/** Options of {@link startApprovalServer}. */
export interface ApprovalServerOptions {
  /** Authenticated identity of the server's user, `scheme:id` (e.g. `local:alice`). */
  readonly approver: string;
  /** Port on 127.0.0.1. @default 0 (a free port) */
  readonly port?: number;
  /**
   * The handlers to serve: the real approval-http and slack-interactivity handlers built by
   * the local composition root for a Day-3 run (`LocalDay3Run.http`).
   */
  readonly handlers: { readonly approval: HttpHandler; readonly slack: HttpHandler };
}

/** A running approval server. */
export interface ApprovalServer {
  /** `http://127.0.0.1:<port>`: the approval links' base URL. */
  readonly url: string;
  readonly approver: string;
  close(): Promise<void>;
}

/**
 * The request body, or `null` when it exceeds 64 KiB (the request is then destroyed).
 * Shared by the local approval and console servers.
 */
export function readBody(req: IncomingMessage): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) {
        resolve(null);
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** The HTTP API v2 event of a request (what API Gateway would send the Lambda). */
export function httpApiEvent(input: {
  readonly method: string;
  readonly url: URL;
  readonly headers: IncomingMessage['headers'];
  readonly body: Buffer;
  readonly routeKey: string;
  readonly pathParameters: Record<string, string>;
  readonly approver: string;
}): Record<string, unknown> {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(input.headers)) {
    if (v !== undefined) headers[k.toLowerCase()] = Array.isArray(v) ? v.join(',') : v;
  }
  const query: Record<string, string> = {};
  for (const [k, v] of input.url.searchParams) query[k] = k in query ? `${query[k]},${v}` : v;
  const now = Date.now();
  return {
    version: '2.0',
    routeKey: input.routeKey,
    rawPath: input.url.pathname,
    rawQueryString: input.url.search.replace(/^\?/, ''),
    headers,
    queryStringParameters: Object.keys(query).length ? query : undefined,
    pathParameters: input.pathParameters,
    body: input.body.length ? input.body.toString('utf8') : undefined,
    isBase64Encoded: false,
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      domainName: input.url.host,
      domainPrefix: 'local',
      requestId: randomUUID(),
      routeKey: input.routeKey,
      stage: '$default',
      time: new Date(now).toUTCString(),
      timeEpoch: now,
      http: {
        method: input.method,
        path: input.url.pathname,
        protocol: 'HTTP/1.1',
        sourceIp: '127.0.0.1',
        userAgent: headers['user-agent'] ?? '',
      },
      authorizer: { lambda: { approver: input.approver } },
    },
  };
}

function send(res: ServerResponse, out: HttpResponse): void {
  res.writeHead(out.statusCode, out.headers);
  res.end(out.body);
}

/**
 * Starts the server on 127.0.0.1.
 *
 * @throws when the port is taken.
 */
export async function startApprovalServer(options: ApprovalServerOptions): Promise<ApprovalServer> {
  const handlers = options.handlers;
  const server = createServer((req, res) => {
    void (async () => {
      const method = (req.method ?? 'GET').toUpperCase();
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const approval = /^\/approvals\/([^/]+)\/?$/.exec(url.pathname);
      let routeKey: string | null = null;
      let pathParameters: Record<string, string> = {};
      let handler: HttpHandler | null = null;
      if (approval) {
        // Every method, like the AWS route (`ANY`): the handler answers or refuses and audits.
        routeKey = APPROVAL_PAGE_ROUTE_KEY;
        pathParameters = { approvalId: decodeURIComponent(approval[1] as string) };
        handler = handlers.approval;
      } else if (url.pathname === '/slack/interactivity' && method === 'POST') {
        routeKey = 'POST /slack/interactivity';
        handler = handlers.slack;
      }
      if (!handler || !routeKey) {
        send(res, {
          statusCode: 404,
          headers: { 'content-type': 'text/plain' },
          body: 'not found\n',
        });
        return;
      }
      const body = await readBody(req);
      if (body === null) {
        send(res, {
          statusCode: 413,
          headers: { 'content-type': 'text/plain' },
          body: 'too large\n',
        });
        return;
      }
      const event = httpApiEvent({
        method,
        url,
        headers: req.headers,
        body,
        routeKey,
        pathParameters,
        approver: options.approver,
      });
      const out = (await handler(
        event,
        localLambdaContext('ApprovalHttp', 30_000),
      )) as HttpResponse;
      send(res, out);
    })().catch(() => {
      if (!res.headersSent)
        send(res, { statusCode: 500, headers: { 'content-type': 'text/plain' }, body: 'error\n' });
      else res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    approver: options.approver,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
