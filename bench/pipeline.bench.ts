/**
 * Local stage-to-first-tick latency of the promotion pipeline with the simulated broker: 100
 * promotions executed by the local ASL interpreter with the real handlers, DynamoDB Local
 * and the S3 emulator; latency = wall time from entering StageCandidate (stage, promotion
 * window, gates, StartSession of the nested paper session) to leaving the paper session's
 * first Tick (the genome's first minute decided and, when it trades, its order accepted by
 * the broker). Each execution is then aborted: the rest of the session is the paper-session
 * bench's subject (`npx tsx bench/run.ts paper-session`). Target p99 < 250 ms. The 1-min load
 * average (min, max over the run) is recorded: latency on the shared 2 cores is mostly the load's.
 */
import os from 'node:os';
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
    const load = [os.loadavg()[0] ?? 0];
    let promoted = 0;
    for (let i = 0; i < PROMOTIONS; i++) {
      // Each promotion replays a different minute of the next session's window.
      stack.clock.set(Date.parse('2013-10-08T14:00:00Z') + i * 3 * 60_000);
      let staged = 0;
      let accepted = 0;
      const abort = new AbortController();
      await stack.promotionPipeline.execute(
        { source: 'cli', cohortId },
        {
          executionName: `bench-promo-${i}`,
          signal: abort.signal,
          onProgress: (e) => {
            if (e.type === 'StateEntered' && e.state === 'StageCandidate')
              staged = performance.now();
            if (e.type === 'StateEntered' && e.state === 'PaperSession') promoted++;
            if (e.type === 'StateExited' && e.state === 'Tick' && accepted === 0) {
              accepted = performance.now();
              abort.abort();
            }
          },
        },
      );
      if (staged > 0 && accepted > 0) latencies.push(accepted - staged);
      if (i % 10 === 9) load.push(os.loadavg()[0] ?? 0);
    }
    latencies.sort((a, b) => a - b);
    const round = (v: number) => Math.round(v * 10) / 10;
    return {
      name: 'pipeline-latency',
      description:
        'promotion pipeline, local stage-to-first-tick latency (ms) over 100 promotions with the simulated broker (gates passed, paper session started, first minute decided and sent); target p99 < 250 ms',
      rows: [
        {
          promotions: PROMOTIONS,
          accepted: latencies.length,
          promoted,
          p50Ms: round(percentile(latencies, 0.5)),
          p99Ms: round(percentile(latencies, 0.99)),
          maxMs: round(latencies.at(-1) ?? Number.NaN),
          withinTarget: percentile(latencies, 0.99) < 250,
          loadMin: round(Math.min(...load)),
          loadMax: round(Math.max(...load)),
        },
      ],
    };
  } finally {
    await stack.stop();
  }
}
