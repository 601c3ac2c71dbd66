/**
 * Paper-session benchmark (measures, never asserts):
 * - tick latency: whole replayed sessions (the 3 most active genomes of a seeded 30-agent
 *   cohort on each of 3 shared sessions) through the simulated paper broker (in-memory store),
 *   the LEAN files and the order-intent protocol (in-memory audit sink); one tick = the bar
 *   just became available -> read the bars up to now, rebuild the strategy, size, check, and
 *   send (order accepted by the broker). p50/p99 over every tick, and over the ticks that sent
 *   an order. Target: p99 < 100 ms locally.
 * - the AWS cost of one paper session-day, counted from the same runs and the ASL shape
 *   (`statemachines/paper-session.asl.json`: per tick a Choice, a Wait and the Tick task),
 *   with the measured task times standing in for Lambda durations at the deployed memory
 *   (lib/handlers.ts), priced as in `cost.bench.ts` (docs/cost.md).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { SimulatedPaperBroker } from '../functions/adapters/brokers/simulated-broker.js';
import { FileSystemBlobSource } from '../functions/adapters/market-data/blob-source.js';
import { LeanMarketData } from '../functions/adapters/market-data/lean-market-data.js';
import { parseCohortConfig } from '../functions/core/cohort/config.js';
import { seedGenomePool } from '../functions/core/cohort/genome.js';
import { simulateCohort } from '../functions/core/cohort/simulate.js';
import type { ExchangeConfig } from '../functions/core/exchange/exchange-model.js';
import { type PaperSessionState, paperTick } from '../functions/core/paper/paper-session.js';
import { runReferenceSession } from '../functions/core/paper/reference.js';
import { ManualClock } from '../functions/ports/clock.js';
import type { KillSwitchPort } from '../functions/ports/kill-switch.js';
import { PIPELINE_HANDLERS } from '../lib/handlers.js';
import { MemoryAuditSink } from '../test/support/doubles/memory-audit-sink.js';
import { InMemorySimulatedBrokerStore } from '../test/support/doubles/memory-simulated-broker-store.js';
import { paperSessionFixture } from '../test/support/paper-session-fixture.js';
import { DATA_ROOT, REPO_ROOT } from '../test/support/paths.js';
import { PRICES } from './cost.bench.js';
import type { BenchReport } from './run.js';

const SESSIONS = ['2013-10-07', '2013-10-08', '2013-10-09'];
const SYMBOLS = ['SPY', 'BAC', 'AIG', 'IBM'];
const costs = parseCohortConfig({ bankrollUsd: 1_000 });
const EXCHANGE: ExchangeConfig = {
  participationFraction: 1,
  latencyMs: 1_000,
  costs,
  fractionalShares: true,
  buyingPowerMultiplier: 1,
};
const off: KillSwitchPort = { read: async () => null, set: async () => undefined };

const quantile = (xs: readonly number[], q: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return Number.NaN;
  return s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)] as number;
};
const ms = (x: number) => Math.round(x * 1000) / 1000;

async function genomesOf(marketData: LeanMarketData, date: string, seed: number) {
  const session = await marketData.loadSession(date, SYMBOLS);
  const result = simulateCohort({
    cohortId: `bench-${date}`,
    session,
    genomes: seedGenomePool(30, SYMBOLS, seed),
    config: parseCohortConfig({ bankrollUsd: 1_000, agentCount: 30, seed }),
  });
  return {
    openMs: session.timestamps[0] as number,
    genomes: [...result.agents]
      .sort((a, b) => b.tradeCount - a.tradeCount)
      .slice(0, 3)
      .map((a) => a.genome),
  };
}

/** Tasks of the paper-session definition (Choice and Wait states are the rest). */
function transitionsPerTick(): number {
  const def = JSON.parse(
    readFileSync(path.join(REPO_ROOT, 'statemachines', 'paper-session.asl.json'), 'utf8'),
  ) as { States: Record<string, { Type: string }> };
  // SessionOver? -> WaitForNextMinute -> Tick: each state entered is one transition.
  return ['SessionOver?', 'WaitForNextMinute', 'Tick'].filter((s) => def.States[s]).length;
}

