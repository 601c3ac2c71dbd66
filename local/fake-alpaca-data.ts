/**
 * A local fake of the Alpaca Market Data API over a LEAN data tree (node:http on 127.0.0.1, a
 * free port): the contract tests of the Alpaca market-data adapter and
 * `stagegate run --market-data alpaca-fake` use it. It implements the documented responses
 * the adapter reads (see `functions/adapters/market-data/alpaca-market-data.ts`):
 *
 * - `GET /v2/stocks/{symbol}/bars` (`timeframe=1Min|1Day`, `start`, `end` inclusive, `limit`
 *   default 1,000 max 10,000, `page_token`, `feed`, `adjustment` raw|split|dividend|all for
 *   daily bars), `GET /v2/stocks/{symbol}/quotes`, `.../bars/latest`, `.../quotes/latest`;
 * - `GET /v1beta3/crypto/us/bars|quotes?symbols=BTC/USD`, `/v1beta3/crypto/us/latest/...`;
 * - auth headers `APCA-API-KEY-ID` / `APCA-API-SECRET-KEY`, else 401;
 * - a symbol with no data in the tree: 422 `{"code":42210000,"message":"invalid symbol: X"}`;
 *   a date without a session: 200 with no bars (`"bars": []`);
 * - fault injection ({@link FakeAlpacaData.inject}): the next matching requests answer a
 *   chosen status (429 with `X-RateLimit-Reset`, 500, 503, ...).
 *
 * Time: only data that exists at the clock's now is served: a minute bar whose minute has not
 * ended, a quote stamped later, or a daily bar of a session not yet closed is never returned
 * (a request for later bars gets none). LEAN has minute quote BARS, not every quote: the fake
 * serves one quote per minute of the quote file (minutes without a trade included), the
 * minute's closing bid/ask, stamped at second 59.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { FileSystemBlobSource } from '../functions/adapters/market-data/blob-source.js';
import {
  formatLeanDate,
  type MinuteTrades,
  parseIsoDate,
  parseMinuteQuotes,
  parseMinuteTrades,
  readLeanCsv,
  sessionWindow,
} from '../functions/adapters/market-data/lean-format.js';
import { LAYOUT, LeanMarketData } from '../functions/adapters/market-data/lean-market-data.js';
import { marketDate, sessionHours } from '../functions/core/calendar/market-calendar.js';
import {
  DataFileMissingError,
  NoDailyHistoryError,
  NoSessionError,
  UnknownSymbolError,
} from '../functions/core/errors.js';
import type { MarketSession } from '../functions/core/market/types.js';

/** A queued fault for the next `count` requests whose path starts with `path`. */
export interface DataFault {
  readonly path: string;
  readonly status: number;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
  /** @default 1 */
  count?: number;
}

/** One recorded request. */
export interface DataRequest {
  readonly path: string;
  readonly query: Readonly<Record<string, string>>;
  status: number;
  /** Rows (bars or quotes) in the answer. */
  rows: number;
  /** Latest row time served, epoch ms (bar start or quote time), or null. */
  latestMs: number | null;
  /** The simulated now when the request was served, epoch ms. */
  readonly nowMs: number;
}

export interface FakeAlpacaDataOptions {
  /** LEAN data root the fake serves. */
  readonly dataRoot: string;
  readonly keyId: string;
  readonly secretKey: string;
  /** The simulated now, epoch ms. @default the wall clock */
  readonly now?: () => number;
}

export interface FakeAlpacaData {
  readonly baseUrl: string;
  readonly requests: DataRequest[];
  inject(fault: DataFault): void;
  close(): Promise<void>;
}

const MINUTE_MS = 60_000;

interface Row {
  readonly t: number;
  readonly json: Record<string, unknown>;
}

