/**
 * A local fake of the Alpaca paper Trading API v2 (node:http on 127.0.0.1, a free port), for
 * the broker adapter's integration tests. It implements the part of the documented contract
 * the adapter uses, and records every request for assertions:
 *
 * - auth: `APCA-API-KEY-ID` / `APCA-API-SECRET-KEY` must match, else 401
 *   `{"code":40110000,"message":"request is not authorized"}`;
 * - rate limit per key (fixed window, default 200 per 60 s): every answer carries
 *   `X-RateLimit-Limit`, `X-RateLimit-Remaining`, `X-RateLimit-Reset` (epoch seconds); beyond
 *   the limit 429 `{"code":42910000,"message":"rate limit exceeded"}`;
 * - `POST /v2/orders`: 422 `{"code":40010001,"message":"client_order_id must be unique"}` for
 *   a used id, 422 for an invalid body, 422 `{"code":42210000,"message":"invalid crypto
 *   time_in_force"}` for a crypto order (a `cryptoSymbols` symbol, or `BASE/QUOTE`) whose
 *   `time_in_force` is not `gtc` or `ioc` (Alpaca docs, "Crypto Orders",
 *   https://docs.alpaca.markets/docs/crypto-orders; the answer as Alpaca gives it, quoted in
 *   github.com/d-e-s-o/apca/issues/27 and alpacahq/alpaca-py#681), 403 `{"code":40310000,"message":"insufficient buying
 *   power"}` when a buy's notional (qty × limit or the symbol's price) exceeds the buying
 *   power left; otherwise 200 with the order in status `accepted`;
 * - order status schedule: each GET that returns an order moves it one step along
 *   `statusSchedule` (default `new`, then `filled`: filled on the second GET), booking the
 *   fill on cash and positions; a `partially_filled` step fills `partialFillFraction` of the
 *   order's quantity (cumulative), a `rejected` step rejects it;
 * - `GET /v2/account` reports `long_market_value`, `short_market_value` and
 *   `daytrade_count`: the `dayTradeCount` option plus one per order that reduced a position
 *   (every position of the fake is opened the same day, so closing it is a day trade);
 * - `GET /v2/orders:by_client_order_id` (404 `{"code":40410000,"message":"order not found"}`),
 *   `GET /v2/orders?status=open`, `GET /v2/orders/{id}`, `DELETE /v2/orders/{id}` (204; 422
 *   when no longer cancelable), `GET /v2/positions`, `GET /v2/account`;
 * - fault injection ({@link FakeAlpaca.inject}): queued answers for matching requests, e.g.
 *   500s, 429s with chosen headers, delays (a timeout), with or without processing the request.
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** One recorded request. Header names are lower-case. */
export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly query: Readonly<Record<string, string>>;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: unknown;
  /** Status the fake answered (0 if the client went away first). */
  status: number;
}

/** A queued fault for the next request matching `method` and `path` prefix. */
export interface Fault {
  readonly method: string;
  /** Path prefix, e.g. `/v2/orders`. */
  readonly path: string;
  /** Status to answer instead of the normal one (500, 503, 429, ...). */
  readonly status?: number;
  /** Extra response headers (e.g. `Retry-After`, `X-RateLimit-Reset`). */
  readonly headers?: Readonly<Record<string, string>>;
  /** Body to answer with `status`. @default an Alpaca-like JSON error */
  readonly body?: string;
  /** Process the request normally first (the order IS created), then answer the fault. */
  readonly afterProcessing?: boolean;
  /** Wait this long before answering, ms (longer than the client timeout = a timeout). */
  readonly delayMs?: number;
}