export default async function paperSessionBench(): Promise<BenchReport> {
  const marketData = new LeanMarketData(new FileSystemBlobSource(DATA_ROOT));
  const all: number[] = [];
  const sending: number[] = [];
  const finishMs: number[] = [];
  let sessions = 0;
  let ticks = 0;
  let orders = 0;
  for (const [d, date] of SESSIONS.entries()) {
    const { openMs, genomes } = await genomesOf(marketData, date, 21 + d);
    for (const [k, genome] of genomes.entries()) {
      const start: PaperSessionState = paperSessionFixture({
        promotionId: `PBENCH${d}${k}`,
        genome,
        date,
        openMs,
        costs,
      });
      const clock = new ManualClock(start.startedAtMs);
      const broker = new SimulatedPaperBroker({
        store: new InMemorySimulatedBrokerStore(),
        marketData,
        clock,
        config: { ...EXCHANGE, startingCashUsd: 100_000 },
      });
      const deps = {
        broker,
        marketData,
        clock,
        killSwitch: off,
        intentTrail: {
          audit: new MemoryAuditSink(clock),
          environment: 'local' as const,
          actor: 'stagegate/paper-session',
          stream: `promotion:${start.promotionId}`,
          subject: { promotion_id: start.promotionId },
        },
      };
      let state = start;
      while (!state.done) {
        const t0 = performance.now();
        const out = await paperTick(deps, state);
        const dt = performance.now() - t0;
        all.push(dt);
        if (out.decision.orders.length > 0) sending.push(dt);
        ticks++;
        state = out.state;
        clock.set(clock.now() + out.waitSeconds * 1_000);
      }
      orders += state.orders.length;
      const f0 = performance.now();
      await runReferenceSession(marketData, start, EXCHANGE);
      finishMs.push(performance.now() - f0);
      sessions++;
    }
  }
  const perSession = ticks / sessions;
  const tickMb = PIPELINE_HANDLERS.paperTick.memoryMb;
  const finishMb = PIPELINE_HANDLERS.finishPaperSession.memoryMb;
  const meanTickS = all.reduce((a, b) => a + b, 0) / all.length / 1000;
  const meanFinishS = finishMs.reduce((a, b) => a + b, 0) / finishMs.length / 1000;
  const transitions = 1 + perSession * transitionsPerTick() + 3; // Start, ticks, Choice+Finish+Done
  const invocations = perSession + 2;
  // A start step costs about one tick; each invocation is billed at least 1 ms.
  const gbS = ((perSession + 1) * meanTickS * tickMb) / 1024 + (meanFinishS * finishMb) / 1024;
  const usd =
    transitions * PRICES.stepFunctionsPerTransition +
    invocations * PRICES.lambdaPerRequest +
    gbS * PRICES.lambdaPerGbSecondArm;
  return {
    name: 'paper-session',
    description:
      'paper-session tick latency (bar available -> order accepted) over whole replayed sessions with the simulated broker, target p99 < 100 ms; AWS cost of one paper session-day (docs/cost.md)',
    rows: [
      {
        case: 'every tick',
        sessions,
        ticks,
        p50Ms: ms(quantile(all, 0.5)),
        p99Ms: ms(quantile(all, 0.99)),
        maxMs: ms(Math.max(...all)),
        withinTarget: quantile(all, 0.99) < 100,
      },
      {
        case: 'ticks that sent an order',
        sessions,
        ticks: sending.length,
        p50Ms: ms(quantile(sending, 0.5)),
        p99Ms: ms(quantile(sending, 0.99)),
        maxMs: ms(Math.max(...sending)),
        withinTarget: quantile(sending, 0.99) < 100,
      },
      {
        case: 'Finish: reference simulation (mean)',
        sessions,
        ticks: orders,
        p50Ms: ms(quantile(finishMs, 0.5)),
        p99Ms: ms(quantile(finishMs, 0.99)),
        maxMs: ms(Math.max(...finishMs)),
        withinTarget: true,
      },
      {
        case: 'AWS per paper session-day: state transitions',
        perSessionDay: Math.round(transitions),
        usd: Number((transitions * PRICES.stepFunctionsPerTransition).toFixed(5)),
      },
      {
        case: 'AWS per paper session-day: execution history events (limit 25,000)',
        perSessionDay: Math.round(perSession * 9 + 12),
        withinTarget: perSession * 9 + 12 < 25_000,
      },
      {
        case: 'AWS per paper session-day: Lambda invocations',
        perSessionDay: Math.round(invocations),
        usd: Number((invocations * PRICES.lambdaPerRequest).toFixed(5)),
      },
      {
        case: 'AWS per paper session-day: Lambda GB-s (local task time)',
        perSessionDay: Number(gbS.toFixed(3)),
        usd: Number((gbS * PRICES.lambdaPerGbSecondArm).toFixed(5)),
      },
      {
        case: 'AWS per paper session-day: TOTAL (Step Functions + Lambda)',
        perSessionDay: '',
        usd: Number(usd.toFixed(5)),
      },
    ],
  };
}