/**
 * The symbol's minute trade bars of one session day: the LEAN session (trade and quote
 * files); when the day has a trade file but no quote file (BTCUSD on 2018-04-06), the trade
 * file alone, cut to the session's hours: bars exist without quotes, as at Alpaca. Null when
 * the day has no trade file.
 */
async function tradeBars(
  lean: LeanMarketData,
  files: FileSystemBlobSource,
  symbol: string,
  market: MarketSession['market'],
  date: string,
): Promise<Pick<MinuteTrades, 't' | 'open' | 'high' | 'low' | 'close' | 'volume'> | null> {
  try {
    const session = await lean.loadSession(date, [symbol]);
    const s = session.series[0];
    return s ? { t: Float64Array.from(session.timestamps), ...s } : null;
  } catch (err) {
    if (err instanceof NoSessionError) return null;
    if (!(err instanceof DataFileMissingError)) throw err;
  }
  const day = parseIsoDate(date);
  const relPath = `${LAYOUT[market].minute}/${symbol.toLowerCase()}/${formatLeanDate(day)}_trade.zip`;
  let bytes: Uint8Array;
  try {
    bytes = await files.read(relPath);
  } catch (err) {
    if (err instanceof DataFileMissingError) return null;
    throw err;
  }
  const hours = sessionHours(date, market);
  if (!hours) return null;
  const all = parseMinuteTrades(readLeanCsv(bytes, relPath), {
    relPath,
    date: day,
    market,
    window: sessionWindow(market),
  });
  const openMs = Date.parse(hours.openIso);
  const closeMs = Date.parse(hours.closeIso);
  const keep = [...all.t.keys()].filter((i) => {
    const t = all.t[i] as number;
    return t >= openMs && t < closeMs;
  });
  const pick = (a: Float64Array) => Float64Array.from(keep, (i) => a[i] as number);
  return {
    t: pick(all.t),
    open: pick(all.open),
    high: pick(all.high),
    low: pick(all.low),
    close: pick(all.close),
    volume: pick(all.volume),
  };
}

/** The LEAN tree the fake serves. */
interface DataStore {
  readonly lean: LeanMarketData;
  readonly files: FileSystemBlobSource;
}

/** A request the fake refuses with 400. */
class BadRequest extends Error {}

/** Rows of one symbol in [startMs, endMs], only those that exist at `nowMs`. */
async function minuteRows(
  store: DataStore,
  symbol: string,
  kind: 'bars' | 'quotes',
  startMs: number,
  endMs: number,
  nowMs: number,
): Promise<Row[]> {
  const market = await marketOfSymbol(store, symbol);
  const rows: Row[] = [];
  const lastMs = Math.min(endMs, nowMs);
  const dates = new Set<string>();
  for (let day = startMs - 86_400_000; day <= lastMs + 86_400_000; day += 86_400_000) {
    dates.add(marketDate(day, market));
  }
  for (const date of [...dates].sort()) {
    if (sessionHours(date, market) === null) continue;
    if (kind === 'quotes') {
      rows.push(...(await quoteRows(store, symbol, market, date, startMs, endMs, nowMs)));
      continue;
    }
    const bars = await tradeBars(store.lean, store.files, symbol, market, date);
    if (!bars) continue;
    for (let i = 0; i < bars.t.length; i++) {
      const t = bars.t[i] as number;
      if (t < startMs || t > endMs || t + MINUTE_MS > nowMs) continue;
      const c = bars.close[i] as number;
      if (Number.isNaN(c)) continue;
      rows.push({
        t,
        json: {
          t: new Date(t).toISOString(),
          o: bars.open[i],
          h: bars.high[i],
          l: bars.low[i],
          c,
          v: bars.volume[i],
          n: 1,
          vw: c,
        },
      });
    }
  }
  return rows;
}

/**
 * The symbol's quotes of one session day, read from its LEAN quote file itself (every
 * minute with a quote bar, with or without a trade), regular session only: one quote per
 * minute, the minute's closing bid/ask, stamped at second 59. No quote file: none.
 */