/** Options of {@link startFakeAlpaca}. */
export interface FakeAlpacaOptions {
  readonly keyId: string;
  readonly secretKey: string;
  /** Starting cash (= buying power), USD. @default 100,000 */
  readonly cashUsd?: number;
  /** Price per symbol, USD. @default 100 for any symbol */
  readonly prices?: Readonly<Record<string, number>>;
  /** Price of a symbol now, USD (wins over `prices`; e.g. the current bar of real data). */
  readonly priceOf?: (symbol: string) => number;
  /** Share of the order's quantity each `partially_filled` step fills (cumulative). @default 0.5 */
  readonly partialFillFraction?: number;
  /** Day trades the account had before the fake started (`daytrade_count`). @default 0 */
  readonly dayTradeCount?: number;
  /** Status after the 1st, 2nd, ... GET of an order (the last one sticks). @default new, filled */
  readonly statusSchedule?: readonly string[];
  /** Requests per window per key. @default 200 per 60,000 ms */
  readonly rateLimit?: { readonly limit: number; readonly windowMs: number };
  /** Server clock, epoch ms. @default Date.now */
  readonly now?: () => number;
  /** Symbols traded as crypto (besides any `BASE/QUOTE`). @default BTCUSD, ETHUSD */
  readonly cryptoSymbols?: readonly string[];
}

interface FakeOrder {
  id: string;
  clientOrderId: string;
  symbol: string;
  side: 'buy' | 'sell';
  type: string;
  timeInForce: string;
  qty: number;
  limitPrice: number | null;
  status: string;
  filledQty: number;
  filledAvgPrice: number | null;
  reads: number;
  /** True once the order reduced a position (counted as a day trade). */
  dayTrade: boolean;
  createdAt: string;
  updatedAt: string;
  filledAt: string | null;
  canceledAt: string | null;
}

const OPEN = new Set(['accepted', 'pending_new', 'new', 'partially_filled', 'pending_cancel']);

/** A running fake Alpaca server. */
export interface FakeAlpaca {
  /** `http://127.0.0.1:<port>`. */
  readonly url: string;
  /** Every request so far, in arrival order. */
  readonly requests: RecordedRequest[];
  /** Orders the fake holds (one per accepted client_order_id). */
  orders(): readonly FakeOrderView[];
  /** Queues faults; each is consumed by the first request it matches. */
  inject(...faults: Fault[]): void;
  /** Requests matching `method` and an exact path (query excluded). */
  count(method: string, path: string): number;
  /** Books a trade made outside the adapter (another client of the account), signed shares. */
  bookOutside(symbol: string, signedQty: number, priceUsd: number): void;
  close(): Promise<void>;
}

/** A read-only view of a fake order. */
export interface FakeOrderView {
  readonly id: string;
  readonly clientOrderId: string;
  readonly symbol: string;
  readonly qty: number;
  readonly status: string;
}

