/**
 * Structural rules of the intraday-cohort ASL that the local runner and AWS both rely on
 * (not a snapshot: each assertion names one rule).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { StateMachine } from 'aws-local-stepfunctions';
import { describe, expect, it } from 'vitest';
import { localFunctionArn, substitute } from '../../../local/asl-runner.js';
import { REPO_ROOT } from '../../support/paths.js';

const text = readFileSync(path.join(REPO_ROOT, 'statemachines/intraday-cohort.asl.json'), 'utf8');
const PLACEHOLDERS = {
  LoadMarketDataFunctionArn: localFunctionArn('LoadMarketData'),
  RunCohortFunctionArn: localFunctionArn('RunCohort'),
  ScoreCohortFunctionArn: localFunctionArn('ScoreCohort'),
  PersistCohortFunctionArn: localFunctionArn('PersistCohort'),
  RecordAuditFunctionArn: localFunctionArn('RecordAudit'),
};
type State = {
  Type: string;
  Resource?: string;
  Catch?: { ErrorEquals: string[]; Next: string }[];
  Retry?: { ErrorEquals: string[] }[];
  TimeoutSeconds?: number;
};
const definition = JSON.parse(substitute(text, PLACEHOLDERS)) as { States: Record<string, State> };
const tasks = Object.entries(definition.States).filter(([, s]) => s.Type === 'Task');

describe('intraday-cohort.asl.json', () => {
  it('is valid ASL once its placeholders are substituted', () => {
    expect(() => new StateMachine(definition as never)).not.toThrow();
  });

  it('uses exactly the five function placeholders', () => {
    const used = new Set([...text.matchAll(/\$\{([A-Za-z0-9_]+)\}/g)].map((m) => m[1]));
    expect([...used].sort()).toEqual(Object.keys(PLACEHOLDERS).sort());
  });

  it('gives every task a timeout and a retry on TransientError', () => {
    for (const [name, state] of tasks) {
      expect(state.TimeoutSeconds, name).toBeGreaterThan(0);
      expect(
        state.Retry?.some((r) => r.ErrorEquals.includes('TransientError')),
        name,
      ).toBe(true);
    }
  });

  it('routes every failure of a work step to a recording state before failing', () => {
    const work = tasks.filter(([name]) => !name.startsWith('Record'));
    expect(work.map(([n]) => n)).toEqual([
      'LoadMarketData',
      'RunCohort',
      'ScoreCohort',
      'PersistCohort',
    ]);
    for (const [name, state] of work) {
      const all = state.Catch?.find((c) => c.ErrorEquals.includes('States.ALL'));
      expect(all?.Next, name).toBe('RecordFailure');
    }
    const load = definition.States.LoadMarketData?.Catch?.[0];
    expect(load?.ErrorEquals).toEqual(
      expect.arrayContaining([
        'ValidationError',
        'UnknownSymbolError',
        'NoSessionError',
        'DataFileMissingError',
        'DataFileCorruptError',
      ]),
    );
    expect(load?.Next).toBe('RecordRejection');
  });

  it('refuses to load with an unknown placeholder', () => {
    expect(() => substitute('{"a":"${Nope}"}', {})).toThrow(/Nope/);
  });
});
