/**
 * The scale path of the intraday-cohort state machine on the real local stack (DynamoDB Local,
 * the s3rver S3 emulator, the real handlers, real 2013-10-07 minute bars): a 600-agent cohort
 * with 250 agents per shard runs through PlanCohortShards -> RunCohortShards (the Distributed
 * Map, rewritten for the local interpreter by local/asl-transform.ts: 3 shards) ->
 * MergeCohortShards -> the unchanged score/persist/audit steps.
 *
 * The machine is loaded here rather than through `startLocalStack` so that the shard size can
 * be chosen per machine (the `CohortShardAgents` substitution) and the definition transformed
 * before the runner loads it (see `loadIntradayCohort`).
 */

import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { composeRuntime, type Runtime } from '../../functions/composition/runtime.js';
import { readRuntimeEnv } from '../../functions/config/env.js';
import type { SimulationResult } from '../../functions/core/cohort/simulate.js';
import { readSimulation } from '../../functions/core/use-cases/simulation-artifact.js';
import { systemClock } from '../../functions/ports/clock.js';
import {
  type LocalFunction,
  LocalStateMachine,
  localFunctionArn,
  substitute,
} from '../../local/asl-runner.js';
import { localBatcherStateName, toLocalDefinition } from '../../local/asl-transform.js';
import { LOCAL_BUCKETS, LOCAL_TABLE } from '../../local/local-stack.js';
import {
  ensureTable,
  LOCAL_CREDENTIALS,
  LOCAL_REGION,
  type LocalServers,
  startLocalServers,
} from '../../local/servers.js';
import { readAuditObjects } from '../support/audit.js';
import { DATA_ROOT, REPO_ROOT } from '../support/paths.js';

/** The intraday cohort's functions (placeholder `<name>FunctionArn`), bound to `rt`. */
async function cohortFunctions(rt: Runtime): Promise<LocalFunction[]> {
  const modules = {
    LoadMarketData: import('../../functions/handlers/load-market-data.js'),
    RunCohort: import('../../functions/handlers/run-cohort.js'),
    PlanCohortShards: import('../../functions/handlers/plan-cohort-shards.js'),
    RunCohortShard: import('../../functions/handlers/run-cohort-shard.js'),
    MergeCohortShards: import('../../functions/handlers/merge-cohort-shards.js'),
    ScoreCohort: import('../../functions/handlers/score-cohort.js'),
    PersistCohort: import('../../functions/handlers/persist-cohort.js'),
    RecordAudit: import('../../functions/handlers/record-audit.js'),
  };
  return Promise.all(
    Object.entries(modules).map(async ([name, module]) => ({
      placeholder: `${name}FunctionArn`,
      name,
      handler: (await module).createHandler(() => rt) as unknown as LocalFunction['handler'],
    })),
  );
}

/**
 * Loads statemachines/intraday-cohort.asl.json with `shardAgents` agents per shard: the
 * placeholders substituted and the definition passed through `toLocalDefinition`, then
 * handed to the runner from a temporary file (its `load` reads files relative to
 * `statemachines/`).
 */
async function loadIntradayCohort(
  functions: readonly LocalFunction[],
  shardAgents: number,
  dir: string,
): Promise<LocalStateMachine> {
  const text = await readFile(
    path.join(REPO_ROOT, 'statemachines/intraday-cohort.asl.json'),
    'utf8',
  );
  const values = {
    ...Object.fromEntries(functions.map((f) => [f.placeholder, localFunctionArn(f.name)])),
    CohortShardAgents: String(shardAgents),
  };
  const file = path.join(dir, `shards-${shardAgents}`, 'intraday-cohort.asl.json');
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, JSON.stringify(toLocalDefinition(JSON.parse(substitute(text, values)))));
  return LocalStateMachine.load(
    path.relative(path.join(REPO_ROOT, 'statemachines'), file),
    functions,
  );
}

let servers: LocalServers;
let runtime: Runtime;
let sharded: LocalStateMachine;
let unsharded: LocalStateMachine;
let tmp: string;

beforeAll(async () => {
  servers = await startLocalServers({ dataDir: 'memory', buckets: Object.values(LOCAL_BUCKETS) });
  const env = readRuntimeEnv({
    STAGE: 'local',
    TABLE_NAME: LOCAL_TABLE,
    ARTIFACTS_BUCKET: LOCAL_BUCKETS.artifacts,
    AUDIT_BUCKET: LOCAL_BUCKETS.audit,
    MARKET_DATA_URI: pathToFileURL(path.resolve(DATA_ROOT)).href,
    DYNAMODB_ENDPOINT: servers.dynamoEndpoint,
    S3_ENDPOINT: servers.s3Endpoint,
    AWS_REGION: LOCAL_REGION,
  });
  runtime = composeRuntime(env, systemClock, LOCAL_CREDENTIALS);
  const ddb = new DynamoDBClient({
    endpoint: servers.dynamoEndpoint,
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
  });
  await ensureTable(ddb, LOCAL_TABLE);
  ddb.destroy();
  tmp = await mkdtemp(path.join(os.tmpdir(), 'stagegate-shards-'));
  const functions = await cohortFunctions(runtime);
  sharded = await loadIntradayCohort(functions, 250, tmp);
  unsharded = await loadIntradayCohort(functions, 1_000, tmp);
});

