/**
 * {@link MarketDataArchive} writing the LEAN tree the LEAN loader
 * (`lean-market-data.ts`) reads, in S3 (deployed: the market-data bucket under `lean/`) or on
 * disk (`stagegate data pull`, the local mode). Layout, the one `../shared/data/README.md`
 * describes (QuantConnect LEAN format):
 *
 * - `equity/usa/minute/{sym}/{YYYYMMDD}_trade.zip` / `_quote.zip`: one CSV each, rows
 *   `ms since New York midnight, o, h, l, c, volume` and `ms, bid o/h/l/c, bid size, ask
 *   o/h/l/c, ask size`, prices in deci-cents (USD × 10,000, rounded);
 * - `equity/usa/daily/{sym}.zip`: `YYYYMMDD 00:00, o, h, l, c, volume` RAW prices, deci-cents;
 * - `equity/usa/factor_files/{sym}.csv`: `YYYYMMDD, price_factor, split_factor, reference_price`;
 * - crypto under `crypto/coinbase/minute|daily` (the folder the loader reads crypto from, a
 *   naming convention, whatever the venue), ms since UTC midnight, plain decimal prices,
 *   daily file `{sym}_trade.zip`;
 * - `quality/{market}/{YYYYMMDD}.json`: the session's data-quality report, written last.
 *
 * Quote bars: each minute's bid and ask open/high/low/close over the quotes of the minute,
 * sizes of its last quote (a side without a positive price stays empty, as in LEAN files).
 */
import { mkdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import AdmZip from 'adm-zip';
import { NYSE_TIME_ZONE } from '../../core/calendar/market-calendar.js';
import {
  DataFileMissingError,
  DataFolderMissingError,
  TransientError,
  ValidationError,
} from '../../core/errors.js';
import type { FactorRow } from '../../core/market/corporate-actions.js';
import type { DailyBar } from '../../core/market/types.js';
import type {
  Market,
  MarketDataArchive,
  SessionFeedData,
  SessionQualityReport,
} from '../../ports/session-ingestion.js';
import { isTransientAwsError } from '../aws-errors.js';
import type { BlobSource } from './blob-source.js';
import { leanTimeToEpochMs } from './lean-format.js';

/** Write access to the tree a {@link BlobSource} reads (same relative paths). */
export interface BlobSink {
  /**
   * Replaces the object at `relPath`.
   * @throws TransientError on a fault worth retrying; ValidationError for a bad path.
   */
  write(relPath: string, bytes: Uint8Array, contentType: string): Promise<void>;
}

function checkRelPath(relPath: string): void {
  if (path.posix.isAbsolute(relPath) || path.posix.normalize(relPath).startsWith('..')) {
    throw new ValidationError(
      'relPath',
      `must stay under the data root: ${JSON.stringify(relPath)}`,
    );
  }
}

/** Writes under a local folder (created as needed; each file replaced atomically by rename). */
export class FileSystemBlobSink implements BlobSink {
  constructor(private readonly rootDir: string) {}

  async write(relPath: string, bytes: Uint8Array): Promise<void> {
    checkRelPath(relPath);
    const abs = path.join(this.rootDir, relPath);
    await mkdir(path.dirname(abs), { recursive: true });
    const tmp = `${abs}.${process.pid}.tmp`;
    await writeFile(tmp, bytes);
    await rename(tmp, abs);
  }
}

/** Writes objects under `s3://bucket/prefix/`. */
export class S3BlobSink implements BlobSink {
  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
    private readonly prefix: string,
  ) {}

  async write(relPath: string, bytes: Uint8Array, contentType: string): Promise<void> {
    checkRelPath(relPath);
    const key = this.prefix ? `${this.prefix.replace(/\/+$/, '')}/${relPath}` : relPath;
    try {
      await this.s3.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: key,
          Body: bytes,
          ContentType: contentType,
        }),
      );
    } catch (err) {
      if (isTransientAwsError(err)) {
        throw new TransientError(`writing s3://${this.bucket}/${key} failed`, { cause: err });
      }
      throw err;
    }
  }
}

const DECI_CENTS = 10_000;
const MINUTE_MS = 60_000;
const dirs = (market: Market) =>
  market === 'crypto'
    ? {
        minute: 'crypto/coinbase/minute',
        daily: 'crypto/coinbase/daily',
        dailySuffix: '_trade.zip',
      }
    : { minute: 'equity/usa/minute', daily: 'equity/usa/daily', dailySuffix: '.zip' };

/** See the module comment. */
export class LeanArchive implements MarketDataArchive {
  constructor(
    private readonly source: BlobSource,
    private readonly sink: BlobSink,
  ) {}

  async readQualityReport(market: Market, date: string): Promise<SessionQualityReport | null> {
    try {
      const bytes = await this.source.read(qualityPath(market, date));
      return JSON.parse(Buffer.from(bytes).toString('utf8')) as SessionQualityReport;
    } catch (err) {
      if (err instanceof DataFileMissingError || err instanceof DataFolderMissingError) return null;
      throw err;
    }
  }

