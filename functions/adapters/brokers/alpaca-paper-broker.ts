/**
 * {@link BrokerPort} `alpaca-paper`: the Alpaca Trading API v2 over HTTPS with the global
 * `fetch`, PAPER ONLY (the constructor refuses the live endpoint).
 *
 * Contract used (Alpaca docs, Trading API reference, https://docs.alpaca.markets/reference):
 * - `POST /v2/orders` with a JSON body `{symbol, qty (string), side, type, time_in_force,
 *   client_order_id, limit_price?}` → 200 and the order object (numbers as strings);
 *   422 `{"code":40010001,"message":"client_order_id must be unique"}` for a used id;
 *   403 `{"code":40310000,"message":"insufficient buying power"}`; other 422 for invalid orders;
 * - `GET /v2/orders:by_client_order_id?client_order_id=` → the order, 404 when unknown;
 * - `DELETE /v2/orders/{order_id}` → 204, 422 when the order is no longer cancelable;
 * - `GET /v2/orders?status=open`, `GET /v2/positions`, `GET /v2/account`;
 * - auth headers `APCA-API-KEY-ID` / `APCA-API-SECRET-KEY`; 401 for bad keys;
 * - 200 requests per minute per key; beyond it 429 with `X-RateLimit-Limit`,
 *   `X-RateLimit-Remaining`, `X-RateLimit-Reset` (epoch seconds).
 *
 * Resilience:
 * - every request first takes a token from the rate limiter shared by all instances using the
 *   same key in this process (`rate-limiter.ts`, 200/min);
 * - 429: waits as the server says (`Retry-After` seconds or date, else `X-RateLimit-Reset`
 *   epoch seconds, else the backoff), blocks the shared bucket until then, and retries (at
 *   most `maxRateLimitRetries` times per call); a 429 means the request was not processed, so
 *   a POST is simply re-sent;
 * - 5xx, network faults and timeouts (`AbortSignal.timeout`) are ambiguous: retried up to
 *   `maxAttempts` with full-jitter exponential backoff, `random() × min(maxMs, baseMs × 2^n)`
 *   (AWS Architecture Blog, "Exponential Backoff And Jitter", 2015); before re-sending a POST
 *   the order is looked up by client_order_id, and returned if it exists (never a second
 *   order);
 * - after the bounded retries: `BrokerUnavailableError` (a TransientError).
 *
 * The key id and secret are kept in a private field, sent only as headers, never logged and
 * never part of an error message (any echo of them in a server message is redacted).
 */

import * as z from 'zod';
import {
  BrokerAuthError,
  BrokerRejectedError,
  BrokerUnavailableError,
  NotFoundError,
  parseOrThrow,
  ValidationError,
} from '../../core/errors.js';
import {
  isTerminalOrderStatus,
  type OrderStatus,
  type TimeInForce,
} from '../../core/orders/order.js';
import type {
  BrokerAccount,
  BrokerOrder,
  BrokerOrderRequest,
  BrokerPort,
  BrokerPosition,
} from '../../ports/broker.js';
import { type Clock, systemClock } from '../../ports/clock.js';
import { realSleep, type Sleep, sharedRateLimiter, type TokenBucket } from './rate-limiter.js';

/** The paper trading endpoint (the default). */
export const ALPACA_PAPER_BASE_URL = 'https://paper-api.alpaca.markets';
/** The live trading host, always refused. */
const LIVE_HOST = 'api.alpaca.markets';
const PAPER_HOST = 'paper-api.alpaca.markets';
const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** Options of {@link AlpacaPaperBroker}. */
export interface AlpacaPaperBrokerOptions {
  /** API key id (header `APCA-API-KEY-ID`). */
  readonly keyId: string;
  /** API secret key (header `APCA-API-SECRET-KEY`). */
  readonly secretKey: string;
  /**
   * `https://paper-api.alpaca.markets`, or a loopback URL (`http://127.0.0.1:<port>`) for a
   * local fake server. @default ALPACA_PAPER_BASE_URL
   */
  readonly baseUrl?: string;
  /** Per-request timeout, ms (headers and body). @default 10_000 */
  readonly timeoutMs?: number;
  /** Attempts per call against 5xx / network faults / timeouts. @default 4 */
  readonly maxAttempts?: number;
  /** 429 answers tolerated per call before giving up. @default 5 */
  readonly maxRateLimitRetries?: number;
  /** Backoff base, ms. @default 200 */
  readonly backoffBaseMs?: number;
  /** Backoff cap, ms. @default 5_000 */
  readonly backoffMaxMs?: number;
  /** Longest wait honoured after a 429, ms. @default 60_000 */
  readonly maxRateLimitWaitMs?: number;
  /** Time source (for `X-RateLimit-Reset`). @default the wall clock */
  readonly clock?: Clock;
  /** How to wait (backoff, 429). @default setTimeout */
  readonly sleep?: Sleep;
  /** Uniform [0, 1) for the backoff jitter. @default Math.random */
  readonly random?: () => number;
  /** HTTP client. @default globalThis.fetch */
  readonly fetch?: typeof fetch;
  /**
   * Rate limiter. @default the process-wide bucket of `keyId` (200 requests/minute), created
   * with this instance's clock and sleep if it does not exist yet.
   */
  readonly rateLimiter?: TokenBucket;
}

