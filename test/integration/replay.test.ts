/**
 * The local main job over six real sessions: the schedules (not a hard-coded order) start
 * every execution on the local stack, with the handlers reading the simulated clock.
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeDocumentClient, makeS3Client } from '../../functions/composition/runtime.js';
import { ManualClock } from '../../functions/ports/clock.js';
import { queryAudit, verifyAudit } from '../../local/audit/duckdb.js';
import {
  LOCAL_BUCKETS,
  LOCAL_TABLE,
  type LocalStack,
  startLocalStack,
} from '../../local/local-stack.js';
import { type ReplayResult, replay } from '../../local/replay.js';
import { LOCAL_CREDENTIALS } from '../../local/servers.js';
import { DATA_ROOT } from '../support/paths.js';

let stack: LocalStack;
/** This run's own temp folder (reports, audit cache): never shared with another copy. */
let tmp: string;
let result: ReplayResult;
const SESSIONS = [
  '2013-10-04',
  '2013-10-07',
  '2013-10-08',
  '2013-10-09',
  '2013-10-10',
  '2013-10-11',
];

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'stagegate-replay-'));
  stack = await startLocalStack({
    dataRoot: DATA_ROOT,
    stateDir: 'memory',
    logLevel: 'SILENT',
    clock: new ManualClock(0),
    brokerAccount: 'it-replay',
  });
  result = await replay(stack, {
    sessions: SESSIONS,
    symbols: ['SPY', 'BAC', 'AIG', 'IBM'],
    bankrollUsd: 1000,
    agentCount: 30,
    allocation: 'equal',
    seed: 1,
    reportDir: path.join(tmp, 'reports'),
    out: () => undefined,
  });
}, 300_000);

afterAll(async () => {
  await stack?.stop();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

describe('six-session replay through the schedules', () => {
  it('fires one cohort per session, one promotion per session and two learning cycles per session', () => {
    expect(result.cohorts.map((c) => c.sessionDate)).toEqual(SESSIONS);
    expect(result.cohorts.every((c) => c.status === 'SUCCEEDED')).toBe(true);
    expect(result.promotions).toHaveLength(6);
    expect(result.learning).toHaveLength(12);
    // + one daily report per session (schedules.dailyReport, 16:45 New York).
    expect(result.firings).toBe(30);
  });

  it('posts the daily report of every session after its close, once', () => {
    expect(result.dailyReports.map((r) => [r.outcome, r.sessionDate])).toEqual(
      SESSIONS.map((d) => ['posted', d]),
    );
  });

  it('never promotes a cohort on its own session, and skips the first day (nothing earlier)', () => {
    expect(result.promotions[0]?.outcome).toBe('skipped');
    const byId = new Map(result.cohorts.map((c) => [c.cohortId, c.sessionDate]));
    for (const p of result.promotions.slice(1)) {
      expect(p.status).toBe('SUCCEEDED');
      expect(byId.get(p.cohortId)).toBeDefined();
      expect((byId.get(p.cohortId) as string) < p.sessionDate).toBe(true);
    }
  });

  it('runs each day on a newer genome generation than the day before (Day 2 is not a re-run of Day 1)', () => {
    const generations = result.cohorts.map((c) => c.genomeGeneration ?? -1);
    for (let i = 1; i < generations.length; i++) {
      expect(generations[i]).toBeGreaterThan(generations[i - 1] as number);
    }
  });

  it('writes an HTML report with the charts of every day', () => {
    expect(result.reportPath).not.toBeNull();
    expect(existsSync(result.reportPath as string)).toBe(true);
    const html = readFileSync(result.reportPath as string, 'utf8');
    for (const d of SESSIONS) expect(html).toContain(`data-chart="equity-${d}"`);
    expect(html).toContain('data-chart="learning"');
  });
});

describe('the audit trail of the replay', () => {
  const bucket = () => ({
    s3Client: makeS3Client(
      { S3_ENDPOINT: stack.servers.s3Endpoint, AWS_REGION: 'us-east-1' },
      LOCAL_CREDENTIALS,
    ),
    bucket: LOCAL_BUCKETS.audit,
    environment: 'local' as const,
  });

  it('verifies: every hash chain intact, every stream head matches', async () => {
    const out = await verifyAudit({
      ...bucket(),
      heads: {
        dynamo: makeDocumentClient(
          {
            DYNAMODB_ENDPOINT: stack.servers.dynamoEndpoint,
            AWS_REGION: 'us-east-1',
          },
          LOCAL_CREDENTIALS,
        ),
        tableName: LOCAL_TABLE,
      },
    });
    expect(out.firstBreak).toBeNull();
    expect(out.ok).toBe(true);
    expect(out.checked).toBeGreaterThan(100);
  });

  it('answers the runbook questions with the named queries', async () => {
    const cacheDir = path.join(tmp, 'audit-cache');
    const promoted = result.promotions.find((p) => p.outcome === 'promoted');
    expect(promoted?.cohortId).toBeDefined();
    const decisions = await queryAudit({
      ...bucket(),
      cacheDir,
      namedQuery: 'cohort-decisions',
      params: { cohort_id: promoted?.cohortId as string },
    });
    const kinds = new Set(decisions.map((r) => r.kind));
    expect([...kinds]).toEqual(
      expect.arrayContaining([
        'cohort_scored',
        'promotion_staged',
        'gate_evaluated',
        'promotion_completed',
      ]),
    );

    const gates = await queryAudit({
      ...bucket(),
      cacheDir,
      namedQuery: 'gate-failure-rate-by-day',
    });
    const gateNames = new Set(gates.map((r) => r.gate));
    // The 16 order-time gates and the daily baseline gate, which the first promotion's
    // challenger (no paper session yet) gets as not judged, counted apart from the passes
    expect(gateNames.size).toBe(17);
    expect(gateNames.has('baseline')).toBe(true);
    const baselineRows = gates.filter((r) => r.gate === 'baseline');
    expect(baselineRows.reduce((n, r) => n + Number(r.not_judged), 0)).toBeGreaterThanOrEqual(1);
    expect(
      gates.filter((r) => r.gate !== 'baseline').every((r) => Number(r.not_judged) === 0),
    ).toBe(true);

    const fills = await queryAudit({ ...bucket(), cacheDir, namedQuery: 'orders-vs-fills' });
    expect(fills.length).toBeGreaterThan(0);
    expect(
      fills.every((r) => Number(r.unfilled_qty ?? 0) === 0 || r.last_status !== 'filled'),
    ).toBe(true);
    // A clean run: every fully filled order reports `filled` as its last status (ordered by
    // seq; its `new` and `filled` changes can share a timestamp).
    const fullyFilled = fills.filter(
      (r) => Number(r.submitted_qty) > 0 && Number(r.unfilled_qty) === 0,
    );
    expect(fullyFilled.length).toBeGreaterThan(0);
    expect(fullyFilled.map((r) => r.last_status)).toEqual(fullyFilled.map(() => 'filled'));
  });
});
