/**
 * Local stage-to-accepted latency of the promotion pipeline with the simulated broker: 100
 * promotions executed by the local ASL interpreter with the real handlers, DynamoDB Local
 * and the S3 emulator; latency = wall time from entering StageCandidate to leaving
 * SubmitOrders (the order is accepted by the broker). Target p99 < 250 ms.
 */
import { ManualClock } from '../functions/ports/clock.js';
import { startLocalStack } from '../local/local-stack.js';
import { DATA_ROOT } from '../test/support/paths.js';
import type { BenchReport } from './run.js';

const PROMOTIONS = 100;

function percentile(sorted: readonly number[], p: number): number {
  const i = Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1);
  return sorted[Math.max(0, i)] ?? Number.NaN;
}

export default async function (): Promise<BenchReport> {
  process.env.POWERTOOLS_METRICS_DISABLED = 'true';
  const stack = await startLocalStack({
    dataRoot: DATA_ROOT,
    stateDir: 'memory',
    logLevel: 'SILENT',
    clock: new ManualClock(Date.parse('2013-10-07T21:00:00Z')),
    brokerAccount: 'bench',
    // 100 promotions into one account: a tiny slice each, so exposure gates keep passing.
    configOverrides: {
      pipeline: { capitalSliceFraction: 0.0005, minCapitalSliceUsd: 1 },
      gates: { maxSymbolExposureFraction: 1, maxAggregateExposureFraction: 1 },
    },
  });
  try {
    const cohort = await stack.intradayCohort.execute(
      {
        source: 'cli',
        sessionDate: '2013-10-07',
        symbols: ['SPY', 'BAC', 'AIG', 'IBM'],
        bankrollUsd: 100_000,
        agentCount: 30,
        allocation: 'equal',
        seed: 1,
      },
      { executionName: 'bench-cohort' },
    );
    const cohortId = (cohort.output as { cohortId: string }).cohortId;
    const latencies: number[] = [];
    let promoted = 0;
    for (let i = 0; i < PROMOTIONS; i++) {
      // Each promotion replays a different minute of the next session's window.
      stack.clock.set(Date.parse('2013-10-08T14:00:00Z') + i * 3 * 60_000);
      let staged = 0;
      let accepted = 0;
      const result = await stack.promotionPipeline.execute(
        { source: 'cli', cohortId },
        {
          executionName: `bench-promo-${i}`,
          onProgress: (e) => {
            if (e.type === 'StateEntered' && e.state === 'StageCandidate')
              staged = performance.now();
            if (e.type === 'StateExited' && e.state === 'SubmitOrders')
              accepted = performance.now();
          },
        },
      );
      if ((result.output as { outcome?: string }).outcome === 'promoted') promoted++;
      if (staged > 0 && accepted > 0) latencies.push(accepted - staged);
    }
    latencies.sort((a, b) => a - b);
    const round = (v: number) => Math.round(v * 10) / 10;
    return {
      name: 'pipeline-latency',
      description:
        'promotion pipeline, local stage-to-accepted latency (ms) over 100 promotions with the simulated broker; target p99 < 250 ms',
      rows: [
        {
          promotions: PROMOTIONS,
          accepted: latencies.length,
          promoted,
          p50Ms: round(percentile(latencies, 0.5)),
          p99Ms: round(percentile(latencies, 0.99)),
          maxMs: round(latencies.at(-1) ?? Number.NaN),
          withinTarget: percentile(latencies, 0.99) < 250,
        },
      ],
    };
  } finally {
    await stack.stop();
  }
}
