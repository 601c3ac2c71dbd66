/**
 * The API Gateway HTTP API (payload format 2.0) edge of the approval page and the Slack
 * interactivity endpoint: reading the request (headers, raw body, path and query parameters),
 * the authenticated identity the authorizer put in the request context, and urlencoded forms.
 * The local approval server builds the same event shape, so the handlers cannot tell the two
 * apart.
 *
 * Identity (never from a form field or a header the client controls):
 * - a JWT authorizer (`requestContext.authorizer.jwt.claims`): `web:<email>` when the token
 *   carries an `email` claim, else `web:<sub>`;
 * - a Lambda authorizer (`requestContext.authorizer.lambda.approver`): its `scheme:id` as is
 *   (the local approval server sets `local:<os user>` this way).
 * An identity that is not a valid `scheme:id` counts as none.
 */
import * as z from 'zod';
import { approverIdSchema } from '../../core/approval/types.js';

/** Path of the approval page route (HTTP API path template). */
export const APPROVAL_PAGE_PATH = '/approvals/{approvalId}';

/**
 * Route key of the approval page: EVERY method of the path reaches the approval-http handler
 * (API Gateway `ANY`), which answers GET/HEAD/POST and refuses any other method with 405 and an
 * `input_rejected` audit record; the local approval server routes the same way. Without `ANY`,
 * API Gateway would answer PUT/DELETE/OPTIONS itself and nothing would be audited.
 */
export const APPROVAL_PAGE_ROUTE_KEY = `ANY ${APPROVAL_PAGE_PATH}`;

/** The fields of an HTTP API v2 event the approval handlers read (others are ignored). */
export const HttpApiEventSchema = z.looseObject({
  routeKey: z.string().optional(),
  rawPath: z.string().optional(),
  rawQueryString: z.string().optional(),
  headers: z.record(z.string(), z.string().optional()).optional(),
  queryStringParameters: z.record(z.string(), z.string().optional()).optional(),
  pathParameters: z.record(z.string(), z.string().optional()).optional(),
  body: z.string().optional(),
  isBase64Encoded: z.boolean().optional(),
  requestContext: z.looseObject({
    http: z.looseObject({ method: z.string(), path: z.string().optional() }),
    authorizer: z
      .looseObject({
        jwt: z.looseObject({ claims: z.record(z.string(), z.unknown()).optional() }).optional(),
        lambda: z.record(z.string(), z.unknown()).optional(),
      })
      .optional(),
  }),
});
export type HttpApiEvent = z.infer<typeof HttpApiEventSchema>;

/** An HTTP API v2 structured response. */
export interface HttpResponse {
  readonly statusCode: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/** The request as the handlers use it. */
export interface HttpRequest {
  /** Upper-case method. */
  readonly method: string;
  readonly path: string;
  /** Lower-case header names; the first value of each. */
  readonly headers: Readonly<Record<string, string>>;
  readonly query: Readonly<Record<string, string>>;
  readonly pathParameters: Readonly<Record<string, string>>;
  /** The body exactly as received (base64 decoded when API Gateway encoded it). */
  readonly rawBody: string;
  /** Authenticated identity `scheme:id`, or null when the edge has none. */
  readonly identity: string | null;
}

const defined = (r: Record<string, string | undefined> | undefined): Record<string, string> =>
  Object.fromEntries(
    Object.entries(r ?? {}).filter((e): e is [string, string] => typeof e[1] === 'string'),
  );

/** The authenticated identity of an event (see the module comment), or null. */
export function identityOf(event: HttpApiEvent): string | null {
  const auth = event.requestContext.authorizer;
  const claims = auth?.jwt?.claims;
  if (claims) {
    const email = typeof claims.email === 'string' ? claims.email : undefined;
    const sub = typeof claims.sub === 'string' ? claims.sub : undefined;
    const id = email ?? sub;
    const candidate = id ? `web:${id}` : null;
    if (candidate && approverIdSchema.safeParse(candidate).success) return candidate;
  }
  const approver = auth?.lambda?.approver;
  if (typeof approver === 'string' && approverIdSchema.safeParse(approver).success) {
    return approver;
  }
  return null;
}

/** Reads an HTTP API v2 event into an {@link HttpRequest}. */
export function httpRequestOf(event: HttpApiEvent): HttpRequest {
  const headers = Object.fromEntries(
    Object.entries(defined(event.headers)).map(([k, v]) => [k.toLowerCase(), v]),
  );
  const body = event.body ?? '';
  return {
    method: event.requestContext.http.method.toUpperCase(),
    path: event.rawPath ?? event.requestContext.http.path ?? '/',
    headers,
    query: defined(event.queryStringParameters),
    pathParameters: defined(event.pathParameters),
    rawBody: event.isBase64Encoded ? Buffer.from(body, 'base64').toString('utf8') : body,
    identity: identityOf(event),
  };
}

/** A parsed form, or why it was refused. */
export type ParsedForm =
  | { readonly ok: true; readonly fields: Record<string, string> }
  | {
      readonly ok: false;
      /** `too-large`: over `maxBytes`; `duplicate-field`: a name given more than once. */
      readonly reason: 'too-large' | 'duplicate-field';
      /** The repeated field name (`duplicate-field`), else null. */
      readonly field: string | null;
    };

/**
 * The fields of an `application/x-www-form-urlencoded` body. A name given twice (e.g.
 * `decision=reject&decision=approve`) is refused, never resolved to one of its values: which
 * value a client or proxy meant is ambiguous.
 */
export function parseForm(rawBody: string, maxBytes = 8 * 1024): ParsedForm {
  if (Buffer.byteLength(rawBody, 'utf8') > maxBytes) {
    return { ok: false, reason: 'too-large', field: null };
  }
  const fields: Record<string, string> = {};
  for (const [k, v] of new URLSearchParams(rawBody)) {
    if (Object.hasOwn(fields, k)) return { ok: false, reason: 'duplicate-field', field: k };
    fields[k] = v;
  }
  return { ok: true, fields };
}

/** A JSON response. */
export function jsonResponse(statusCode: number, body: unknown): HttpResponse {
  return {
    statusCode,
    headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' },
    body: JSON.stringify(body),
  };
}