afterAll(async () => {
  await servers?.stop();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

const request = (overrides: Record<string, unknown> = {}) => ({
  source: 'test',
  sessionDate: '2013-10-07',
  symbols: ['SPY', 'BAC', 'AIG', 'IBM'],
  bankrollUsd: 5_000,
  agentCount: 600,
  allocation: 'risk-weighted',
  seed: 11,
  ...overrides,
});

async function auditRecords(stream: string): Promise<Array<Record<string, unknown>>> {
  return (await readAuditObjects(servers.s3Endpoint)).filter((r) => r.stream === stream);
}

async function simulation(cohortId: string): Promise<SimulationResult> {
  const record = await runtime.cohorts.get(cohortId);
  return readSimulation(runtime.artifacts, record.artifacts.simulationKey);
}

describe('intraday cohort, scale path (600 agents, 250 per shard)', () => {
  let shardedCohortId = '';

  it('fans out into 3 shards, merges, and persists 600 ranked agents with the usual audit record', async () => {
    // Act
    const result = await sharded.execute(request(), { executionName: 'it-shards-600' });

    // Assess: the execution's path
    expect(result.status).toBe('SUCCEEDED');
    expect(result.path.filter((s) => s !== 'RunCohortShard')).toEqual([
      'Init',
      'LoadMarketData',
      'SessionOpen?',
      'ShardCohort?',
      'PlanCohortShards',
      localBatcherStateName('RunCohortShards'),
      'RunCohortShards',
      'MergeCohortShards',
      'ScoreCohort',
      'PersistCohort',
      'RecordCohortScored',
      'Done',
    ]);
    const shards = (result.stateOutputs.RunCohortShards as { shards: { agentCount: number }[] })
      .shards;
    expect(shards.map((s) => s.agentCount)).toEqual([250, 250, 100]);
    shardedCohortId = (result.output as { cohortId: string }).cohortId;

    // Assess: the persisted cohort
    const record = await runtime.cohorts.get(shardedCohortId);
    expect(record.agentCount).toBe(600);
    expect(record.leaderboard.map((r) => r.rank)).toEqual(
      Array.from({ length: 600 }, (_, i) => i + 1),
    );
    expect(new Set(record.leaderboard.map((r) => r.agentId)).size).toBe(600);
    const pnls = record.leaderboard.map((r) => r.totalPnlUsd);
    expect([...pnls].sort((a, b) => b - a)).toEqual(pnls);

    // Assess: the merged artifact conserves cash and keeps the cohort ceiling
    const merged = await simulation(shardedCohortId);
    expect(merged.agents).toHaveLength(600);
    const cap = merged.config.maxAggregateExposure * merged.bankrollUsd;
    for (const t of [0, 100, 200, 389]) {
      const equity = merged.agents.reduce((sum, a) => sum + (a.equityCurve[t] as number), 0);
      expect(merged.parent.equityCurve[t]).toBeCloseTo(
        merged.parent.unallocatedCashUsd + equity,
        6,
      );
    }
    expect(Math.max(...merged.parent.grossExposureCurve)).toBeLessThanOrEqual(cap + 0.01);

    // Assess: the audit record is the small path's cohort_scored record
    const audit = await auditRecords('execution:it-shards-600');
    expect(audit.map((r) => r.kind)).toEqual(['cohort_scored']);
    expect(JSON.parse(audit[0]?.payload as string)).toMatchObject({
      cohort_id: shardedCohortId,
      session_date: '2013-10-07',
      agent_count: 600,
      simulation_key: `cohorts/2013-10-07/${shardedCohortId}/simulation.sga`,
    });
  });

  it('takes the single-Lambda path below the shard size, with an audit payload of the same shape', async () => {
    // Act
    const result = await sharded.execute(request({ agentCount: 30 }), {
      executionName: 'it-shards-small',
    });

    // Assess
    expect(result.status).toBe('SUCCEEDED');
    expect(result.path).toContain('RunCohort');
    expect(result.path).not.toContain('PlanCohortShards');
    const [small] = await auditRecords('execution:it-shards-small');
    const [large] = await auditRecords('execution:it-shards-600');
    const keys = (r: Record<string, unknown> | undefined) =>
      Object.keys(JSON.parse(r?.payload as string)).sort();
    expect(keys(small)).toEqual(keys(large));
    expect(Object.keys(small ?? {}).sort()).toEqual(Object.keys(large ?? {}).sort());
  });

  it('matches the unsharded run: same allocations and parent cash, same agents wherever the aggregate ceiling never touched them', async () => {
    // Act: the same request (same genome pool generation) on one Lambda
    const result = await unsharded.execute(request(), { executionName: 'it-unsharded-600' });

    // Assess
    expect(result.status).toBe('SUCCEEDED');
    expect(result.path).toContain('RunCohort');
    const reference = await simulation((result.output as { cohortId: string }).cohortId);
    const merged = await simulation(shardedCohortId);
    expect(merged.agents.map((a) => a.genome.id)).toEqual(reference.agents.map((a) => a.genome.id));
    expect(merged.agents.map((a) => a.allocationUsd)).toEqual(
      reference.agents.map((a) => a.allocationUsd),
    );
    expect(merged.parent.unallocatedCashUsd).toBe(reference.parent.unallocatedCashUsd);
    const untouched = (a: SimulationResult['agents'][number]) =>
      a.exposureBreaches === 0 && a.forcedReductions === 0;
    let compared = 0;
    merged.agents.forEach((agent, i) => {
      const ref = reference.agents[i] as SimulationResult['agents'][number];
      if (!(untouched(agent) && untouched(ref))) return;
      compared++;
      expect(agent.fills).toEqual(ref.fills);
      expect(agent.equityCurve).toEqual(ref.equityCurve);
    });
    expect(compared).toBeGreaterThan(300);
  });
});