/** A response read to the end. */
interface HttpResult {
  readonly status: number;
  readonly text: string;
  readonly headers: Headers;
}

/** An attempt whose outcome is unknown (5xx, network fault, timeout); internal, never thrown out. */
class AmbiguousFailure extends Error {}

const num = z
  .union([z.string(), z.number()])
  .transform(Number)
  .refine(Number.isFinite, 'must be a finite number');

const AlpacaOrderSchema = z.object({
  id: z.string(),
  client_order_id: z.string(),
  symbol: z.string(),
  side: z.enum(['buy', 'sell']),
  type: z.string().optional(),
  order_type: z.string().optional(),
  qty: num.nullish(),
  filled_qty: num,
  filled_avg_price: num.nullish(),
  status: z.string(),
  created_at: z.string(),
  submitted_at: z.string().nullish(),
  updated_at: z.string().nullish(),
  commission: num.nullish(),
  time_in_force: z.string().nullish(),
});

const AlpacaPositionSchema = z.object({
  symbol: z.string(),
  qty: num,
  side: z.string().optional(),
  avg_entry_price: num,
  current_price: num.optional(),
});

const AlpacaAccountSchema = z.object({
  cash: num,
  buying_power: num,
  equity: num,
  long_market_value: num.optional(),
  short_market_value: num.optional(),
  daytrade_count: z.number().int().min(0).optional(),
});

const ErrorBodySchema = z.object({ code: z.number().optional(), message: z.string().optional() });

function parseBody<T>(schema: z.ZodType<T>, text: string, what: string): T {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new ValidationError(`alpaca.${what}`, 'response is not JSON');
  }
  return parseOrThrow(schema, json, `alpaca.${what}`);
}

/**
 * Alpaca order status → port status. Alpaca's extra statuses: `done_for_day`, `stopped`,
 * `suspended` → still working (`partially_filled` if anything filled, else `new`);
 * `accepted_for_bidding`, `held` → `accepted`; `calculated` → `filled` when fully filled,
 * else `partially_filled`.
 */
function mapStatus(status: string, filledQty: number, qty: number): OrderStatus {
  switch (status) {
    case 'pending_new':
    case 'accepted':
    case 'new':
    case 'partially_filled':
    case 'filled':
    case 'canceled':
    case 'expired':
    case 'rejected':
    case 'replaced':
    case 'pending_cancel':
    case 'pending_replace':
      return status;
    case 'accepted_for_bidding':
    case 'held':
      return 'accepted';
    case 'calculated':
      return filledQty >= qty ? 'filled' : 'partially_filled';
    case 'done_for_day':
    case 'stopped':
    case 'suspended':
      return filledQty > 0 ? 'partially_filled' : 'new';
    default:
      throw new ValidationError('alpaca.order.status', `unknown order status "${status}"`);
  }
}

/**
 * Maps an Alpaca order object (numbers as strings) to a {@link BrokerOrder}.
 *
 * @throws ValidationError('alpaca.order...') for a shape the port cannot express (an order
 *   type other than market/limit, a notional order without qty, an unknown status).
 */
