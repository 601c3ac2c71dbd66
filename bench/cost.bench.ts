/**
 * Cost per cohort-day, counted from a local replay (3 sessions, 30 agents, $1,000): state
 * transitions (StateEntered events), Lambda invocations and GB-seconds (task time measured
 * locally × the memory each function is deployed with, lib/handlers.ts), DynamoDB request
 * units and S3 requests (every SDK call the composition root's clients made), priced at
 * published us-east-1 list prices. Target: < $0.05 per cohort-day for 30 agents.
 *
 * A cohort-day is everything the schedules fire on one session: the cohort, the promotion
 * and the learning cycles. Approximations (stated in docs/cost.md): local task time stands
 * in for Lambda duration (no cold starts, a faster CPU than 1 vCPU); each DynamoDB write is
 * priced at 2 WRU (items here are 1-2 KB), each read at 1 RRU, a transactional write at 2×.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { awsRequestCounts, resetAwsRequestCounts } from '../functions/composition/runtime.js';
import { ManualClock } from '../functions/ports/clock.js';
import { DEPLOYED_HANDLERS } from '../lib/handlers.js';
import { startLocalStack } from '../local/local-stack.js';
import { replay } from '../local/replay.js';
import { DATA_ROOT, REPO_ROOT } from '../test/support/paths.js';
import type { BenchReport } from './run.js';

/** Published list prices, us-east-1, checked 2026-11 (USD). */
export const PRICES = {
  stepFunctionsPerTransition: 0.000025,
  lambdaPerGbSecondArm: 0.0000133334,
  lambdaPerRequest: 0.0000002,
  dynamoPerWru: 0.000000625,
  dynamoPerRru: 0.000000125,
  s3PerPut: 0.000005,
  s3PerGet: 0.0000004,
};

const SESSIONS = ['2013-10-07', '2013-10-08', '2013-10-09'];

/** Task state name -> deployed memory (MB), from the ASL files and lib/handlers.ts. */
function taskMemory(): Map<string, number> {
  const byPlaceholder = new Map(DEPLOYED_HANDLERS.map((h) => [h.aslPlaceholder, h.memoryMb]));
  const out = new Map<string, number>();
  for (const file of ['intraday-cohort', 'promotion-pipeline', 'learning-cycle']) {
    const def = JSON.parse(
      readFileSync(path.join(REPO_ROOT, 'statemachines', `${file}.asl.json`), 'utf8'),
    ) as {
      States: Record<string, { Type: string; Resource?: string }>;
    };
    for (const [name, st] of Object.entries(def.States)) {
      const placeholder = /\$\{(\w+)\}/.exec(st.Resource ?? '')?.[1];
      if (st.Type === 'Task' && placeholder)
        out.set(`${file}/${name}`, byPlaceholder.get(placeholder) ?? 1024);
    }
  }
  return out;
}

export default async function (): Promise<BenchReport> {
  const memory = taskMemory();
  const clock = new ManualClock(0);
  const stack = await startLocalStack({
    dataRoot: DATA_ROOT,
    stateDir: 'memory',
    logLevel: 'SILENT',
    clock,
    brokerAccount: 'bench-cost',
  });
  let transitions = 0;
  let invocations = 0;
  let gbSeconds = 0;
  const entered = new Map<string, number>();
  try {
    resetAwsRequestCounts();
    await replay(stack, {
      sessions: SESSIONS,
      symbols: ['SPY', 'BAC', 'AIG', 'IBM'],
      bankrollUsd: 1000,
      agentCount: 30,
      allocation: 'equal',
      seed: 1,
      reportDir: path.join(REPO_ROOT, '.local', 'bench-reports'),
      out: () => undefined,
      onEvent: (e) => {
        if (!e.state) return;
        const key = `${e.machine}/${e.state}`;
        if (e.type === 'StateEntered') {
          transitions++;
          entered.set(key, e.atMs);
        } else if (e.type === 'StateExited' && memory.has(key)) {
          invocations++;
          gbSeconds +=
            (((e.atMs - (entered.get(key) ?? e.atMs)) / 1000) * (memory.get(key) ?? 1024)) / 1024;
        }
      },
    });
  } finally {
    await stack.stop();
  }
  const counts = awsRequestCounts();
  let wru = 0;
  let rru = 0;
  let s3Put = 0;
  let s3Get = 0;
  for (const [key, n] of counts) {
    const [service, command = ''] = key.split(':');
    if (service === 'dynamodb') {
      if (/^(Put|Update|Delete)/.test(command)) wru += 2 * n;
      else if (command.startsWith('BatchWrite')) wru += 2 * 25 * n;
      else if (command.startsWith('TransactWrite')) wru += 2 * 2 * 2 * n;
      else rru += n;
    } else if (service === 's3') {
      if (/^(Put|Copy|List|Create)/.test(command)) s3Put += n;
      else s3Get += n;
    }
  }
  const days = SESSIONS.length;
  const cost = {
    stepFunctions: transitions * PRICES.stepFunctionsPerTransition,
    lambda: gbSeconds * PRICES.lambdaPerGbSecondArm + invocations * PRICES.lambdaPerRequest,
    dynamodb: wru * PRICES.dynamoPerWru + rru * PRICES.dynamoPerRru,
    s3: s3Put * PRICES.s3PerPut + s3Get * PRICES.s3PerGet,
  };
  const total = cost.stepFunctions + cost.lambda + cost.dynamodb + cost.s3;
  const perDay = (v: number) => Number((v / days).toFixed(6));
  return {
    name: 'cost',
    description:
      'cost per cohort-day (30 agents, cohort + promotion + 2 learning cycles), counted from a 3-session local replay, priced at us-east-1 list prices; target < $0.05',
    rows: [
      {
        item: 'state transitions',
        perDay: perDay(transitions),
        usdPerDay: perDay(cost.stepFunctions),
      },
      {
        item: 'Lambda invocations',
        perDay: perDay(invocations),
        usdPerDay: perDay(invocations * PRICES.lambdaPerRequest),
      },
      {
        item: 'Lambda GB-s (local task time)',
        perDay: perDay(gbSeconds),
        usdPerDay: perDay(gbSeconds * PRICES.lambdaPerGbSecondArm),
      },
      {
        item: 'DynamoDB WRU (est.)',
        perDay: perDay(wru),
        usdPerDay: perDay(wru * PRICES.dynamoPerWru),
      },
      {
        item: 'DynamoDB RRU (est.)',
        perDay: perDay(rru),
        usdPerDay: perDay(rru * PRICES.dynamoPerRru),
      },
      { item: 'S3 PUT/LIST', perDay: perDay(s3Put), usdPerDay: perDay(s3Put * PRICES.s3PerPut) },
      { item: 'S3 GET/HEAD', perDay: perDay(s3Get), usdPerDay: perDay(s3Get * PRICES.s3PerGet) },
      {
        item: 'TOTAL per cohort-day',
        perDay: '',
        usdPerDay: perDay(total),
        withinTarget: total / days < 0.05,
      },
    ],
  };
}
