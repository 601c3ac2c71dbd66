/**
 * Structural rules of the intraday-cohort ASL that the local runner and AWS both rely on
 * (not a snapshot: each assertion names one rule).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { StateMachine } from 'aws-local-stepfunctions';
import { describe, expect, it } from 'vitest';
import { localFunctionArn, substitute } from '../../../local/asl-runner.js';
import { toLocalDefinition } from '../../../local/asl-transform.js';
import { REPO_ROOT } from '../../support/paths.js';

const text = readFileSync(path.join(REPO_ROOT, 'statemachines/intraday-cohort.asl.json'), 'utf8');
const FUNCTION_PLACEHOLDERS = {
  LoadMarketDataFunctionArn: localFunctionArn('LoadMarketData'),
  RunCohortFunctionArn: localFunctionArn('RunCohort'),
  PlanCohortShardsFunctionArn: localFunctionArn('PlanCohortShards'),
  RunCohortShardFunctionArn: localFunctionArn('RunCohortShard'),
  MergeCohortShardsFunctionArn: localFunctionArn('MergeCohortShards'),
  ScoreCohortFunctionArn: localFunctionArn('ScoreCohort'),
  PersistCohortFunctionArn: localFunctionArn('PersistCohort'),
  RecordAuditFunctionArn: localFunctionArn('RecordAudit'),
};
/** Agents per shard (a deployment setting: the CDK config, or COHORT_SHARD_AGENTS locally). */
const PLACEHOLDERS = { ...FUNCTION_PLACEHOLDERS, CohortShardAgents: '250' };

type Retrier = { ErrorEquals: string[] };
type Catcher = { ErrorEquals: string[]; Next: string; ResultPath?: string };
type State = {
  Type: string;
  Resource?: string;
  Parameters?: Record<string, unknown>;
  Catch?: Catcher[];
  Retry?: Retrier[];
  TimeoutSeconds?: number;
  Next?: string;
  Default?: string;
  Choices?: Record<string, unknown>[];
  ResultPath?: string;
  ItemsPath?: string;
  ItemBatcher?: Record<string, unknown>;
  ItemProcessor?: { ProcessorConfig?: Record<string, unknown>; States: Record<string, State> };
  [key: string]: unknown;
};
type Definition = { StartAt: string; States: Record<string, State> };
const definition = JSON.parse(substitute(text, PLACEHOLDERS)) as Definition;
const states = definition.States;

/** Every state, nested ones (Map processors) included. */
function allStates(def: { States: Record<string, State> }): [string, State][] {
  return Object.entries(def.States).flatMap(([name, state]) => [
    [name, state] as [string, State],
    ...(state.ItemProcessor ? allStates(state.ItemProcessor) : []),
  ]);
}
const tasks = allStates(definition).filter(([, s]) => s.Type === 'Task');
const state = (name: string): State => {
  const found = states[name];
  if (!found) throw new Error(`no state ${name}`);
  return found;
};

describe('intraday-cohort.asl.json', () => {
  it('is valid ASL once its placeholders are substituted, as is its local twin', () => {
    expect(() => new StateMachine(definition as never)).not.toThrow();
    expect(() => new StateMachine(toLocalDefinition(definition) as never)).not.toThrow();
  });

  it('uses exactly the function placeholders and the shard size', () => {
    const used = new Set([...text.matchAll(/\$\{([A-Za-z0-9_]+)\}/g)].map((m) => m[1]));
    expect([...used].sort()).toEqual(Object.keys(PLACEHOLDERS).sort());
  });

  it('gives every task, nested ones included, a timeout and a retry on TransientError', () => {
    expect(tasks.map(([name]) => name)).toContain('RunCohortShard');
    for (const [name, s] of tasks) {
      expect(s.TimeoutSeconds, name).toBeGreaterThan(0);
      expect(
        s.Retry?.some((r) => r.ErrorEquals.includes('TransientError')),
        name,
      ).toBe(true);
    }
  });

  it('routes every failure of a work step to a recording state before failing', () => {
    const work = Object.entries(states).filter(
      ([name, s]) => (s.Type === 'Task' || s.Type === 'Map') && !name.startsWith('Record'),
    );
    expect(work.map(([n]) => n)).toEqual([
      'LoadMarketData',
      'RunCohort',
      'PlanCohortShards',
      'RunCohortShards',
      'MergeCohortShards',
      'ScoreCohort',
      'PersistCohort',
    ]);
    for (const [name, s] of work) {
      const all = s.Catch?.find((c) => c.ErrorEquals.includes('States.ALL'));
      expect(all?.Next, name).toBe('RecordFailure');
    }
    const inputErrors = [
      'ValidationError',
      'UnknownSymbolError',
      'NoSessionError',
      'DataFileMissingError',
      'DataFileCorruptError',
    ];
    for (const name of ['LoadMarketData', 'RunCohort', 'PlanCohortShards']) {
      const first = state(name).Catch?.[0];
      expect(first?.ErrorEquals, name).toEqual(expect.arrayContaining(inputErrors));
      expect(first?.Next, name).toBe('RecordRejection');
    }
  });

  it('refuses to load with an unknown placeholder', () => {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: an ASL placeholder, not a template
    expect(() => substitute('{"a":"${Nope}"}', {})).toThrow(/Nope/);
  });
});

