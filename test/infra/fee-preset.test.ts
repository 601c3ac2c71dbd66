/**
 * The fee preset per stage (`fees` of `lib/config`): each stage's preset reaches the cohort
 * simulator (`COHORT_COSTS_JSON`, read by the prepare step) and the simulated broker and the
 * paper session's reference simulation (`SIMULATED_BROKER_JSON.costs`) as the same costs;
 * dev, which the local mode runs, keeps the cohort default; a bad preset or SEC rate is refused
 * naming the field. The prepared cohort of a real shared session (read in place) carries the
 * stage's costs, and a crypto session still pays Alpaca's crypto fee.
 */
import { describe, expect, it } from 'vitest';
import { FileSystemBlobSource } from '../../functions/adapters/market-data/blob-source.js';
import { LeanMarketData } from '../../functions/adapters/market-data/lean-market-data.js';
import { cohortCostsOf } from '../../functions/composition/runtime.js';
import { readRuntimeEnv } from '../../functions/config/env.js';
import { parseCohortConfig } from '../../functions/core/cohort/config.js';
import { FillCostsSchema, fillCostsOf } from '../../functions/core/cohort/fill-model.js';
import { ValidationError } from '../../functions/core/errors.js';
import {
  BROKER_FEE_SCHEDULES,
  SEC_FEE_PER_USD_SOLD,
} from '../../functions/core/exchange/fee-schedules.js';
import { prepareCohort } from '../../functions/core/use-cases/intraday-cohort.js';
import { ManualClock } from '../../functions/ports/clock.js';
import { parseEnvironmentConfig } from '../../lib/config/environment-config.js';
import { environments, loadEnvironmentConfig } from '../../lib/config/environments.js';
import {
  cohortEnvironment,
  pipelineEnvironment,
  stageCosts,
} from '../../lib/config/runtime-env.js';
import { DATA_ROOT } from '../support/paths.js';

const COHORT_DEFAULT = fillCostsOf(parseCohortConfig({ bankrollUsd: 1_000 }));
const ALPACA = { slippageBps: 1, ...BROKER_FEE_SCHEDULES.alpaca_equity.costs };

/** The costs the simulated broker and the cohort are handed, as their Lambdas read them. */
function costsOfStage(cfg: Parameters<typeof pipelineEnvironment>[0]) {
  const broker = JSON.parse(pipelineEnvironment(cfg).SIMULATED_BROKER_JSON as string) as {
    costs: unknown;
  };
  const env = readRuntimeEnv({
    STAGE: cfg.stage,
    TABLE_NAME: 'table',
    ARTIFACTS_BUCKET: 'artifacts',
    AUDIT_BUCKET: 'audit',
    MARKET_DATA_URI: 's3://market/lean',
    ...cohortEnvironment(cfg),
  });
  return { broker: FillCostsSchema.parse(broker.costs), cohort: cohortCostsOf(env) };
}

function validationErrorOf(fn: () => unknown): ValidationError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ValidationError) return err;
    throw err;
  }
  throw new Error('expected a ValidationError, nothing was thrown');
}

