/**
 * The local main job: for each consecutive real session, start one intraday-cohort
 * execution of `statemachines/intraday-cohort.asl.json` on the local stack, show progress,
 * and print the persisted leaderboard read back from DynamoDB Local.
 */
import { cohortHeader, leaderboardTable } from './format.js';
import type { LocalStack } from './local-stack.js';

export interface RunDaysOptions {
  readonly sessions: readonly string[];
  readonly symbols: readonly string[];
  readonly bankrollUsd: number;
  readonly agentCount: number;
  readonly allocation: string;
  readonly seed: number;
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
    outcomes.push({ sessionDate, status: 'SUCCEEDED', cohortId, path: result.path });
  }
  return outcomes;
}