async function quoteRows(
  store: DataStore,
  symbol: string,
  market: MarketSession['market'],
  date: string,
  startMs: number,
  endMs: number,
  nowMs: number,
): Promise<Row[]> {
  const day = parseIsoDate(date);
  const relPath = `${LAYOUT[market].minute}/${symbol.toLowerCase()}/${formatLeanDate(day)}_quote.zip`;
  let bytes: Uint8Array;
  try {
    bytes = await store.files.read(relPath);
  } catch (err) {
    if (err instanceof DataFileMissingError) return [];
    throw err;
  }
  const q = parseMinuteQuotes(readLeanCsv(bytes, relPath), {
    relPath,
    date: day,
    market,
    window: sessionWindow(market),
  });
  const rows: Row[] = [];
  for (let i = 0; i < q.t.length; i++) {
    const qt = (q.t[i] as number) + 59_000;
    if (qt < startMs || qt > endMs || qt > nowMs) continue;
    const bp = q.bidClose[i] as number;
    const ap = q.askClose[i] as number;
    if (Number.isNaN(bp) && Number.isNaN(ap)) continue;
    rows.push({
      t: qt,
      json: {
        t: new Date(qt).toISOString(),
        bp: Number.isNaN(bp) ? 0 : bp,
        bs: q.bidSize[i],
        ap: Number.isNaN(ap) ? 0 : ap,
        as: q.askSize[i],
        bx: 'V',
        ax: 'V',
        c: ['R'],
        z: 'A',
      },
    });
  }
  return rows;
}

async function marketOfSymbol(store: DataStore, symbol: string): Promise<MarketSession['market']> {
  const market = await store.lean.symbolMarket(symbol);
  if (market === undefined) throw new UnknownSymbolError(symbol.toUpperCase(), []);
  return market;
}

async function dailyRows(
  store: DataStore,
  symbol: string,
  startMs: number,
  endMs: number,
  nowMs: number,
  adjustment: string,
): Promise<Row[]> {
  const market = await marketOfSymbol(store, symbol);
  const from = new Date(startMs).toISOString().slice(0, 10);
  const to = new Date(Math.min(endMs, nowMs)).toISOString().slice(0, 10);
  if (to < from) return [];
  let bars: readonly {
    date: string;
    open: number;
    high: number;
    low: number;
    close: number;
    volume: number;
  }[];
  try {
    bars =
      adjustment === 'raw' || market === 'crypto'
        ? await store.lean.loadDaily(symbol, from, to)
        : (
            await store.lean.loadDailyHistory(symbol, from, to, {
              dividends: adjustment !== 'split',
              splits: adjustment !== 'dividend',
            })
          ).bars;
  } catch (err) {
    if (err instanceof NoDailyHistoryError) return [];
    throw err;
  }
  const rows: Row[] = [];
  for (const b of bars) {
    const hours = sessionHours(b.date, market);
    // A daily bar exists once its session closed; stamped at midnight of the session date.
    if (hours === null || Date.parse(hours.closeIso) > nowMs) continue;
    const t =
      market === 'crypto'
        ? Date.parse(`${b.date}T00:00:00Z`)
        : Date.parse(hours.openIso) - 34_200_000;
    rows.push({
      t,
      json: {
        t: new Date(t).toISOString(),
        o: b.open,
        h: b.high,
        l: b.low,
        c: b.close,
        v: b.volume,
        n: 1,
        vw: b.close,
      },
    });
  }
  return rows;
}

function page(rows: Row[], q: URLSearchParams): { rows: Row[]; next: string | null } {
  const limit = q.has('limit') ? Number(q.get('limit')) : 1000;
  if (!(Number.isInteger(limit) && limit >= 1 && limit <= 10_000)) {
    throw new BadRequest('invalid limit: must be 1..10000');
  }
  const token = q.get('page_token');
  const offset = token ? Number(Buffer.from(token, 'base64url').toString('utf8')) : 0;
  if (!Number.isInteger(offset) || offset < 0) throw new BadRequest('invalid page_token');
  const slice = rows.slice(offset, offset + limit);
  const next =
    offset + limit < rows.length ? Buffer.from(String(offset + limit)).toString('base64url') : null;
  return { rows: slice, next };
}

