import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AGENT_PAGE_FORMAT,
  decodeAgentPage,
} from '../../functions/adapters/dynamodb/agent-pages.js';
import { agentPageSetOf } from '../../functions/adapters/dynamodb/cohort-repository.js';
import { makeDocumentClient } from '../../functions/composition/runtime.js';
import { LOCAL_TABLE, type LocalStack, startLocalStack } from '../../local/local-stack.js';
import { LOCAL_CREDENTIALS } from '../../local/servers.js';
import { readAuditObjects } from '../support/audit.js';
import { DATA_ROOT } from '../support/paths.js';

let stack: LocalStack;

beforeAll(async () => {
  stack = await startLocalStack({ dataRoot: DATA_ROOT, stateDir: 'memory', logLevel: 'SILENT' });
});

afterAll(async () => {
  await stack?.stop();
});

const request = (overrides: Record<string, unknown> = {}) => ({
  source: 'test',
  sessionDate: '2013-10-07',
  symbols: ['SPY', 'BAC', 'AIG', 'IBM'],
  bankrollUsd: 1000,
  agentCount: 30,
  allocation: 'equal',
  seed: 7,
  ...overrides,
});

const auditRecords = () => readAuditObjects(stack.servers.s3Endpoint);

describe('intraday cohort, happy path', () => {
  it('runs load -> run -> score -> persist -> audit and persists 30 ranked agents', async () => {
    // Act
    const result = await stack.intradayCohort.execute(request(), {
      executionName: 'it-happy-20131007',
    });

    // Assess: the execution's path
    expect(result.status).toBe('SUCCEEDED');
    expect(result.path).toEqual([
      'Init',
      'LoadMarketData',
      'SessionOpen?',
      'ShardCohort?',
      'RunCohort',
      'ScoreCohort',
      'PersistCohort',
      'RecordCohortScored',
      'Done',
    ]);
    const cohortId = (result.output as { cohortId: string }).cohortId;
    expect(cohortId).toMatch(/^coh-20131007-/);

    // Assess: DynamoDB items (raw) — one header and one page holding the 30 agent rows
    const doc = makeDocumentClient(
      {
        DYNAMODB_ENDPOINT: stack.servers.dynamoEndpoint,
        AWS_REGION: 'us-east-1',
      },
      LOCAL_CREDENTIALS,
    );
    const items = await doc.send(
      new QueryCommand({
        TableName: LOCAL_TABLE,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': `COHORT#${cohortId}` },
      }),
    );
    const keys = (items.Items ?? []).map((i) => i.sk as string);
    expect(keys.filter((k) => k === 'META')).toHaveLength(1);
    const header = (items.Items ?? []).find((i) => i.sk === 'META');
    const pageSk = `AGENTS#${agentPageSetOf(String(header?.executionId))}#00001`;
    expect(header?.agentPageSet).toBe(agentPageSetOf(String(header?.executionId)));
    expect(keys.filter((k) => k.startsWith('AGENTS#'))).toEqual([pageSk]);
    const page = (items.Items ?? []).find((i) => i.sk === pageSk);
    expect(page?.format).toBe(AGENT_PAGE_FORMAT);
    expect(page?.data).toBeInstanceOf(Uint8Array);
    expect(decodeAgentPage(cohortId, page ?? {})).toHaveLength(30);

    // Assess: the record read back through the repository is ranked and differentiated
    const record = await stack.runtime.cohorts.get(cohortId);
    expect(record.leaderboard.map((r) => r.rank)).toEqual(
      Array.from({ length: 30 }, (_, i) => i + 1),
    );
    const pnls = record.leaderboard.map((r) => r.totalPnlUsd);
    expect([...pnls].sort((a, b) => b - a)).toEqual(pnls);
    expect(new Set(pnls.map((p) => p.toFixed(4))).size).toBeGreaterThan(5);
    expect(record.barCount).toBe(390);
    expect(record.leaderboard.reduce((s, r) => s + r.allocationUsd, 0)).toBeLessThanOrEqual(
      1000 + 1e-6,
    );

    // Assess: the audit trail holds the cohort_scored record for this cohort
    const audit = await auditRecords();
    const scored = audit.filter(
      (r) =>
        r.kind === 'cohort_scored' && (r.subject as { cohort_id: string }).cohort_id === cohortId,
    );
    expect(scored).toHaveLength(1);
    expect(scored[0]?.stream).toBe('execution:it-happy-20131007');
    expect(JSON.parse(scored[0]?.payload as string)).toMatchObject({
      session_date: '2013-10-07',
      agent_count: 30,
      // What the scores rest on: the cohort config and symbols, the bars and genomes
      provenance: {
        config_hash: expect.stringMatching(/^[0-9a-f]{64}$/),
        data_hash: expect.stringMatching(/^[0-9a-f]{64}$/),
        code_version: expect.any(String),
      },
    });
  });
});

describe('intraday cohort, schedule on a closed market day', () => {
  it.each([
    ['a Saturday', '2013-10-05T13:35:00Z', '2013-10-05'],
    ['Christmas', '2013-12-25T14:35:00Z', '2013-12-25'],
  ])('%s: records a skip, runs nothing, fails nothing', async (_label, scheduledTime, date) => {
    const executionName = `it-skip-${date}`;
    const result = await stack.intradayCohort.execute(
      request({ source: 'schedule', sessionDate: undefined, scheduledTime }),
      { executionName },
    );
    expect(result.status).toBe('SUCCEEDED');
    expect(result.output).toMatchObject({ skipped: true, sessionDate: date });
    expect(result.path).not.toContain('RunCohort');
    const skipped = (await auditRecords()).filter((r) => r.stream === `execution:${executionName}`);
    expect(skipped.map((r) => r.kind)).toEqual(['schedule_skipped']);
  });
});

describe('intraday cohort, bad input', () => {
  it.each([
    ['bankroll below range', { bankrollUsd: 20 }, 'ValidationError', /bankrollUsd/],
    ['unknown symbol', { symbols: ['SPY', 'ZZZZ'] }, 'UnknownSymbolError', /ZZZZ/],
    ['date with no session', { sessionDate: '2013-10-05' }, 'NoSessionError', /2013-10-05/],
    [
      'malformed schedule event',
      { sessionDate: undefined, scheduledTime: 'yesterday' },
      'ValidationError',
      /scheduledTime/,
    ],
  ])(
    '%s: fails with a named error, records the rejection, persists nothing',
    async (_label, override, errorName, causePattern) => {
      // Prepare
      const before = await stack.runtime.cohorts.list(100);
      const executionName = `it-bad-${errorName}-${Math.random().toString(36).slice(2, 8)}`;

      // Act
      const result = await stack.intradayCohort.execute(request(override), { executionName });

      // Assess
      expect(result.status).toBe('FAILED');
      expect(result.error).toBe(errorName);
      expect(result.cause).toMatch(causePattern);
      expect(result.path).toContain('RecordRejection');
      expect(result.path).not.toContain('PersistCohort');
      expect(await stack.runtime.cohorts.list(100)).toHaveLength(before.length);
      const rejected = (await auditRecords()).filter(
        (r) => r.kind === 'input_rejected' && r.stream === `execution:${executionName}`,
      );
      expect(rejected).toHaveLength(1);
      expect(JSON.parse(rejected[0]?.payload as string)).toMatchObject({ error: errorName });
    },
  );
});