export function mapAlpacaOrder(json: unknown): BrokerOrder {
  const o = parseOrThrow(AlpacaOrderSchema, json, 'alpaca.order');
  const type = o.type ?? o.order_type;
  if (type !== 'market' && type !== 'limit') {
    throw new ValidationError('alpaca.order.type', `unsupported order type "${String(type)}"`);
  }
  if (o.qty === null || o.qty === undefined) {
    throw new ValidationError('alpaca.order.qty', 'notional orders are not supported');
  }
  const isoOf = (value: string) => new Date(value).toISOString();
  const submitted = o.submitted_at ?? o.created_at;
  return {
    brokerOrderId: o.id,
    clientOrderId: o.client_order_id,
    symbol: o.symbol,
    side: o.side,
    type,
    qty: o.qty,
    filledQty: o.filled_qty,
    filledAvgPriceUsd: o.filled_avg_price ?? null,
    status: mapStatus(o.status, o.filled_qty, o.qty),
    submittedAtIso: isoOf(submitted),
    updatedAtIso: isoOf(o.updated_at ?? submitted),
    ...timeInForceOf(o.time_in_force),
    feesUsd: o.commission ?? 0,
  };
}

const TIME_IN_FORCE: readonly TimeInForce[] = ['day', 'gtc', 'opg', 'cls', 'ioc', 'fok'];

/** Alpaca's `time_in_force` when it is one the port knows; nothing otherwise (never a failed read). */
function timeInForceOf(value: string | null | undefined): { timeInForce?: TimeInForce } {
  const known = TIME_IN_FORCE.find((t) => t === value);
  return known ? { timeInForce: known } : {};
}

/**
 * A number as Alpaca's decimal string: plain notation (never `1e-7`), at most 9 decimals
 * (Alpaca accepts up to 9 for quantities).
 */
export function decimalString(value: number): string {
  const plain = String(value);
  if (!/e/i.test(plain)) return plain;
  return value.toFixed(9).replace(/\.?0+$/, '');
}

/**
 * Validates the base URL: paper endpoint over HTTPS, or a loopback test server.
 *
 * @throws ValidationError('baseUrl') for the live endpoint, any other host, credentials in the
 *   URL, or a path.
 */
function checkBaseUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ValidationError('baseUrl', 'is not a valid URL');
  }
  if (url.hostname === LIVE_HOST) {
    throw new ValidationError(
      'baseUrl',
      `refusing the live trading endpoint https://${LIVE_HOST}: this adapter trades paper only`,
    );
  }
  if (url.username || url.password) {
    throw new ValidationError('baseUrl', 'must not carry credentials');
  }
  const paper = url.hostname === PAPER_HOST && url.protocol === 'https:';
  const loopback =
    LOOPBACK_HOSTS.has(url.hostname) && (url.protocol === 'http:' || url.protocol === 'https:');
  if (!paper && !loopback) {
    throw new ValidationError(
      'baseUrl',
      `must be ${ALPACA_PAPER_BASE_URL} or a loopback test server, got host ${url.hostname}`,
    );
  }
  if (url.pathname !== '/' || url.search || url.hash) {
    throw new ValidationError('baseUrl', 'must have no path, query or fragment');
  }
  return url.origin;
}

/**
 * Alpaca paper trading behind the {@link BrokerPort} (see the module comment for the contract,
 * the retries and the rate limit).
 *
 * Errors: `BrokerRejectedError(clientOrderId, reason, httpStatus)` for 403 (insufficient
 * buying power) and 422 (invalid order) on submit, never retried; `BrokerAuthError` for 401
 * (and 403 on non-order endpoints); `BrokerUnavailableError` after the bounded retries of
 * 5xx / network faults / timeouts / 429, and for unexpected answers to reads;
 * `NotFoundError('order', id)` when cancelling an unknown id; `ValidationError('alpaca....')`
 * for a response the port cannot represent.
 */
export class AlpacaPaperBroker implements BrokerPort {
  readonly name = 'alpaca-paper' as const;
  readonly baseUrl: string;
  readonly #headers: Readonly<Record<string, string>>;
  readonly #secrets: readonly string[];
  private readonly timeoutMs: number;
  private readonly maxAttempts: number;
  private readonly maxRateLimitRetries: number;
  private readonly backoffBaseMs: number;
  private readonly backoffMaxMs: number;
  private readonly maxRateLimitWaitMs: number;
  private readonly clock: Clock;
  private readonly sleep: Sleep;
  private readonly random: () => number;
  private readonly fetchFn: typeof fetch;
  private readonly limiter: TokenBucket;

