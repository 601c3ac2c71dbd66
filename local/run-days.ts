/**
 * The local main job: for each consecutive real session, start one intraday-cohort
 * execution of `statemachines/intraday-cohort.asl.json` on the local stack, show progress,
 * and print the persisted leaderboard read back from DynamoDB Local.
 */
import { TZDate } from '@date-fns/tz';
import type { GatesOutput, OrdersOutput } from '../functions/core/use-cases/promotion.js';
import { cohortHeader, gatesTable, leaderboardTable, ordersTable } from './format.js';
import type { LocalStack } from './local-stack.js';

export interface RunDaysOptions {
  readonly sessions: readonly string[];
  readonly symbols: readonly string[];
  readonly bankrollUsd: number;
  readonly agentCount: number;
  readonly allocation: string;
  readonly seed: number;
  /** Run the promotion pipeline after each day's cohort (default true). */
  readonly promote?: boolean;
  /**
   * Session dates with data after the last requested one, ascending: day N's candidate is
   * promoted in the next session's window (no look-ahead into its own scored day).
   */
  readonly laterSessions?: readonly string[];
  /** Where progress and tables go (default: process.stdout). */
  readonly out?: (text: string) => void;
}

export interface DayOutcome {
  readonly sessionDate: string;
  readonly status: 'SUCCEEDED' | 'FAILED';
  readonly cohortId?: string;
  readonly error?: string;
  readonly cause?: string;
  readonly path: readonly string[];
  readonly promotion?: PromotionOutcome;
}

export interface PromotionOutcome {
  readonly status: 'SUCCEEDED' | 'FAILED';
  readonly outcome?: string;
  readonly reason?: string;
  readonly error?: string;
  readonly path: readonly string[];
  readonly gates?: GatesOutput;
  readonly orders?: OrdersOutput;
  readonly reconciliationClean?: boolean;
}

/** 5 minutes before the promotion window opens on `date` (New York), as UTC ISO-8601. */
function replayStartFor(date: string, opensAt: string): string {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  const [hh, mm] = opensAt.split(':').map(Number) as [number, number];
  return new Date(
    new TZDate(y, m - 1, d, hh, mm, 0, 0, 'America/New_York').getTime() - 5 * 60_000,
  ).toISOString();
}

async function promote(
  stack: LocalStack,
  cohortId: string,
  promotionDate: string,
  write: (t: string) => void,
): Promise<PromotionOutcome> {
  const opensAt = stack.config.promotion.windows[0]?.opensAt ?? '10:00';
  const replayStartIso = replayStartFor(promotionDate, opensAt);
  write(
    `\nPromotion of the day's best candidate, replayed in the ${promotionDate} session from ${replayStartIso}\n  `,
  );
  const result = await stack.promotionPipeline.execute(
    { source: 'cli', cohortId, replayStartIso },
    {
      executionName: `promo-${cohortId.slice(4, 12)}-${Date.now().toString(36)}`,
      onProgress: (e) => {
        if (e.type === 'StateEntered' && e.state) write(`▸ ${e.state} `);
      },
    },
  );
  write(`[${result.status.toLowerCase()}]\n`);
  const gates = result.stateOutputs.EvaluateGates as { gates?: GatesOutput } | undefined;
  const lastOrders = (['CancelOpenOrders', 'PollOrders', 'SubmitOrders'] as const)
    .map((n) => (result.stateOutputs[n] as { orders?: OrdersOutput } | undefined)?.orders)
    .find((o) => o !== undefined);
  const rec = result.stateOutputs.Reconcile as
    | { reconciliation?: { clean: boolean; discrepancies: unknown[] } }
    | undefined;
  const staged = result.stateOutputs.Freeze as
    | {
        promotion?: {
          agentId: string;
          genome: { family: string; symbol: string };
          capitalSliceUsd: number;
          configHash: string;
        };
      }
    | undefined;
  if (staged?.promotion) {
    const p = staged.promotion;
    write(
      `\nstaged ${p.agentId} (${p.genome.family} on ${p.genome.symbol}), capital slice $${p.capitalSliceUsd.toFixed(2)}, config hash ${p.configHash.slice(0, 12)}…\n`,
    );
  }
  if (gates?.gates) write(`\n${gatesTable(gates.gates.results)}\n`);
  if (lastOrders) write(`\n${ordersTable(lastOrders.orders)}\n`);
  if (rec?.reconciliation) {
    write(
      `\nreconciliation: ${rec.reconciliation.clean ? 'clean (local book and orders match the broker)' : `${rec.reconciliation.discrepancies.length} discrepancies: ${JSON.stringify(rec.reconciliation.discrepancies)}`}\n`,
    );
  }
  const out = result.output as { outcome?: string; reason?: string } | undefined;
  if (result.status === 'SUCCEEDED') write(`outcome: ${out?.outcome}: ${out?.reason}\n`);
  else write(`promotion failed: ${result.error}: ${result.cause}\n`);
  return {
    status: result.status,
    outcome: out?.outcome,
    reason: out?.reason,
    error: result.error,
    path: result.path,
    gates: gates?.gates,
    orders: lastOrders,
    reconciliationClean: rec?.reconciliation?.clean,
  };
}

/** Runs one cohort execution per session, in order; stops at the first failed day. */
export async function runDays(stack: LocalStack, options: RunDaysOptions): Promise<DayOutcome[]> {
  const write = options.out ?? ((t: string) => process.stdout.write(t));
  const outcomes: DayOutcome[] = [];
  for (const [i, sessionDate] of options.sessions.entries()) {
    write(`\nDay ${i + 1}/${options.sessions.length}  ${sessionDate}  `);
    const started = Date.now();
    const result = await stack.intradayCohort.execute(
      {
        source: 'cli',
        sessionDate,
        symbols: options.symbols,
        bankrollUsd: options.bankrollUsd,
        agentCount: options.agentCount,
        allocation: options.allocation,
        seed: options.seed,
      },
      {
        executionName: `cli-${sessionDate.replaceAll('-', '')}-${Date.now().toString(36)}`,
        onProgress: (e) => {
          if (e.type === 'StateEntered' && e.state) write(`▸ ${e.state} `);
          if (e.type === 'StateRetried') write('(retry) ');
          if (e.type === 'StateCaught') write('(caught) ');
        },
      },
    );
    write(`[${result.status.toLowerCase()} in ${((Date.now() - started) / 1000).toFixed(1)} s]\n`);
    if (result.status === 'FAILED') {
      outcomes.push({
        sessionDate,
        status: 'FAILED',
        error: result.error,
        cause: result.cause,
        path: result.path,
      });
      write(`\n${result.error}: ${result.cause}\n`);
      break;
    }
    const cohortId = (result.output as { cohortId: string }).cohortId;
    const record = await stack.runtime.cohorts.get(cohortId);
    write(`\n${cohortHeader(record)}\n\n${leaderboardTable(record.leaderboard)}\n`);
    let promotion: PromotionOutcome | undefined;
    if (options.promote !== false) {
      const promotionDate = [...options.sessions, ...(options.laterSessions ?? [])].find(
        (d) => d > sessionDate,
      );
      if (promotionDate) promotion = await promote(stack, cohortId, promotionDate, write);
      else write(`\n(no later session in the data to promote ${cohortId} into)\n`);
    }
    outcomes.push({ sessionDate, status: 'SUCCEEDED', cohortId, path: result.path, promotion });
  }
  return outcomes;
}