async function series(
  store: DataStore,
  symbol: string,
  kind: 'bars' | 'quotes',
  q: URLSearchParams,
  nowMs: number,
): Promise<Row[]> {
  const startMs = Date.parse(q.get('start') ?? '');
  const endMs = q.has('end') ? Date.parse(q.get('end') ?? '') : nowMs;
  if (!Number.isFinite(startMs) || !Number.isFinite(endMs)) {
    throw new BadRequest('start and end must be RFC-3339 times');
  }
  const timeframe = q.get('timeframe') ?? '1Min';
  if (kind === 'bars' && timeframe === '1Day') {
    return dailyRows(store, symbol, startMs, endMs, nowMs, q.get('adjustment') ?? 'raw');
  }
  if (kind === 'bars' && timeframe !== '1Min') {
    throw new BadRequest(`timeframe ${timeframe} not served by the fake (1Min, 1Day)`);
  }
  return minuteRows(store, symbol, kind, startMs, endMs, nowMs);
}

function summary(rows: Row[]) {
  return {
    rows: rows.length,
    latestMs: rows.length > 0 ? Math.max(...rows.map((r) => r.t)) : null,
  };
}

/** A route's answer: the JSON body and what the request log records of it. */
interface Answer {
  readonly body: unknown;
  readonly rows: number;
  readonly latestMs: number | null;
}

/** `GET /v2/stocks/{symbol}/bars|quotes[/latest]`. */
async function stockRoute(
  store: DataStore,
  match: RegExpExecArray,
  q: URLSearchParams,
  nowMs: number,
): Promise<Answer> {
  const symbol = decodeURIComponent(match[1] as string).toUpperCase();
  const kind = match[2] as 'bars' | 'quotes';
  await marketOfSymbol(store, symbol);
  if (match[3]) {
    const rows = await minuteRows(store, symbol, kind, nowMs - 7 * 86_400_000, nowMs, nowMs);
    const last = rows.at(-1) ?? null;
    return {
      body: { symbol, [kind === 'bars' ? 'bar' : 'quote']: last?.json ?? null },
      ...summary(last ? [last] : []),
    };
  }
  const p = page(await series(store, symbol, kind, q, nowMs), q);
  return {
    body: { symbol, [kind]: p.rows.map((r) => r.json), next_page_token: p.next },
    ...summary(p.rows),
  };
}

/** `GET /v1beta3/crypto/us/[latest/]bars|quotes?symbols=BTC/USD` (one pair per request). */
async function cryptoRoute(
  store: DataStore,
  match: RegExpExecArray,
  q: URLSearchParams,
  nowMs: number,
): Promise<Answer> {
  const kind = match[2] as 'bars' | 'quotes';
  const pairs = (q.get('symbols') ?? '').split(',').filter(Boolean);
  if (pairs.length !== 1) throw new BadRequest('the fake serves one symbol per request');
  const pair = pairs[0] as string;
  const symbol = pair.replace('/', '').toUpperCase();
  if (match[1]) {
    const rows = await minuteRows(store, symbol, kind, nowMs - 2 * 86_400_000, nowMs, nowMs);
    const last = rows.at(-1);
    return {
      body: { [kind]: last ? { [pair]: last.json } : {} },
      ...summary(last ? [last] : []),
    };
  }
  const p = page(await series(store, symbol, kind, q, nowMs), q);
  return {
    body: { [kind]: { [pair]: p.rows.map((r) => r.json) }, next_page_token: p.next },
    ...summary(p.rows),
  };
}

