/**
 * Deployed Lambdas read today's bars (`functions/composition/live-market-data.ts`): every
 * function that reads the session in progress (the gates, the paper session's start, ticks
 * and finish; with the simulated broker also the reconciliation, which books late fills) gets
 * the ARN of the stage's Alpaca secret in `ALPACA_DATA_SECRET_ARN`, the stage's feed in
 * `ALPACA_DATA_FEED`, and GetSecretValue on that one secret; no other pipeline function gets
 * either (least privilege). The variable holds an ARN, never a key.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { STAGES, type Stage } from '../../lib/config/environment-config.js';
import { environments } from '../../lib/config/environments.js';
import { PIPELINE_HANDLERS, type PipelineHandlerName } from '../../lib/handlers.js';
import {
  asArray,
  environmentOf,
  logicalIdOf,
  render,
  type SynthesizedStage,
  statementsOfRole,
  synthStage,
} from './synth.js';

type Json = Record<string, unknown>;

const PIPELINE_NAMES = Object.keys(PIPELINE_HANDLERS) as PipelineHandlerName[];
/** The functions that read the session in progress, with the simulated broker. */
const LIVE_READERS: PipelineHandlerName[] = [
  'evaluateGates',
  'startPaperSession',
  'paperTick',
  'finishPaperSession',
  'reconcilePromotion',
];

const built = {} as Record<Stage, SynthesizedStage>;
let alpacaDev: SynthesizedStage;

beforeAll(() => {
  for (const stage of STAGES) built[stage] = synthStage(stage);
  alpacaDev = synthStage('dev', { 'stagegate:dev': { broker: { adapter: 'alpaca-paper' } } });
});

function envOf(s: SynthesizedStage, name: PipelineHandlerName): Record<string, unknown> {
  return environmentOf(s.workflow, s.env.workflow.promotion.functions[name]);
}

/** Resources of the GetSecretValue statements of a pipeline function's role. */
function secretReads(s: SynthesizedStage, name: PipelineHandlerName): string[] {
  const roleId = logicalIdOf(s.env.workflow.promotion.functions[name].executionRole);
  return statementsOfRole(s.workflow, roleId)
    .filter((st: Json) =>
      asArray(st.Action as string | string[]).includes('secretsmanager:GetSecretValue'),
    )
    .flatMap((st) => asArray(st.Resource).map((r) => render(r)));
}

describe.each(STAGES)("today's bars in the deployed %s pipeline (simulated broker)", (stage) => {
  it('gives exactly the functions that read the session in progress the Alpaca secret ARN and feed', () => {
    const s = built[stage];
    const secretArn = render(envOf(s, 'evaluateGates').ALPACA_DATA_SECRET_ARN);
    const withArn = PIPELINE_NAMES.filter((n) => envOf(s, n).ALPACA_DATA_SECRET_ARN !== undefined);
    expect(withArn.sort()).toEqual([...LIVE_READERS].sort());
    expect(secretArn).toMatch(/AlpacaPaperSecret/);
    for (const n of LIVE_READERS) {
      expect(render(envOf(s, n).ALPACA_DATA_SECRET_ARN)).toBe(secretArn);
      expect(envOf(s, n).ALPACA_DATA_FEED).toBe(environments[stage].ingestion.feed);
      // An ARN (a reference to the secret), never key material.
      expect(JSON.stringify(envOf(s, n))).not.toMatch(/secretKey|keyId|PK[A-Z0-9]{10}/);
    }
  });

  it('lets those functions read that one secret and no other function read any', () => {
    const s = built[stage];
    for (const n of PIPELINE_NAMES) {
      const reads = secretReads(s, n);
      if (LIVE_READERS.includes(n)) {
        expect(reads.length).toBeGreaterThan(0);
        for (const r of reads) expect(r).toMatch(/AlpacaPaperSecret/);
      } else {
        expect(reads).toEqual([]);
      }
    }
  });
});

describe("today's bars with the alpaca-paper broker", () => {
  it('the gates read the data keys; the broker functions read the same secret; the rest none', () => {
    const readers = PIPELINE_NAMES.filter((n) => secretReads(alpacaDev, n).length > 0);
    expect(readers.sort()).toEqual(
      [
        'evaluateGates',
        'startPaperSession',
        'paperTick',
        'finishPaperSession',
        'reconcilePromotion',
      ].sort(),
    );
    const withDataArn = PIPELINE_NAMES.filter(
      (n) => envOf(alpacaDev, n).ALPACA_DATA_SECRET_ARN !== undefined,
    );
    // The Alpaca broker keeps its own positions: its reconciliation reads no market data.
    expect(withDataArn.sort()).toEqual(
      ['evaluateGates', 'startPaperSession', 'paperTick', 'finishPaperSession'].sort(),
    );
  });
});
