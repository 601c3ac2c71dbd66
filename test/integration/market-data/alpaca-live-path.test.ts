/**
 * The live data path, locally, against the fake Alpaca data server (loopback, over the real
 * LEAN files): `stagegate run --market-data alpaca-fake` replays sessions through the deployed
 * chain (session ingestion through the Alpaca adapter -> the session's cohort -> the learning
 * cycle), gives the 10:00 promotion the session's bars so far, and never receives a bar
 * after the simulated now; `stagegate data pull` builds a LEAN
 * tree the loader reads back, refuses malformed flags with exit 2 and names the symbol and date
 * Alpaca refused.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileSystemBlobSource } from '../../../functions/adapters/market-data/blob-source.js';
import { LeanMarketData } from '../../../functions/adapters/market-data/lean-market-data.js';
import { ManualClock } from '../../../functions/ports/clock.js';
import { type FakeAlpacaData, startFakeAlpacaData } from '../../../local/fake-alpaca-data.js';
import { type LocalStack, startLocalStack } from '../../../local/local-stack.js';
import { type ReplayResult, replay } from '../../../local/replay.js';
import { type CliResult, runCli } from '../../support/cli.js';
import { DATA_ROOT, REPO_ROOT } from '../../support/paths.js';

const MINUTE_MS = 60_000;

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'stagegate-live-path-'));
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('run --market-data alpaca-fake: the deployed chain on the fake Alpaca server', () => {
  let stack: LocalStack;
  let result: ReplayResult;
  let output = '';

  beforeAll(async () => {
    const ingested = path.join(dir, 'ingested');
    stack = await startLocalStack({
      dataRoot: ingested,
      stateDir: 'memory',
      clock: new ManualClock(Date.parse('2013-10-07T00:00:00Z')),
      alpacaFake: { sourceRoot: DATA_ROOT },
    });
    result = await replay(stack, {
      sessions: ['2013-10-07', '2013-10-08'],
      symbols: ['SPY', 'AIG'],
      bankrollUsd: 1000,
      agentCount: 4,
      allocation: 'equal',
      seed: 1,
      marketData: 'alpaca-fake',
      reportDir: path.join(dir, 'reports'),
      out: (t) => {
        output += t;
      },
    });
  }, 600_000);
  afterAll(async () => {
    await stack?.stop();
  });

  it('runs each session as ingestion -> cohort -> learning cycle, after the close', async () => {
    // Assess: one cohort per session, on the symbols the ingestion stored
    expect(result.cohorts.map((c) => [c.sessionDate, c.status])).toEqual([
      ['2013-10-07', 'SUCCEEDED'],
      ['2013-10-08', 'SUCCEEDED'],
    ]);
    for (const c of result.cohorts) expect(c.ingestion?.included).toEqual(['SPY', 'AIG']);
    // The 13:05 slot skips on a full day; the 16:05 slot ingests, then the chain runs in order
    expect(output).toContain('skipped: the 2013-10-07 session closes at 2013-10-07T20:00:00.000Z');
    const chain = output.indexOf('[2013-10-07 16:05 New York] schedule session-ingestion');
    const cohort = output.indexOf('chained intraday-cohort [succeeded]', chain);
    const learning = output.indexOf('[2013-10-07 16:05 New York] chained learning-cycle', cohort);
    expect(chain).toBeGreaterThan(-1);
    expect(cohort).toBeGreaterThan(chain);
    expect(learning).toBeGreaterThan(cohort);
    // The cohort record is stamped after the data it holds (the session closed at 20:00Z)
    for (const c of result.cohorts) {
      const record = await stack.runtime.cohorts.get(c.cohortId as string);
      expect(Date.parse(record.completedAtIso)).toBeGreaterThanOrEqual(
        Date.parse(`${c.sessionDate}T20:05:00Z`),
      );
    }
  });

  it("gives the 10:00 promotion today's bars so far (from Alpaca, before the ingestion stored the session)", () => {
    // 2013-10-07 has no earlier cohort (a recorded skip); 2013-10-08 promotes 10-07's.
    const p = result.promotions.find((x) => x.sessionDate === '2013-10-08');
    const gate = (name: string) => p?.gates?.results.find((g) => g.gate === name);
    // The last complete minute is 09:59, so the bar is 0 s old at 10:00 (not "missing").
    expect(gate('data_staleness')).toMatchObject({ verdict: 'pass', observed: 0 });
    expect(gate('liquidity_spread')?.observed).toEqual(expect.any(Number));
    expect(gate('liquidity_minute_participation')?.observed).toEqual(expect.any(Number));
  });

  it('reads its bars through the Alpaca adapter and never gets one after the simulated now', () => {
    const fake = stack.alpaca?.fake as FakeAlpacaData;
    const served = fake.requests.filter((r) => r.status === 200 && r.rows > 0);
    expect(served.some((r) => r.path === '/v2/stocks/SPY/bars')).toBe(true);
    expect(served.some((r) => r.path === '/v2/stocks/AIG/quotes')).toBe(true);
    for (const r of served) {
      const minuteBars = r.path.endsWith('/bars') && r.query.timeframe !== '1Day';
      // A minute bar exists once its minute ended; a quote or a daily bar at its stamp
      const end = (r.latestMs as number) + (minuteBars ? MINUTE_MS : 0);
      expect(end).toBeLessThanOrEqual(r.nowMs);
    }
  });
});

/** Runs the CLI with `env` added and no Alpaca keys unless `env` gives them. */
async function cli(args: readonly string[], env: Record<string, string>): Promise<CliResult> {
  return runCli(args, {
    env: {
      APCA_API_KEY_ID: '',
      APCA_API_SECRET_KEY: '',
      STAGEGATE_STATE_DIR: path.join(REPO_ROOT, '.local/never-created'),
      ...env,
    },
  });
}