/** Starts the fake on 127.0.0.1 (free port). */
export async function startFakeAlpaca(options: FakeAlpacaOptions): Promise<FakeAlpaca> {
  const now = options.now ?? Date.now;
  const schedule = options.statusSchedule ?? ['new', 'filled'];
  const limit = options.rateLimit ?? { limit: 200, windowMs: 60_000 };
  const requests: RecordedRequest[] = [];
  const faults: Fault[] = [];
  const orders = new Map<string, FakeOrder>();
  const positions = new Map<string, { qty: number; avg: number }>();
  let cash = options.cashUsd ?? 100_000;
  let window = { startMs: now(), count: 0 };

  const price = (symbol: string) => options.priceOf?.(symbol) ?? options.prices?.[symbol] ?? 100;
  const cryptoSymbols = new Set(options.cryptoSymbols ?? ['BTCUSD', 'ETHUSD']);
  const isCrypto = (symbol: string) => symbol.includes('/') || cryptoSymbols.has(symbol);
  const partial = options.partialFillFraction ?? 0.5;
  let dayTrades = options.dayTradeCount ?? 0;
  const iso = () => new Date(now()).toISOString();

  const orderJson = (o: FakeOrder) => ({
    id: o.id,
    client_order_id: o.clientOrderId,
    created_at: o.createdAt,
    updated_at: o.updatedAt,
    submitted_at: o.createdAt,
    filled_at: o.filledAt,
    expired_at: null,
    canceled_at: o.canceledAt,
    failed_at: null,
    replaced_at: null,
    replaced_by: null,
    replaces: null,
    asset_id: `asset-${o.symbol}`,
    symbol: o.symbol,
    asset_class: isCrypto(o.symbol) ? 'crypto' : 'us_equity',
    notional: null,
    qty: String(o.qty),
    filled_qty: String(o.filledQty),
    filled_avg_price: o.filledAvgPrice === null ? null : String(o.filledAvgPrice),
    order_class: '',
    order_type: o.type,
    type: o.type,
    side: o.side,
    time_in_force: o.timeInForce,
    limit_price: o.limitPrice === null ? null : String(o.limitPrice),
    stop_price: null,
    status: o.status,
    extended_hours: false,
    legs: null,
    trail_percent: null,
    trail_price: null,
    hwm: null,
  });

  /** Moves an open order one step along the schedule (on a GET). */
  const advance = (o: FakeOrder) => {
    if (!OPEN.has(o.status) || o.status === 'pending_cancel') return;
    const next = schedule[Math.min(o.reads, schedule.length - 1)] as string;
    o.reads++;
    if (next === o.status) return;
    o.status = next;
    o.updatedAt = iso();
    const target =
      next === 'filled'
        ? o.qty
        : next === 'partially_filled'
          ? Math.min(o.qty, o.filledQty + Math.round(o.qty * partial * 1e9) / 1e9)
          : o.filledQty;
    const delta = target - o.filledQty;
    if (delta > 0) {
      const p = o.limitPrice ?? price(o.symbol);
      o.filledAvgPrice = ((o.filledAvgPrice ?? 0) * o.filledQty + p * delta) / target;
      o.filledQty = target;
      if (target === o.qty) {
        o.status = 'filled';
        o.filledAt = o.updatedAt;
      }
      const signed = o.side === 'buy' ? delta : -delta;
      const held = positions.get(o.symbol)?.qty ?? 0;
      if (!o.dayTrade && held !== 0 && Math.sign(held) !== Math.sign(signed)) {
        o.dayTrade = true;
        dayTrades++;
      }
      bookFill(o.symbol, signed, p);
    }
  };

  /** Books `signed` shares at `p` on cash and the position (average cost). */
  const bookFill = (symbol: string, signed: number, p: number) => {
    cash -= signed * p;
    const pos = positions.get(symbol) ?? { qty: 0, avg: 0 };
    const nq = pos.qty + signed;
    const avg =
      Math.abs(nq) < 1e-9
        ? 0
        : pos.qty === 0 || Math.sign(pos.qty) === Math.sign(signed)
          ? (pos.avg * Math.abs(pos.qty) + p * Math.abs(signed)) / Math.abs(nq)
          : Math.sign(nq) === Math.sign(pos.qty)
            ? pos.avg
            : p;
    positions.set(symbol, { qty: Math.abs(nq) < 1e-9 ? 0 : nq, avg });
  };

  const reservedBuys = () =>
    [...orders.values()]
      .filter((o) => OPEN.has(o.status) && o.side === 'buy')
      .reduce((sum, o) => sum + (o.qty - o.filledQty) * (o.limitPrice ?? price(o.symbol)), 0);

  type Answer = { status: number; body?: unknown; headers?: Record<string, string> };
  const error = (status: number, code: number, message: string): Answer => ({
    status,
    body: { code, message },
  });

  const handle = (method: string, url: URL, body: unknown): Answer => {
    const path = url.pathname;
    if (method === 'POST' && path === '/v2/orders') return submit(body);
    if (method === 'GET' && path === '/v2/orders:by_client_order_id') {
      const o = orders.get(url.searchParams.get('client_order_id') ?? '');
      if (!o) return error(404, 40410000, 'order not found');
      advance(o);
      return { status: 200, body: orderJson(o) };
    }
    if (method === 'GET' && path === '/v2/orders') {
      const status = url.searchParams.get('status') ?? 'open';
      const all = [...orders.values()];
      for (const o of all) advance(o);
      const listed = all.filter(
        (o) => status === 'all' || (status === 'open') === OPEN.has(o.status),
      );
      return { status: 200, body: listed.map(orderJson) };
    }
    const byId = /^\/v2\/orders\/([^/]+)$/.exec(path);
    if (byId) {
      const o = [...orders.values()].find((x) => x.id === decodeURIComponent(byId[1] as string));
      if (!o) return error(404, 40410000, 'order not found');
      if (method === 'GET') {
        advance(o);
        return { status: 200, body: orderJson(o) };
      }
      if (method === 'DELETE') {
        if (!OPEN.has(o.status)) return error(422, 42210000, 'order is not cancelable');
        o.status = 'canceled';
        o.canceledAt = iso();
        o.updatedAt = o.canceledAt;
        return { status: 204 };
      }
    }
    if (method === 'GET' && path === '/v2/positions') {
      return {
        status: 200,
        body: [...positions.entries()]
          .filter(([, p]) => p.qty !== 0)
          .map(([symbol, p]) => ({
            asset_id: `asset-${symbol}`,
            symbol,
            exchange: 'ARCA',
            asset_class: isCrypto(symbol) ? 'crypto' : 'us_equity',
            qty: String(p.qty),
            avg_entry_price: String(p.avg),
            side: p.qty > 0 ? 'long' : 'short',
            market_value: String(p.qty * price(symbol)),
            current_price: String(price(symbol)),
          })),
      };
    }
    if (method === 'GET' && path === '/v2/account') {
      const held = [...positions.entries()];
      const equity = cash + held.reduce((s, [sym, p]) => s + p.qty * price(sym), 0);
      const long = held.reduce((s, [sym, p]) => s + Math.max(0, p.qty) * price(sym), 0);
      const short = held.reduce((s, [sym, p]) => s + Math.min(0, p.qty) * price(sym), 0);
      return {
        status: 200,
        body: {
          id: 'fake-account',
          account_number: 'PAFAKE',
          status: 'ACTIVE',
          currency: 'USD',
          cash: String(cash),
          buying_power: String(Math.max(0, cash - reservedBuys())),
          equity: String(equity),
          long_market_value: String(long),
          short_market_value: String(short),
          daytrade_count: dayTrades,
          multiplier: '1',
        },
      };
    }
    return { status: 404, body: { message: 'Not Found' } };
  };

  const submit = (raw: unknown): Answer => {
    const b = (raw ?? {}) as Record<string, unknown>;
    const qty = Number(b.qty);
    if (typeof b.symbol !== 'string' || b.symbol === '')
      return error(422, 40010001, 'symbol is required');
    if (typeof b.qty !== 'string' || !(qty > 0)) return error(422, 40010001, 'qty must be > 0');
    if (b.side !== 'buy' && b.side !== 'sell') return error(422, 40010001, 'invalid side');
    if (b.type !== 'market' && b.type !== 'limit')
      return error(422, 40010001, 'invalid order type');
    if (typeof b.time_in_force !== 'string') return error(422, 40010001, 'invalid time_in_force');
    if (isCrypto(b.symbol) && b.time_in_force !== 'gtc' && b.time_in_force !== 'ioc') {
      return error(422, 42210000, 'invalid crypto time_in_force');
    }
    const limitPrice = b.limit_price === undefined ? null : Number(b.limit_price);
    if (b.type === 'limit' && !(limitPrice !== null && limitPrice > 0)) {
      return error(422, 40010001, 'limit_price is required for limit orders');
    }
    const clientOrderId = typeof b.client_order_id === 'string' ? b.client_order_id : randomUUID();
    if (clientOrderId.length > 48) {
      return error(422, 40010001, 'client_order_id must be no more than 48 characters');
    }
    if (orders.has(clientOrderId)) return error(422, 40010001, 'client_order_id must be unique');
    if (b.side === 'buy') {
      const notional = qty * (limitPrice ?? price(b.symbol));
      const buyingPower = cash - reservedBuys();
      if (notional > buyingPower) {
        return {
          status: 403,
          body: {
            code: 40310000,
            message: 'insufficient buying power',
            buying_power: String(buyingPower),
            cost_basis: String(notional),
          },
        };
      }
    }
    const at = iso();
    const o: FakeOrder = {
      id: randomUUID(),
      clientOrderId,
      symbol: b.symbol,
      side: b.side,
      type: b.type,
      timeInForce: b.time_in_force,
      qty,
      limitPrice,
      status: 'accepted',
      filledQty: 0,
      filledAvgPrice: null,
      reads: 0,
      dayTrade: false,
      createdAt: at,
      updatedAt: at,
      filledAt: null,
      canceledAt: null,
    };
    orders.set(clientOrderId, o);
    return { status: 200, body: orderJson(o) };
  };

  /** Counts the request against the key's window; the rate-limit headers to send. */
  const rateLimit = (): { limited: boolean; headers: Record<string, string> } => {
    const t = now();
    if (t - window.startMs >= limit.windowMs) window = { startMs: t, count: 0 };
    window.count++;
    const resetSec = Math.ceil((window.startMs + limit.windowMs) / 1000);
    return {
      limited: window.count > limit.limit,
      headers: {
        'X-RateLimit-Limit': String(limit.limit),
        'X-RateLimit-Remaining': String(Math.max(0, limit.limit - window.count)),
        'X-RateLimit-Reset': String(resetSec),
      },
    };
  };

  const takeFault = (method: string, path: string): Fault | undefined => {
    const i = faults.findIndex((f) => f.method === method && path.startsWith(f.path));
    return i < 0 ? undefined : faults.splice(i, 1)[0];
  };

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        const url = new URL(req.url ?? '/', 'http://127.0.0.1');
        const text = Buffer.concat(chunks).toString('utf8');
        let body: unknown = text === '' ? undefined : text;
        try {
          if (text) body = JSON.parse(text);
        } catch {
          // keep the raw text
        }
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(req.headers)) {
          if (typeof v === 'string') headers[k.toLowerCase()] = v;
        }
        const method = req.method ?? 'GET';
        const record: RecordedRequest = {
          method,
          path: url.pathname,
          query: Object.fromEntries(url.searchParams),
          headers,
          body,
          status: 0,
        };
        requests.push(record);
        const send = (answer: Answer, extra: Record<string, string> = {}) => {
          record.status = answer.status;
          if (res.destroyed || res.writableEnded) return;
          const payload = answer.body === undefined ? '' : JSON.stringify(answer.body);
          res.writeHead(answer.status, {
            ...(payload ? { 'Content-Type': 'application/json' } : {}),
            ...extra,
            ...answer.headers,
          });
          res.end(payload);
        };
        if (
          headers['apca-api-key-id'] !== options.keyId ||
          headers['apca-api-secret-key'] !== options.secretKey
        ) {
          send(error(401, 40110000, 'request is not authorized'));
          return;
        }
        const rl = rateLimit();
        const fault = takeFault(method, url.pathname);
        const processed = fault?.afterProcessing ? handle(method, url, body) : undefined;
        if (fault?.delayMs) await new Promise((r) => setTimeout(r, fault.delayMs));
        if (fault?.status !== undefined) {
          const faultBody =
            fault.body ??
            (fault.status === 429
              ? JSON.stringify({ code: 42910000, message: 'rate limit exceeded' })
              : JSON.stringify({ code: 50010000, message: 'internal server error' }));
          record.status = fault.status;
          if (res.destroyed) return;
          res.writeHead(fault.status, {
            'Content-Type': 'application/json',
            ...rl.headers,
            ...fault.headers,
          });
          res.end(faultBody);
          return;
        }
        if (rl.limited) {
          send(error(429, 42910000, 'rate limit exceeded'), rl.headers);
          return;
        }
        send(processed ?? handle(method, url, body), rl.headers);
      })();
    });
  });

  // In-process: ready once listening; a failed listen rejects instead of hanging.
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    orders: () =>
      [...orders.values()].map((o) => ({
        id: o.id,
        clientOrderId: o.clientOrderId,
        symbol: o.symbol,
        qty: o.qty,
        status: o.status,
      })),
    inject: (...more: Fault[]) => {
      faults.push(...more);
    },
    count: (method, path) => requests.filter((r) => r.method === method && r.path === path).length,
    bookOutside: (symbol, signedQty, priceUsd) => bookFill(symbol, signedQty, priceUsd),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
