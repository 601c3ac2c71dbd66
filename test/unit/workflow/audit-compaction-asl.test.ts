/**
 * Structural rules of the audit-compaction ASL (not a snapshot: each assertion names one
 * rule), and its paths run with aws-local-stepfunctions with every Task replaced by a stub:
 * a verified day is compacted with an INSERT whose only runtime value is the verified date, a
 * broken chain is recorded as `workflow_failed` and fails before any Athena call, an empty day
 * ends `Skipped`.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { StateMachine } from 'aws-local-stepfunctions';
import { describe, expect, it } from 'vitest';
import { AUDIT_COLUMNS } from '../../../functions/core/audit/table-schema.js';
import { ValidationError } from '../../../functions/core/errors.js';
import { compactionDate } from '../../../functions/core/use-cases/audit-compaction.js';
import { localFunctionArn, substitute } from '../../../local/asl-runner.js';
import { REPO_ROOT } from '../../support/paths.js';

const text = readFileSync(path.join(REPO_ROOT, 'statemachines/audit-compaction.asl.json'), 'utf8');
const PLACEHOLDERS = {
  VerifyAuditDayFunctionArn: localFunctionArn('VerifyAuditDay'),
  RecordAuditFunctionArn: localFunctionArn('RecordAudit'),
  Stage: 'dev',
  AuditDatabase: 'stagegate_dev',
  AuditJsonTable: 'audit_jsonl',
  AuditParquetTable: 'audit_parquet',
  AuditWorkgroup: 'stagegate-dev',
};

type Catcher = { ErrorEquals: string[]; Next: string; ResultPath?: string };
type State = {
  Type: string;
  Resource?: string;
  Parameters?: Record<string, unknown>;
  Catch?: Catcher[];
  Retry?: { ErrorEquals: string[] }[];
  TimeoutSeconds?: number;
  Next?: string;
  End?: boolean;
  Default?: string;
  Choices?: Record<string, unknown>[];
};
const definition = JSON.parse(substitute(text, PLACEHOLDERS)) as {
  StartAt: string;
  States: Record<string, State>;
};
const states = definition.States;
const state = (name: string): State => {
  const s = states[name];
  if (!s) throw new Error(`no state ${name}`);
  return s;
};

type Calls = { verify: unknown[]; athena: Record<string, unknown>[]; audit: unknown[] };

async function execute(
  verify: (input: unknown) => Promise<unknown>,
): Promise<{ calls: Calls; outcome: 'succeeded' | 'failed'; output: unknown; error?: string }> {
  const calls: Calls = { verify: [], athena: [], audit: [] };
  const machine = new StateMachine(definition as never, {
    validationOptions: { checkPaths: true, checkArn: false },
  });
  const execution = machine.run(
    { source: 'schedule', scheduledTime: '2024-03-05T00:15:00Z' },
    {
      overrides: {
        taskResourceLocalHandlers: {
          VerifyAuditDay: async (input: unknown) => {
            calls.verify.push(input);
            return verify(input);
          },
          CompactDay: async (input: unknown) => {
            calls.athena.push(input as Record<string, unknown>);
            return {
              QueryExecution: {
                QueryExecutionId: 'q-1',
                Status: { State: 'SUCCEEDED' },
                Statistics: { DataScannedInBytes: 1234 },
              },
            };
          },
          RecordFailure: async (input: unknown) => {
            calls.audit.push(input);
            return { id: 'a', stream: 's', seq: 0, hash: 'h' };
          },
          RecordRejection: async (input: unknown) => {
            calls.audit.push(input);
            return { id: 'a', stream: 's', seq: 0, hash: 'h' };
          },
        } as never,
        retryIntervalOverrides: { VerifyAuditDay: 0, CompactDay: 0, RecordFailure: 0 },
      },
      context: {
        Execution: {
          Id: 'arn:aws:states:us-east-1:000000000000:execution:stagegate-dev-audit-compaction:e1',
          Name: 'e1',
        },
      },
    },
  );
  try {
    const output = await execution.result;
    return { calls, outcome: 'succeeded', output };
  } catch (err) {
    return { calls, outcome: 'failed', output: null, error: (err as Error).name };
  }
}

class AuditChainBrokenError extends Error {
  override name = 'AuditChainBrokenError';
}

describe('audit-compaction ASL structure', () => {
  it('verifies before it compacts', () => {
    // Prepare / Act
    const init = state(definition.StartAt);

    // Assess
    expect(definition.StartAt).toBe('Init');
    expect(init.Next).toBe('VerifyAuditDay');
    expect(state('VerifyAuditDay').Resource).toBe(PLACEHOLDERS.VerifyAuditDayFunctionArn);
    expect(state('VerifyAuditDay').Next).toBe('HasRecords');
    expect(state('HasRecords').Default).toBe('CompactDay');
  });

  it('compacts with the native Athena .sync integration in the stage workgroup', () => {
    // Prepare / Act
    const compact = state('CompactDay');

    // Assess
    expect(compact.Resource).toBe('arn:aws:states:::athena:startQueryExecution.sync');
    expect(compact.Parameters?.WorkGroup).toBe('stagegate-dev');
    expect(compact.Parameters?.QueryExecutionContext).toEqual({
      Catalog: 'AwsDataCatalog',
      Database: 'stagegate_dev',
    });
    expect(compact.Retry?.[0]?.ErrorEquals).toContain('Athena.TooManyRequestsException');
  });

  it('builds the SQL from the verified date only, with every audit column in order', () => {
    // Prepare
    const format = String(state('CompactDay').Parameters?.['QueryString.$']);

    // Act
    const args = /',\s*(.*)\)$/.exec(format)?.[1];
    const columns = /SELECT (.*) FROM/.exec(format)?.[1]?.split(', ');

    // Assess
    expect(format.startsWith("States.Format('INSERT INTO audit_parquet SELECT ")).toBe(true);
    expect(args).toBe('$.verified.date');
    expect(format.match(/\{\}/g)).toHaveLength(1);
    expect(format).toContain("WHERE env = \\'dev\\' AND dt = \\'{}\\'");
    expect(columns).toEqual([...AUDIT_COLUMNS.map((c) => c.name), 'env', 'dt']);
  });

  it('routes every failure through an audit record to Fail', () => {
    // Prepare
    const verifyCatch = state('VerifyAuditDay').Catch ?? [];
    const compactCatch = state('CompactDay').Catch ?? [];

    // Act
    const targets = Object.fromEntries(verifyCatch.map((c) => [c.ErrorEquals.join(), c.Next]));

    // Assess
    expect(targets).toEqual({
      ValidationError: 'RecordRejection',
      AuditChainBrokenError: 'RecordFailure',
      'States.ALL': 'RecordFailure',
    });
    expect(compactCatch).toEqual([
      { ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'RecordFailure' },
    ]);
    for (const name of ['RecordFailure', 'RecordRejection']) {
      expect(state(name).Resource).toBe(PLACEHOLDERS.RecordAuditFunctionArn);
      expect(state(name).Next).toBe('Failed');
    }
    expect(state('Failed').Type).toBe('Fail');
  });

  it('gives every Task a timeout', () => {
    // Prepare / Act
    const tasks = Object.entries(states).filter(([, s]) => s.Type === 'Task');

    // Assess
    expect(tasks.length).toBe(4);
    for (const [, s] of tasks) expect(s.TimeoutSeconds).toBeGreaterThan(0);
  });
});

describe('audit-compaction paths', () => {
  it('compacts a verified day with the verified date in the INSERT', async () => {
    // Prepare
    const verify = async () => ({
      date: '2024-03-04',
      environment: 'dev',
      records: 7,
      streams: 2,
      manifestKey: 'audit-manifests/env=dev/dt=2024-03-04.json',
    });

    // Act
    const run = await execute(verify);

    // Assess
    expect(run.outcome).toBe('succeeded');
    expect(run.calls.athena).toHaveLength(1);
    expect(run.calls.athena[0]?.QueryString).toBe(
      "INSERT INTO audit_parquet SELECT schema_version, id, ts, environment, kind, actor, stream, seq, subject, payload, prev_hash, hash, env, dt FROM audit_jsonl WHERE env = 'dev' AND dt = '2024-03-04' ORDER BY stream, seq",
    );
    expect(run.output).toEqual({
      date: '2024-03-04',
      environment: 'dev',
      records: 7,
      streams: 2,
      manifestKey: 'audit-manifests/env=dev/dt=2024-03-04.json',
      queryExecutionId: 'q-1',
      dataScannedInBytes: 1234,
    });
    expect(run.calls.audit).toEqual([]);
  });

  it('hands the schedule input to the verify step', async () => {
    // Prepare
    const verify = async () => ({
      date: '2024-03-04',
      environment: 'dev',
      records: 0,
      streams: 0,
      manifestKey: null,
    });

    // Act
    const run = await execute(verify);

    // Assess
    expect(run.calls.verify[0]).toEqual(
      expect.objectContaining({
        request: { source: 'schedule', scheduledTime: '2024-03-05T00:15:00Z' },
      }),
    );
  });

  it('records workflow_failed and compacts nothing when a chain is broken', async () => {
    // Prepare
    const verify = async () => {
      throw new AuditChainBrokenError('audit chain broken at cohort:c1#3 (hash-mismatch)');
    };

    // Act
    const run = await execute(verify);

    // Assess
    expect(run.outcome).toBe('failed');
    expect(run.calls.athena).toEqual([]);
    expect(run.calls.audit).toHaveLength(1);
    expect(run.calls.audit[0]).toEqual({
      failure: expect.objectContaining({
        kind: 'workflow_failed',
        source: 'audit-compaction',
        error: 'AuditChainBrokenError',
      }),
      // the step key of an idempotent append (a Retry of this step appends once)
      step: { execution_id: expect.stringMatching(/:execution:.*:e1$/), state: 'RecordFailure' },
    });
  });

  it('ends Skipped without Athena when the day has no records', async () => {
    // Prepare
    const verify = async () => ({
      date: '2024-03-04',
      environment: 'dev',
      records: 0,
      streams: 0,
      manifestKey: null,
    });

    // Act
    const run = await execute(verify);

    // Assess
    expect(run.outcome).toBe('succeeded');
    expect(run.calls.athena).toEqual([]);
    expect(run.output).toEqual({
      date: '2024-03-04',
      environment: 'dev',
      records: 0,
      streams: 0,
      manifestKey: null,
    });
  });
});

describe('compactionDate (the only runtime value of the SQL)', () => {
  it('is the UTC day before the scheduled time', () => {
    // Prepare
    const request = { source: 'schedule', scheduledTime: '2024-03-01T00:15:00Z' };

    // Act
    const date = compactionDate(request);

    // Assess
    expect(date).toBe('2024-02-29');
  });

  it('prefers an explicit date', () => {
    // Prepare / Act
    const date = compactionDate({ date: '2024-03-04', scheduledTime: '2024-03-10T00:15:00Z' });

    // Assess
    expect(date).toBe('2024-03-04');
  });

  it.each([
    { date: "2024-03-04' OR '1'='1" },
    { date: '2024-02-30' },
    { scheduledTime: 'yesterday' },
    {},
  ])('refuses %j with ValidationError', (request) => {
    // Prepare / Act / Assess
    expect(() => compactionDate(request)).toThrow(ValidationError);
  });
});