  async writeSession(
    market: Market,
    date: string,
    data: readonly SessionFeedData[],
  ): Promise<number> {
    const ymd = date.replaceAll('-', '');
    const midnight = leanTimeToEpochMs(
      {
        year: Number(date.slice(0, 4)),
        month: Number(date.slice(5, 7)),
        day: Number(date.slice(8, 10)),
      },
      0,
      market,
    );
    const msOf = msSinceMidnight(market, midnight);
    const price = (p: number) =>
      market === 'crypto' ? String(p) : String(Math.round(p * DECI_CENTS));
    let bytes = 0;
    for (const d of data) {
      const sym = d.symbol.toLowerCase().replace('/', '');
      const trades = [...d.bars]
        .sort((a, b) => a.t - b.t)
        .map((b) =>
          [msOf(b.t), price(b.open), price(b.high), price(b.low), price(b.close), b.volume].join(
            ',',
          ),
        );
      bytes += await this.zip(
        `${dirs(market).minute}/${sym}/${ymd}_trade.zip`,
        `${ymd}_${sym}_minute_trade.csv`,
        trades,
      );
      bytes += await this.zip(
        `${dirs(market).minute}/${sym}/${ymd}_quote.zip`,
        `${ymd}_${sym}_minute_quote.csv`,
        quoteRows(d, msOf, price),
      );
    }
    return bytes;
  }

  async writeDaily(
    market: Market,
    symbol: string,
    bars: readonly DailyBar[],
    factors: readonly FactorRow[] | null,
  ): Promise<number> {
    const sym = symbol.toLowerCase().replace('/', '');
    const price = (p: number) =>
      market === 'crypto' ? String(p) : String(Math.round(p * DECI_CENTS));
    const rows = bars.map((b) =>
      [
        `${b.date.replaceAll('-', '')} 00:00`,
        price(b.open),
        price(b.high),
        price(b.low),
        price(b.close),
        b.volume,
      ].join(','),
    );
    let bytes = await this.zip(
      `${dirs(market).daily}/${sym}${dirs(market).dailySuffix}`,
      `${sym}.csv`,
      rows,
    );
    if (factors !== null && market === 'equity-usa') {
      const text = `${factors
        .map((f) =>
          [
            f.date.replaceAll('-', ''),
            roundTo(f.priceFactor, 9),
            roundTo(f.splitFactor, 9),
            f.referencePrice,
          ].join(','),
        )
        .join('\n')}\n`;
      const body = Buffer.from(text, 'utf8');
      await this.sink.write(`equity/usa/factor_files/${sym}.csv`, body, 'text/csv');
      bytes += body.length;
    }
    return bytes;
  }

  async writeQualityReport(report: SessionQualityReport): Promise<number> {
    const body = Buffer.from(`${JSON.stringify(report, null, 2)}\n`, 'utf8');
    await this.sink.write(qualityPath(report.market, report.sessionDate), body, 'application/json');
    return body.length;
  }

  private async zip(relPath: string, entry: string, rows: readonly string[]): Promise<number> {
    const zip = new AdmZip();
    zip.addFile(entry, Buffer.from(rows.length > 0 ? `${rows.join('\n')}\n` : '', 'utf8'));
    const body = zip.toBuffer();
    await this.sink.write(relPath, body, 'application/zip');
    return body.length;
  }
}

/** `quality/{market}/{YYYYMMDD}.json`. */
export function qualityPath(market: Market, date: string): string {
  return `quality/${market}/${date.replaceAll('-', '')}.json`;
}

function roundTo(x: number, digits: number): string {
  return String(Number(x.toPrecision(digits)));
}

/**
 * Epoch ms → LEAN ms since the file's midnight: UTC for crypto; the New York wall clock for
 * equities (the offset is taken at each instant, so a DST switch day stays right).
 */
function msSinceMidnight(market: Market, midnightMs: number): (t: number) => number {
  if (market === 'crypto') return (t) => t - midnightMs;
  const fmt = new Intl.DateTimeFormat('en-US', {
    timeZone: NYSE_TIME_ZONE,
    hourCycle: 'h23',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  });
  return (t) => {
    const parts = Object.fromEntries(fmt.formatToParts(t).map((p) => [p.type, p.value]));
    return (
      (Number(parts.hour) * 3600 + Number(parts.minute) * 60 + Number(parts.second)) * 1000 +
      (t % 1000)
    );
  };
}

/** One LEAN quote-bar row per minute with a quote (see the module comment). */
function quoteRows(
  d: SessionFeedData,
  msOf: (t: number) => number,
  price: (p: number) => string,
): string[] {
  const order = d.quotes
    .map((_, i) => i)
    .sort((a, b) => (d.quotes[a]?.t ?? 0) - (d.quotes[b]?.t ?? 0));
  const minutes = new Map<number, number[]>();
  for (const i of order) {
    const m = Math.floor((d.quotes[i]?.t ?? 0) / MINUTE_MS) * MINUTE_MS;
    const list = minutes.get(m);
    if (list) list.push(i);
    else minutes.set(m, [i]);
  }
  const side = (values: number[]) => {
    const v = values.filter((x) => Number.isFinite(x) && x > 0);
    if (v.length === 0) return ['', '', '', ''];
    return [
      price(v[0] as number),
      price(Math.max(...v)),
      price(Math.min(...v)),
      price(v[v.length - 1] as number),
    ];
  };
  const rows: string[] = [];
  for (const [m, idx] of [...minutes.entries()].sort((a, b) => a[0] - b[0])) {
    const last = idx[idx.length - 1] as number;
    const [bidSize, askSize] = d.quoteSizes[last] ?? [0, 0];
    const bids = side(idx.map((i) => d.quotes[i]?.bid ?? Number.NaN));
    const asks = side(idx.map((i) => d.quotes[i]?.ask ?? Number.NaN));
    rows.push(
      [
        msOf(m),
        ...bids,
        bids[0] === '' ? '' : bidSize,
        ...asks,
        asks[0] === '' ? '' : askSize,
      ].join(','),
    );
  }
  return rows;
}