  /**
   * @throws ValidationError('baseUrl') for the live endpoint (`https://api.alpaca.markets`) or
   *   any host other than the paper endpoint or loopback; ValidationError('keyId' |
   *   'secretKey') when empty (the values are never echoed).
   */
  constructor(options: AlpacaPaperBrokerOptions) {
    this.baseUrl = checkBaseUrl(options.baseUrl ?? ALPACA_PAPER_BASE_URL);
    if (typeof options.keyId !== 'string' || options.keyId.trim() === '') {
      throw new ValidationError('keyId', 'must be a non-empty API key id');
    }
    if (typeof options.secretKey !== 'string' || options.secretKey.trim() === '') {
      throw new ValidationError('secretKey', 'must be a non-empty API secret');
    }
    this.#headers = {
      'APCA-API-KEY-ID': options.keyId,
      'APCA-API-SECRET-KEY': options.secretKey,
      Accept: 'application/json',
    };
    this.#secrets = [options.keyId, options.secretKey];
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.maxAttempts = Math.max(1, options.maxAttempts ?? 4);
    this.maxRateLimitRetries = Math.max(0, options.maxRateLimitRetries ?? 5);
    this.backoffBaseMs = options.backoffBaseMs ?? 200;
    this.backoffMaxMs = options.backoffMaxMs ?? 5_000;
    this.maxRateLimitWaitMs = options.maxRateLimitWaitMs ?? 60_000;
    this.clock = options.clock ?? systemClock;
    this.sleep = options.sleep ?? realSleep;
    this.random = options.random ?? Math.random;
    this.fetchFn = options.fetch ?? globalThis.fetch;
    this.limiter =
      options.rateLimiter ??
      sharedRateLimiter(options.keyId, { clock: this.clock, sleep: this.sleep });
  }

  /**
   * `POST /v2/orders`. A 422 duplicate answer (or an order found by client_order_id after an
   * ambiguous failure) returns the existing order; `duplicate` is true only for the 422 case.
   *
   * @throws BrokerRejectedError 403 / 422 (not retried); BrokerAuthError 401;
   *   BrokerUnavailableError after the bounded retries.
   */
  async submitOrder(
    request: BrokerOrderRequest,
  ): Promise<{ order: BrokerOrder; duplicate: boolean }> {
    const id = request.clientOrderId;
    const body = JSON.stringify({
      symbol: request.symbol,
      qty: decimalString(request.qty),
      side: request.side,
      type: request.type,
      time_in_force: request.timeInForce,
      client_order_id: id,
      ...(request.type === 'limit' && request.limitPriceUsd !== undefined
        ? { limit_price: decimalString(request.limitPriceUsd) }
        : {}),
    });
    let ambiguous = false;
    let last: AmbiguousFailure | undefined;
    for (let attempt = 1; attempt <= this.maxAttempts; attempt++) {
      if (attempt > 1) await this.sleep(this.backoffMs(attempt - 1));
      try {
        if (ambiguous) {
          const existing = await this.lookupOnce(id);
          if (existing) return { order: existing, duplicate: false };
        }
        const res = await this.send('POST', '/v2/orders', body);
        if (res.status === 200 || res.status === 201) {
          return { order: this.parseOrder(res.text), duplicate: false };
        }
        if (res.status === 422 && /client[\s_-]?order[\s_-]?id must be unique/i.test(res.text)) {
          const existing = await this.getOrderByClientOrderId(id);
          if (existing) return { order: existing, duplicate: true };
          throw new BrokerUnavailableError(
            `alpaca: order ${id} reported as duplicate but not found by client_order_id`,
          );
        }
        throw this.orderError(res, id);
      } catch (err) {
        if (!(err instanceof AmbiguousFailure)) throw err;
        ambiguous = true;
        last = err;
      }
    }
    throw new BrokerUnavailableError(
      `alpaca: POST /v2/orders (${id}) failed after ${this.maxAttempts} attempts: ${last?.message}`,
      { cause: last },
    );
  }

  async getOrderByClientOrderId(clientOrderId: string): Promise<BrokerOrder | null> {
    const res = await this.call('GET', this.byClientIdPath(clientOrderId));
    if (res.status === 404) return null;
    this.expectOk(res, 'GET /v2/orders:by_client_order_id');
    return this.parseOrder(res.text);
  }

  /**
   * Looks the order up by client_order_id, `DELETE /v2/orders/{id}` unless it is terminal,
   * and returns the order as Alpaca reports it afterwards (`pending_cancel` or `canceled`; or
   * `filled` when the fill won the race, Alpaca's 422).
   *
   * @throws NotFoundError('order', clientOrderId) when Alpaca does not know the id.
   */
  async cancelOrder(clientOrderId: string): Promise<BrokerOrder> {
    const order = await this.getOrderByClientOrderId(clientOrderId);
    if (!order) throw new NotFoundError('order', clientOrderId);
    if (isTerminalOrderStatus(order.status)) return order;
    const res = await this.call('DELETE', `/v2/orders/${encodeURIComponent(order.brokerOrderId)}`);
    if (res.status === 404) throw new NotFoundError('order', clientOrderId);
    if (res.status !== 422) this.expectOk(res, 'DELETE /v2/orders/{id}');
    return (await this.getOrderByClientOrderId(clientOrderId)) ?? order;
  }

  async listOpenOrders(): Promise<readonly BrokerOrder[]> {
    const res = await this.call('GET', '/v2/orders?status=open&limit=500&direction=asc');
    this.expectOk(res, 'GET /v2/orders');
    return parseBody(z.array(z.unknown()), res.text, 'orders').map(mapAlpacaOrder);
  }

  async listPositions(): Promise<readonly BrokerPosition[]> {
    const res = await this.call('GET', '/v2/positions');
    this.expectOk(res, 'GET /v2/positions');
    return parseBody(z.array(AlpacaPositionSchema), res.text, 'positions').map((p) => ({
      symbol: p.symbol,
      qty: p.side === 'short' && p.qty > 0 ? -p.qty : p.qty,
      avgEntryPriceUsd: p.avg_entry_price,
      ...(p.current_price !== undefined && p.current_price > 0
        ? { marketPriceUsd: p.current_price }
        : {}),
    }));
  }

  async getAccount(): Promise<BrokerAccount> {
    const res = await this.call('GET', '/v2/account');
    this.expectOk(res, 'GET /v2/account');
    const a = parseBody(AlpacaAccountSchema, res.text, 'account');
    return {
      cashUsd: a.cash,
      buyingPowerUsd: a.buying_power,
      equityUsd: a.equity,
      ...(a.long_market_value !== undefined || a.short_market_value !== undefined
        ? {
            grossExposureUsd:
              Math.abs(a.long_market_value ?? 0) + Math.abs(a.short_market_value ?? 0),
          }
        : {}),
      ...(a.daytrade_count !== undefined ? { dayTradeCount: a.daytrade_count } : {}),
    };
  }

  // ---- HTTP -----------------------------------------------------------------------------

  private byClientIdPath(clientOrderId: string): string {
    return `/v2/orders:by_client_order_id?client_order_id=${encodeURIComponent(clientOrderId)}`;
  }

  /** One lookup attempt by client_order_id (ambiguous failures propagate to the caller). */
  private async lookupOnce(clientOrderId: string): Promise<BrokerOrder | null> {
    const res = await this.send('GET', this.byClientIdPath(clientOrderId));
    if (res.status === 404) return null;
    this.expectOk(res, 'GET /v2/orders:by_client_order_id');
    return this.parseOrder(res.text);
  }

  /** An idempotent request with bounded retries of ambiguous failures. */
  private async call(method: 'GET' | 'DELETE', path: string): Promise<HttpResult> {
    let last: AmbiguousFailure | undefined;
    for (let attempt = 1; attempt <= this.maxAttempts; attempt++) {
      if (attempt > 1) await this.sleep(this.backoffMs(attempt - 1));
      try {
        return await this.send(method, path);
      } catch (err) {
        if (!(err instanceof AmbiguousFailure)) throw err;
        last = err;
      }
    }
    throw new BrokerUnavailableError(
      `alpaca: ${method} ${path.split('?')[0]} failed after ${this.maxAttempts} attempts: ${last?.message}`,
      { cause: last },
    );
  }

  /**
   * One request (after a rate-limiter token), re-sent after each 429 as the server says.
   *
   * @throws AmbiguousFailure on a 5xx, a network fault or a timeout.
   * @throws BrokerAuthError on 401; BrokerUnavailableError after too many 429s.
   */
  private async send(method: string, path: string, body?: string): Promise<HttpResult> {
    const where = `${method} ${path.split('?')[0]}`;
    for (let limited = 0; ; limited++) {
      await this.limiter.acquire();
      let res: Response;
      let text: string;
      try {
        res = await this.fetchFn(`${this.baseUrl}${path}`, {
          method,
          headers:
            body === undefined
              ? this.#headers
              : { ...this.#headers, 'Content-Type': 'application/json' },
          ...(body === undefined ? {} : { body }),
          signal: AbortSignal.timeout(this.timeoutMs),
        });
        text = await res.text();
      } catch (err) {
        // Only the error's name / code go into the message (never the request or its headers).
        const e = err as { name?: string; cause?: { code?: unknown } };
        const code = typeof e?.cause?.code === 'string' ? ` (${e.cause.code})` : '';
        const what =
          e?.name === 'TimeoutError'
            ? `timed out after ${this.timeoutMs} ms`
            : `network error${code}`;
        throw new AmbiguousFailure(`${where}: ${what}`);
      }
      if (res.status === 429) {
        if (limited >= this.maxRateLimitRetries) {
          throw new BrokerUnavailableError(
            `alpaca: ${where} still rate limited (429) after ${limited} retries`,
          );
        }
        const waitMs = this.rateLimitWaitMs(res.headers, limited + 1);
        this.limiter.blockUntil(this.clock.now() + waitMs);
        await this.sleep(waitMs);
        continue;
      }
      if (res.status >= 500) {
        throw new AmbiguousFailure(`${where}: HTTP ${res.status} ${this.messageOf(text)}`.trim());
      }
      if (res.status === 401) {
        throw new BrokerAuthError(
          `alpaca: ${where}: request not authorized (401); check the API keys`,
        );
      }
      return { status: res.status, text, headers: res.headers };
    }
  }

  /**
   * How long to wait after a 429, ms: `Retry-After` (seconds or HTTP date), else
   * `X-RateLimit-Reset` (epoch seconds) − now, else the backoff; within [0, maxRateLimitWaitMs].
   */
  private rateLimitWaitMs(headers: Headers, retry: number): number {
    const now = this.clock.now();
    let wait: number | null = null;
    const retryAfter = headers.get('retry-after');
    if (retryAfter !== null) {
      const seconds = Number(retryAfter);
      if (retryAfter.trim() !== '' && Number.isFinite(seconds)) wait = seconds * 1000;
      else {
        const at = Date.parse(retryAfter);
        if (Number.isFinite(at)) wait = at - now;
      }
    }
    if (wait === null) {
      const reset = Number(headers.get('x-ratelimit-reset') ?? Number.NaN);
      if (Number.isFinite(reset) && reset > 0) wait = reset * 1000 - now;
    }
    if (wait === null) wait = this.backoffMs(retry);
    return Math.min(this.maxRateLimitWaitMs, Math.max(0, Math.ceil(wait)));
  }

  /** Full-jitter exponential backoff for retry `n` (1-based), ms. */
  private backoffMs(n: number): number {
    const ceiling = Math.min(this.backoffMaxMs, this.backoffBaseMs * 2 ** (n - 1));
    return Math.floor(this.random() * ceiling);
  }

  private parseOrder(text: string): BrokerOrder {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new ValidationError('alpaca.order', 'response is not JSON');
    }
    return mapAlpacaOrder(json);
  }

  /** Alpaca's error `message` (redacted), or a short excerpt of the body. */
  private messageOf(text: string): string {
    let message = text.slice(0, 200);
    try {
      const parsed = ErrorBodySchema.safeParse(JSON.parse(text));
      if (parsed.success && parsed.data.message) message = parsed.data.message;
    } catch {
      // not JSON: keep the excerpt
    }
    return this.redact(message);
  }

  private redact(text: string): string {
    let out = text;
    for (const secret of this.#secrets) out = out.split(secret).join('[redacted]');
    return out;
  }

  /** The named error of a refused order submission. */
  private orderError(res: HttpResult, clientOrderId: string): Error {
    const message = this.messageOf(res.text) || `HTTP ${res.status}`;
    return new BrokerRejectedError(clientOrderId, message, res.status);
  }

  /** Throws unless 200/204: 403 → BrokerAuthError, anything else → BrokerUnavailableError. */
  private expectOk(res: HttpResult, where: string): void {
    if (res.status === 200 || res.status === 204) return;
    const message = this.messageOf(res.text);
    if (res.status === 403) {
      throw new BrokerAuthError(`alpaca: ${where}: forbidden (403): ${message}`);
    }
    throw new BrokerUnavailableError(`alpaca: ${where}: unexpected HTTP ${res.status}: ${message}`);
  }
}