/** The fake's route table: path pattern -> handler (every route is a GET). */
const ROUTES: readonly {
  readonly pattern: RegExp;
  readonly handle: typeof stockRoute;
}[] = [
  { pattern: /^\/v2\/stocks\/([^/]+)\/(bars|quotes)(\/latest)?$/, handle: stockRoute },
  { pattern: /^\/v1beta3\/crypto\/us\/(latest\/)?(bars|quotes)$/, handle: cryptoRoute },
];

async function route(store: DataStore, url: URL, nowMs: number): Promise<Answer> {
  for (const { pattern, handle } of ROUTES) {
    const match = pattern.exec(url.pathname);
    if (match) return handle(store, match, url.searchParams, nowMs);
  }
  throw new BadRequest(`no such route: ${url.pathname}`);
}

/** The error's answer: 422 for an unknown symbol, 400 for a bad request, else 500. */
function errorAnswer(err: unknown): { status: number; body: unknown } {
  if (err instanceof UnknownSymbolError) {
    return { status: 422, body: { code: 42210000, message: `invalid symbol: ${err.symbol}` } };
  }
  if (err instanceof BadRequest)
    return { status: 400, body: { code: 40010000, message: err.message } };
  return { status: 500, body: { message: err instanceof Error ? err.message : String(err) } };
}

/** The first queued fault whose path prefixes `pathname`, counted down (removed at zero). */
function takeFault(faults: DataFault[], pathname: string): DataFault | undefined {
  const fault = faults.find((f) => pathname.startsWith(f.path));
  if (fault) {
    fault.count = (fault.count ?? 1) - 1;
    if (fault.count <= 0) faults.splice(faults.indexOf(fault), 1);
  }
  return fault;
}

/** Serves one request: records it, checks the keys (401), a queued fault, then the route. */
function serveRequest(
  ctx: {
    readonly store: DataStore;
    readonly options: FakeAlpacaDataOptions;
    readonly now: () => number;
    readonly faults: DataFault[];
    readonly requests: DataRequest[];
  },
  req: http.IncomingMessage,
  res: http.ServerResponse,
): void {
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  const nowMs = ctx.now();
  const rec: DataRequest = {
    nowMs,
    path: url.pathname,
    query: Object.fromEntries(url.searchParams),
    status: 0,
    rows: 0,
    latestMs: null,
  };
  ctx.requests.push(rec);
  const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
    rec.status = status;
    res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
    res.end(typeof body === 'string' ? body : JSON.stringify(body));
  };
  if (
    req.headers['apca-api-key-id'] !== ctx.options.keyId ||
    req.headers['apca-api-secret-key'] !== ctx.options.secretKey
  ) {
    send(401, { code: 40110000, message: 'request is not authorized' });
    return;
  }
  const fault = takeFault(ctx.faults, url.pathname);
  if (fault) {
    send(fault.status, fault.body ?? { message: `injected ${fault.status}` }, { ...fault.headers });
    return;
  }
  route(ctx.store, url, nowMs)
    .then((out) => {
      rec.rows = out.rows;
      rec.latestMs = out.latestMs;
      send(200, out.body);
    })
    .catch((err: unknown) => {
      const { status, body } = errorAnswer(err);
      send(status, body);
    });
}

/** Starts the fake on a free loopback port. */
export async function startFakeAlpacaData(options: FakeAlpacaDataOptions): Promise<FakeAlpacaData> {
  const files = new FileSystemBlobSource(options.dataRoot);
  const ctx = {
    store: { files, lean: new LeanMarketData(files) },
    options,
    now: options.now ?? (() => Date.now()),
    faults: [] as DataFault[],
    requests: [] as DataRequest[],
  };
  const server = http.createServer((req, res) => serveRequest(ctx, req, res));

  // In-process: ready once listening; a failed listen rejects instead of hanging.
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    requests: ctx.requests,
    inject(fault) {
      ctx.faults.push({ ...fault });
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