describe('stagegate data pull against the fake Alpaca data server', () => {
  const KEYS = { APCA_API_KEY_ID: 'PKPULLTEST', APCA_API_SECRET_KEY: 'pull-secret-value' };
  let fake: FakeAlpacaData;
  let env: Record<string, string>;

  beforeAll(async () => {
    fake = await startFakeAlpacaData({
      dataRoot: DATA_ROOT,
      keyId: KEYS.APCA_API_KEY_ID,
      secretKey: KEYS.APCA_API_SECRET_KEY,
    });
    env = { ...KEYS, ALPACA_DATA_BASE_URL: fake.baseUrl };
  });
  afterAll(async () => {
    await fake?.close();
  });

  it('serves a quote for every minute of the quote file, a minute without a trade too', async () => {
    // Prepare: AIG has 389 regular-session trade bars on 2013-10-07 (one minute without a
    // trade) and a quote bar in all 390 minutes (shared data README)
    const headers = {
      'APCA-API-KEY-ID': KEYS.APCA_API_KEY_ID,
      'APCA-API-SECRET-KEY': KEYS.APCA_API_SECRET_KEY,
    };
    const url = (kind: string) =>
      `${fake.baseUrl}/v2/stocks/AIG/${kind}?start=2013-10-07T13:30:00Z&end=2013-10-07T20:00:00Z&limit=10000`;

    // Act
    const bars = (await (await fetch(url('bars'), { headers })).json()) as { bars: unknown[] };
    const quotes = (await (await fetch(url('quotes'), { headers })).json()) as {
      quotes: { t: string }[];
    };

    // Assess
    expect(bars.bars).toHaveLength(389);
    expect(quotes.quotes).toHaveLength(390);
    expect(quotes.quotes[0]?.t).toBe('2013-10-07T13:30:59.000Z');
  });

  it('builds a LEAN tree of the range that the loader reads back', async () => {
    // Prepare: 2013-10-05/06 are a weekend: two sessions in the range
    const out = path.join(dir, 'pulled');

    // Act
    const run = await cli(
      [
        'data',
        'pull',
        '--symbols',
        'spy,AIG',
        '--from',
        '2013-10-04',
        '--to',
        '2013-10-07',
        '--out',
        out,
        '--daily-lookback-days',
        '60',
      ],
      env,
    );

    // Assess
    expect(run.stderr).not.toContain('pull-secret-value');
    expect(run.stdout).not.toContain('pull-secret-value');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('2013-10-04: stored SPY,AIG');
    expect(run.stdout).toContain('2013-10-07: stored SPY,AIG');
    const pulled = new LeanMarketData(new FileSystemBlobSource(out));
    expect(await pulled.listSessions(['SPY', 'AIG'])).toEqual(['2013-10-04', '2013-10-07']);
    const source = new LeanMarketData(new FileSystemBlobSource(DATA_ROOT));
    const got = await pulled.loadSession('2013-10-07', ['SPY']);
    const want = await source.loadSession('2013-10-07', ['SPY']);
    expect(Array.from(got.series[0]?.close ?? [])).toEqual(Array.from(want.series[0]?.close ?? []));
    const daily = await pulled.loadDaily('AIG', '2013-09-01', '2013-10-07');
    expect(daily.at(-1)?.date).toBe('2013-10-07');
  }, 300_000);

  it('refuses a malformed date, missing keys and a missing flag with exit 2 (usage errors)', async () => {
    // Act (the other refusals: test/unit/local/data-pull.test.ts)
    const out = ['--out', path.join(dir, 'never')];
    const badDate = await cli(
      ['data', 'pull', '--symbols', 'SPY', '--from', '2013-10-32', '--to', '2013-10-08', ...out],
      env,
    );
    const noKeys = await cli(
      ['data', 'pull', '--symbols', 'SPY', '--from', '2013-10-07', '--to', '2013-10-07', ...out],
      { ...env, APCA_API_SECRET_KEY: '' },
    );
    const noTo = await cli(
      ['data', 'pull', '--symbols', 'SPY', '--from', '2013-10-07', ...out],
      env,
    );

    // Assess
    expect(badDate.code).toBe(2);
    expect(badDate.stderr).toContain('--from must be a date YYYY-MM-DD, got "2013-10-32"');
    expect(noKeys.code).toBe(2);
    expect(noKeys.stderr).toContain('set APCA_API_SECRET_KEY');
    expect(noTo.code).toBe(2);
    expect(noTo.stderr).toContain("required option '--to <date>' not specified");
  }, 300_000);

  it('names the symbol and the date Alpaca refused, keeping the sessions before it', async () => {
    // Act
    const run = await cli(
      [
        'data',
        'pull',
        '--symbols',
        'SPY,ZZZZ',
        '--from',
        '2013-10-07',
        '--to',
        '2013-10-07',
        '--out',
        path.join(dir, 'unknown'),
        '--daily-lookback-days',
        '30',
      ],
      env,
    );

    // Assess
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      'Alpaca does not know the symbol ZZZZ (pulling the 2013-10-07 session)',
    );
  });
});