describe('the fee preset per stage', () => {
  it('dev (the local mode) keeps the cohort default; staging and prod charge Alpaca equity fees', () => {
    expect(environments.dev.fees).toEqual({ preset: 'cohort_default' });
    expect(costsOfStage(environments.dev)).toEqual({
      broker: COHORT_DEFAULT,
      cohort: COHORT_DEFAULT,
    });
    for (const cfg of [environments.staging, environments.prod]) {
      expect(cfg.fees.preset).toBe('alpaca_equity');
      // Stated in the stage's config (Alpaca's table, read 2026-12-05), not taken from a default
      expect(cfg.fees.secFeePerUsdSold).toBe(27.8e-6);
      expect(costsOfStage(cfg)).toEqual({ broker: ALPACA, cohort: ALPACA });
      expect(stageCosts(cfg).secFeePerUsdSold).toBe(SEC_FEE_PER_USD_SOLD);
    }
  });

  it('a stage chooses IBKR Fixed, or sets the SEC rate of the current fiscal year', () => {
    const ibkr = loadEnvironmentConfig('dev', {
      fees: { preset: 'ibkr_fixed', secFeePerUsdSold: SEC_FEE_PER_USD_SOLD },
    });
    expect(costsOfStage(ibkr).cohort).toEqual({
      slippageBps: 1,
      ...BROKER_FEE_SCHEDULES.ibkr_fixed.costs,
    });
    expect(costsOfStage(ibkr).broker.minFeeUsd).toBe(1);
    const zero = loadEnvironmentConfig('prod', { fees: { secFeePerUsdSold: 0 } });
    expect(costsOfStage(zero)).toEqual({
      broker: { ...ALPACA, secFeePerUsdSold: 0 },
      cohort: { ...ALPACA, secFeePerUsdSold: 0 },
    });
  });

  it.each([
    [{ fees: { secFeePerUsdSold: 27.8e-6 } }, 'fees.secFeePerUsdSold', /cohort_default/],
    [{ fees: { preset: 'alpaca' } }, 'fees.preset', /cohort_default|alpaca_equity/],
    [{ fees: { preset: 'alpaca_equity', secFeePerUsdSold: -1e-6 } }, 'fees.secFeePerUsdSold', /0/],
    [{ fees: { preset: 'alpaca_equity', tafPerShare: 1 } }, 'fees', /tafPerShare/],
  ])('refuses %j naming %s', (override, field, message) => {
    const err = validationErrorOf(() => loadEnvironmentConfig('dev', override));
    expect(err.field).toBe(field);
    expect(err.message).toMatch(message);
  });

  it.each(['alpaca_equity', 'ibkr_fixed'] as const)(
    'a stage with fees.preset %s and no SEC rate is refused naming fees.secFeePerUsdSold',
    (preset) => {
      // A preset that charges the SEC fee needs the stage's rate: no stale default stands in
      const dev = validationErrorOf(() => loadEnvironmentConfig('dev', { fees: { preset } }));
      const prod = validationErrorOf(() =>
        parseEnvironmentConfig({ ...environments.prod, fees: { preset } }),
      );
      for (const err of [dev, prod]) {
        expect(err.field).toBe('fees.secFeePerUsdSold');
        expect(err.message).toMatch(new RegExp(`required with fees\\.preset ${preset}`));
      }
    },
  );

  it('COHORT_COSTS_JSON: absent means the cohort defaults; malformed is refused naming it', () => {
    const base = {
      STAGE: 'dev',
      TABLE_NAME: 'table',
      ARTIFACTS_BUCKET: 'artifacts',
      AUDIT_BUCKET: 'audit',
      MARKET_DATA_URI: 's3://market/lean',
    };
    expect(cohortCostsOf(readRuntimeEnv(base))).toBeUndefined();
    const notJson = readRuntimeEnv({ ...base, COHORT_COSTS_JSON: '{' });
    expect(validationErrorOf(() => cohortCostsOf(notJson)).field).toBe('env.COHORT_COSTS_JSON');
    const negative = readRuntimeEnv({
      ...base,
      COHORT_COSTS_JSON: JSON.stringify({ ...ALPACA, catFeePerShare: -1 }),
    });
    expect(validationErrorOf(() => cohortCostsOf(negative)).field).toMatch(
      /^env\.COHORT_COSTS_JSON/,
    );
  });
});

describe('prepareCohort with the stage costs (real shared sessions)', () => {
  const marketData = new LeanMarketData(new FileSystemBlobSource(DATA_ROOT));
  const clock = new ManualClock(Date.parse('2026-12-05T00:00:00Z'));
  const execution = { executionId: 'arn:exec:fees', executionName: 'fees' };

  it('an equity cohort is simulated with the stage preset; without one, the cohort default', async () => {
    const request = {
      source: 'cli',
      sessionDate: '2013-10-08',
      symbols: ['SPY', 'IBM'],
      bankrollUsd: 1_000,
    };
    const alpaca = await prepareCohort(
      { marketData, clock, equityCosts: ALPACA },
      { request, ...execution },
    );
    if (alpaca.skipped) throw new Error('the 2013-10-08 session was skipped');
    expect(fillCostsOf(alpaca.config)).toEqual(ALPACA);
    const plain = await prepareCohort({ marketData, clock }, { request, ...execution });
    if (plain.skipped) throw new Error('the 2013-10-08 session was skipped');
    expect(fillCostsOf(plain.config)).toEqual(COHORT_DEFAULT);
  });

  it("a crypto cohort pays Alpaca's crypto fee whatever the stage's equity preset", async () => {
    const prepared = await prepareCohort(
      { marketData, clock, equityCosts: ALPACA },
      {
        request: {
          source: 'cli',
          sessionDate: '2018-04-04',
          symbols: ['BTCUSD'],
          bankrollUsd: 1_000,
          market: 'crypto',
        },
        ...execution,
      },
    );
    if (prepared.skipped) throw new Error('the 2018-04-04 session was skipped');
    expect(fillCostsOf(prepared.config)).toEqual({
      ...BROKER_FEE_SCHEDULES.alpaca_crypto_tier1.costs,
      slippageBps: 1,
    });
  });
});
