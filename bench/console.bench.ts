/**
 * Operator console: API latency on a real local stack (DynamoDB Local, the S3 emulator) with a
 * 1,000-agent cohort, and the page weight of the console's first load.
 *
 * - `GET /api/cohorts` and `GET /api/cohorts/{id}` (1,000-agent leaderboard, curves, PSR/DSR)
 *   through the local console server (the same handler code as the Lambda): 40 sequential
 *   requests each after 3 warm-ups; p50 and p99 (nearest rank) in ms. Target: p99 < 500 ms
 *   for the list, < 2,000 ms for the cohort.
 * - Page weight: bytes of the files the first load fetches (HTML, app JS/CSS, uPlot), raw and
 *   gzip -6. Time to first render is not measured here (it needs a browser).
 *
 * Data root: `STAGEGATE_DATA_ROOT`, else `../shared/data/lean` relative to the repo root.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { buildConsoleApi } from '../functions/composition/console.js';
import { startConsoleServer } from '../local/console-server.js';
import { ConsoleUsers } from '../local/console-users.js';
import { localCohortStarter } from '../local/local-cohort-starter.js';
import { startLocalStack } from '../local/local-stack.js';
import type { BenchReport } from './run.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const RUNS = 40;

function quantile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] as number;
}

export default async function consoleBench(): Promise<BenchReport> {
  const dataRoot = process.env.STAGEGATE_DATA_ROOT ?? path.resolve(repoRoot, '../shared/data/lean');
  const stack = await startLocalStack({ dataRoot, stateDir: 'memory', logLevel: 'SILENT' });
  const rows: Record<string, string | number | boolean>[] = [];
  try {
    const r = await stack.intradayCohort.execute(
      {
        source: 'test',
        sessionDate: '2013-10-08',
        symbols: ['SPY', 'BAC', 'AIG', 'IBM'],
        bankrollUsd: 100_000,
        agentCount: 1000,
        allocation: 'equal',
        seed: 1,
      },
      { executionName: 'bench-console-1000' },
    );
    if (r.status !== 'SUCCEEDED') throw new Error(`cohort: ${r.error} ${r.cause}`);
    const cohortId = (r.output as { cohortId: string }).cohortId;
    const users = await ConsoleUsers.load('memory');
    const server = await startConsoleServer({
      api: buildConsoleApi(stack.runtime, {
        promotionDeps: () => stack.promotion,
        approvalDeps: () => stack.approvalDeps(),
        cohortStarter: () => localCohortStarter(stack.intradayCohort),
      }),
      users,
      audit: stack.runtime.audit,
      environment: 'local',
    });
    try {
      const auth = { authorization: `Bearer ${users.tokenFor('vera')}` };
      for (const [label, route, target] of [
        ['GET /api/cohorts', '/api/cohorts?limit=50', 500],
        [`GET /api/cohorts/{id} (1,000 agents)`, `/api/cohorts/${cohortId}`, 2000],
      ] as const) {
        const times: number[] = [];
        let bytes = 0;
        for (let i = 0; i < RUNS + 3; i++) {
          const t0 = performance.now();
          const res = await fetch(new URL(route, server.url), { headers: auth });
          const body = await res.arrayBuffer();
          const ms = performance.now() - t0;
          if (res.status !== 200) throw new Error(`${route}: HTTP ${res.status}`);
          bytes = body.byteLength;
          if (i >= 3) times.push(ms);
        }
        times.sort((a, b) => a - b);
        rows.push({
          measure: label,
          p50Ms: Math.round(quantile(times, 0.5)),
          p99Ms: Math.round(quantile(times, 0.99)),
          responseKiB: Math.round(bytes / 1024),
          targetP99Ms: target,
          meetsTarget: quantile(times, 0.99) < target,
        });
      }
    } finally {
      await server.close();
    }
  } finally {
    await stack.stop();
  }
  let raw = 0;
  let gz = 0;
  for (const f of [
    'console/index.html',
    'console/app.js',
    'console/app.css',
    'node_modules/uplot/dist/uPlot.iife.min.js',
    'node_modules/uplot/dist/uPlot.min.css',
  ]) {
    const b = await readFile(path.join(repoRoot, f));
    raw += b.byteLength;
    gz += gzipSync(b, { level: 6 }).byteLength;
  }
  rows.push({
    measure: 'console first load (HTML, JS, CSS, uPlot)',
    p50Ms: '',
    p99Ms: '',
    responseKiB: `${Math.round(raw / 1024)} raw, ${Math.round(gz / 1024)} gzip`,
    targetP99Ms: '',
    meetsTarget: gz < 200 * 1024,
  });
  return {
    name: 'console',
    description: `console API p50/p99 over ${RUNS} requests on the local server (1,000-agent cohort); page weight (target < 200 KiB gzip)`,
    rows,
  };
}
