/**
 * `stagegate run --summary-json <file>` (README "The CLI"): the JSON summary carries what the
 * run printed: the sessions, each cohort's leaderboard, each promotion with its candidate, its
 * paper slot decision, its gates, every order of its paper session (client_order_id, side,
 * qty, average price, status) and its paper PnL, simulator PnL and parity difference; and a
 * run whose data holds no session after Day 3 ends cleanly with the go/no-go waiting.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localRunFlags, runCli } from '../support/cli.js';

interface SummaryOrder {
  readonly client_order_id: string;
  readonly side: 'buy' | 'sell';
  readonly qty: number;
  readonly avg_price: number | null;
  readonly status: string;
}
interface Summary {
  readonly sessions: readonly string[];
  readonly cohorts: readonly { sessionDate: string; leaderboard: readonly unknown[] }[];
  readonly promotions: readonly {
    sessionDate: string;
    outcome: string | null;
    paperSlot: { decision: string } | null;
    gates: readonly { gate: string; verdict: string }[];
    orders: readonly SummaryOrder[];
    paperPnlUsd: number | null;
    simulatorPnlUsd: number | null;
    parityDifferenceUsd: number | null;
    reconciliationClean: boolean | null;
  }[];
  readonly day3: readonly unknown[];
  readonly day3Waiting: readonly { cohortIds: readonly string[]; reason: string }[];
}

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'stagegate-summary-json-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('stagegate run --summary-json', () => {
  it("carries the promoted strategy's paper session: every order and parity to the cent", async () => {
    // Act: two shared sessions from 2013-10-07; the 2013-10-08 promotion trades its paper session
    const file = path.join(dir, 'summary.json');
    const run = await runCli(
      [...localRunFlags(path.join(dir, 'state')), 'run', '--days', '2', '--summary-json', file],
      { timeoutMs: 600_000 },
    );
    expect(run.code, run.stderr).toBe(0);
    const summary = JSON.parse(await readFile(file, 'utf8')) as Summary;

    // Assess: the sessions and both cohorts' leaderboards
    expect(summary.sessions).toEqual(['2013-10-07', '2013-10-08']);
    expect(summary.cohorts.map((c) => c.sessionDate)).toEqual(['2013-10-07', '2013-10-08']);
    expect(summary.cohorts.every((c) => c.leaderboard.length > 0)).toBe(true);

    // Assess: the promotion, its slot decision and its gates
    const promoted = summary.promotions.filter((p) => p.orders.length > 0);
    expect(promoted).toHaveLength(1);
    const p = promoted[0] as Summary['promotions'][number];
    expect(p.sessionDate).toBe('2013-10-08');
    expect(p.paperSlot?.decision).toBe('promote_challenger');
    expect(p.gates.length).toBeGreaterThan(0);
    // Every gate passes but the daily baseline gate, not judged (no paper session yet): not a
    // pass, and it does not block the promotion
    expect(p.gates.filter((g) => g.verdict !== 'pass')).toEqual([
      expect.objectContaining({ gate: 'baseline', verdict: 'not_judged' }),
    ]);

    // Assess: entries and exits through the day, each with its own client_order_id and fill
    const ids = new Set(p.orders.map((o) => o.client_order_id));
    expect(ids.size).toBe(p.orders.length);
    expect(p.orders.some((o) => o.side === 'buy')).toBe(true);
    expect(p.orders.some((o) => o.side === 'sell')).toBe(true);
    for (const o of p.orders.filter((x) => x.status === 'filled')) {
      expect(o.qty).toBeGreaterThan(0);
      expect(o.avg_price).toBeGreaterThan(0);
    }

    // Assess: paper PnL from the broker's fills equals the simulator's to the cent
    expect(p.paperPnlUsd).not.toBeNull();
    expect(p.simulatorPnlUsd).not.toBeNull();
    expect(Math.abs(p.parityDifferenceUsd as number)).toBeLessThan(0.005);
    expect((p.paperPnlUsd as number) - (p.simulatorPnlUsd as number)).toBeCloseTo(0, 2);
    expect(p.reconciliationClean).toBe(true);
    expect(summary.day3).toEqual([]);
  }, 900_000);

  it('ends cleanly when no session follows Day 3: the go/no-go waits, exit 0, no stack trace', async () => {
    // Act: the last three shared sessions; the data holds none after 2013-10-11
    const file = path.join(dir, 'waiting.json');
    const run = await runCli(
      [
        ...localRunFlags(path.join(dir, 'state-waiting')),
        'run',
        '--from',
        '2013-10-09',
        '--days',
        '3',
        '--approval',
        'auto',
        '--summary-json',
        file,
      ],
      { timeoutMs: 600_000 },
    );
    expect(run.code, run.stderr).toBe(0);
    const summary = JSON.parse(await readFile(file, 'utf8')) as Summary;

    // Assess: the reason printed and in the summary
    expect(run.stdout).toContain('go/no-go: waiting: no session with data after 2013-10-11');
    expect(run.stdout).toContain('Day-3 go/no-go: waiting for a session after Day 3');
    expect(run.stderr).not.toContain('    at ');
    expect(summary.sessions).toEqual(['2013-10-09', '2013-10-10', '2013-10-11']);
    expect(summary.day3).toEqual([]);
    expect(summary.day3Waiting).toHaveLength(1);
    expect(summary.day3Waiting[0]?.cohortIds).toHaveLength(3);
    expect(summary.day3Waiting[0]?.reason).toContain('wait for the next session');
  }, 900_000);
});