describe('intraday-cohort.asl.json, the scale path', () => {
  it('reads the shard size once, in Init, from the CohortShardAgents substitution', () => {
    expect(state('Init').Parameters).toEqual({
      'request.$': '$',
      sharding: { 'shardAgents.$': "States.StringToJson('250')" },
    });
  });

  it('sends cohorts above the shard size to PlanCohortShards and the others to RunCohort', () => {
    expect(state('SessionOpen?').Default).toBe('ShardCohort?');
    expect(state('ShardCohort?')).toMatchObject({
      Type: 'Choice',
      Choices: [
        {
          Variable: '$.prepared.config.agentCount',
          NumericGreaterThanPath: '$.sharding.shardAgents',
          Next: 'PlanCohortShards',
        },
      ],
      Default: 'RunCohort',
    });
  });

  it('fans out with a Distributed Map of STANDARD children batched by the shard size', () => {
    const map = state('RunCohortShards');
    expect(state('PlanCohortShards')).toMatchObject({
      Parameters: { 'shardAgents.$': '$.sharding.shardAgents' },
      ResultPath: '$.plan',
      Next: 'RunCohortShards',
    });
    expect(map.Type).toBe('Map');
    expect(map.ItemProcessor?.ProcessorConfig).toEqual({
      Mode: 'DISTRIBUTED',
      ExecutionType: 'STANDARD',
    });
    expect(map.ItemsPath).toBe('$.plan.items');
    expect(map.ItemBatcher).toEqual({
      MaxItemsPerBatchPath: '$.sharding.shardAgents',
      BatchInput: { 'prepared.$': '$.prepared', 'planKey.$': '$.plan.planKey' },
    });
    expect(map.MaxConcurrency).toBeGreaterThan(0);
    expect(map.ToleratedFailurePercentage).toBe(0);
    // Claim check: no S3 reader/writer, the items and results are small.
    expect(map).not.toHaveProperty('ItemReader');
    expect(map).not.toHaveProperty('ResultWriter');
  });

  it('runs RunCohortShard on { Items, BatchInput } in each child, with its own retry', () => {
    const child = state('RunCohortShards').ItemProcessor?.States.RunCohortShard;
    expect(child).toMatchObject({
      Type: 'Task',
      Resource: localFunctionArn('RunCohortShard'),
      Parameters: {
        'prepared.$': '$.BatchInput.prepared',
        'planKey.$': '$.BatchInput.planKey',
        'agentIndices.$': '$.Items',
      },
      End: true,
    });
    expect(child?.Catch).toBeUndefined();
  });

  it('catches a failed fan-out only as a workflow failure (AWS reports States.ExceedToleratedFailureThreshold)', () => {
    expect(state('RunCohortShards').Catch).toEqual([
      { ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'RecordFailure' },
    ]);
  });

  it('merges into $.run and rejoins the unsharded path at ScoreCohort', () => {
    expect(state('RunCohortShards')).toMatchObject({
      ResultPath: '$.shards',
      Next: 'MergeCohortShards',
    });
    expect(state('MergeCohortShards')).toMatchObject({
      Parameters: { 'prepared.$': '$.prepared', 'plan.$': '$.plan', 'shards.$': '$.shards' },
      ResultPath: '$.run',
      Next: 'ScoreCohort',
    });
    expect(state('RunCohort')).toMatchObject({ ResultPath: '$.run', Next: 'ScoreCohort' });
  });
});
