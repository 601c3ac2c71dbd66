/**
 * The deployed composition of today's bars (`functions/composition/live-market-data.ts`), as a
 * Lambda with `ALPACA_DATA_SECRET_ARN` builds it, against the fake Alpaca data server over the
 * real LEAN files: the stored tree (what the ingestion wrote) lacks today's session, so the
 * 10:00 New York gates read today's bars so far from Alpaca with the keys from the secret,
 * read once, on first use; without the variable the runtime reads the tree only and fails
 * closed; a placeholder secret is refused without its value in the error.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withLiveMarketData } from '../../../functions/composition/live-market-data.js';
import { buildRuntime } from '../../../functions/composition/runtime.js';
import { BrokerAuthError, StagegateError } from '../../../functions/core/errors.js';
import { ManualClock } from '../../../functions/ports/clock.js';
import { type FakeAlpacaData, startFakeAlpacaData } from '../../../local/fake-alpaca-data.js';
import { DATA_ROOT } from '../../support/paths.js';

const keys = { keyId: 'PKDEPLOYEDLIVEDATA', secretKey: 'deployed-live-data-secret-value' };
const SECRET_ARN =
  'arn:aws:secretsmanager:us-east-1:123456789012:secret:stagegate-dev-alpaca-AbCdEf';

let dir: string;
let fake: FakeAlpacaData;
const clock = new ManualClock(Date.parse('2013-10-08T14:00:00Z'));

function env(extra: Record<string, string> = {}): Record<string, string> {
  return {
    STAGE: 'dev',
    TABLE_NAME: 'stagegate-dev',
    ARTIFACTS_BUCKET: 'stagegate-dev-artifacts',
    AUDIT_BUCKET: 'stagegate-dev-audit',
    MARKET_DATA_URI: pathToFileURL(dir).href,
    AWS_REGION: 'us-east-1',
    ALPACA_DATA_BASE_URL: fake.baseUrl,
    ...extra,
  };
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'stagegate-deployed-live-'));
  fake = await startFakeAlpacaData({ dataRoot: DATA_ROOT, ...keys, now: () => clock.now() });
}, 60_000);

afterAll(async () => {
  await fake?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('a deployed Lambda with ALPACA_DATA_SECRET_ARN', () => {
  it("reads today's bars so far from Alpaca with the secret's keys, the secret read once", async () => {
    const reads: string[] = [];
    const rt = withLiveMarketData(
      buildRuntime(env({ ALPACA_DATA_SECRET_ARN: SECRET_ARN }), clock),
      async (id) => {
        reads.push(id);
        return JSON.stringify(keys);
      },
    );
    expect(reads).toEqual([]); // nothing read at cold start
    const session = await rt.marketData.loadSession('2013-10-08', ['SPY']);
    expect(session.timestamps[0]).toBe(Date.parse('2013-10-08T13:30:00Z'));
    expect(session.timestamps.at(-1)).toBe(Date.parse('2013-10-08T13:59:00Z'));
    clock.set(Date.parse('2013-10-08T14:30:00Z'));
    const later = await rt.marketData.loadSession('2013-10-08', ['SPY']);
    expect(later.timestamps.at(-1)).toBe(Date.parse('2013-10-08T14:29:00Z'));
    expect(reads).toEqual([SECRET_ARN]);
    const served = fake.requests.filter((r) => r.status === 200);
    expect(served.length).toBeGreaterThan(0);
  });

  it('refuses a placeholder secret with an error that names no key', async () => {
    const rt = withLiveMarketData(
      buildRuntime(env({ ALPACA_DATA_SECRET_ARN: SECRET_ARN }), clock),
      async () =>
        JSON.stringify({
          keyId: 'REPLACE_WITH_ALPACA_PAPER_KEY_ID',
          secretKey: 'placeholder-value-x',
        }),
    );
    const err = await rt.marketData.loadSession('2013-10-08', ['SPY']).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(BrokerAuthError);
    expect(String((err as Error).message)).not.toContain('placeholder-value-x');
  });
});

describe('a deployed Lambda without ALPACA_DATA_SECRET_ARN', () => {
  it('reads the stored tree only: today, before the ingestion, fails closed', async () => {
    const base = buildRuntime(env(), clock);
    const rt = withLiveMarketData(base, async () => {
      throw new Error('no secret may be read');
    });
    expect(rt).toBe(base);
    await expect(rt.marketData.loadSession('2013-10-08', ['SPY'])).rejects.toBeInstanceOf(
      StagegateError,
    );
  });
});
