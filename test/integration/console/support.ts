/**
 * Shared setup of the console API tests: a local stack with two real cohorts (different
 * sessions and bankrolls), one real promotion, one pending Day-3 approval request, the local
 * console users and the console server on loopback.
 */
import { newApprovalId } from '../../../functions/core/approval/links.js';
import type { ConsoleServer } from '../../../local/console-server.js';
import type { ConsoleUsers } from '../../../local/console-users.js';
import { type LocalStack, startLocalStack } from '../../../local/local-stack.js';
import { localTaskTokens } from '../../../local/local-task-tokens.js';
import { runTestCohort } from '../../support/cohort.js';
import { startMemoryConsole } from '../../support/console-server.js';
import { DATA_ROOT } from '../../support/paths.js';

export interface ConsoleFixture {
  readonly stack: LocalStack;
  readonly server: ConsoleServer;
  readonly users: ConsoleUsers;
  readonly cohortIds: readonly string[];
  readonly promotionId: string;
  readonly approvalId: string;
  /** Settles with the decision the approval resumed its (stand-in) execution with. */
  readonly decision: Promise<unknown>;
  stop(): Promise<void>;
}

/** Starts everything (about 10 s of real cohorts and a promotion). */
export async function startConsoleFixture(tag: string): Promise<ConsoleFixture> {
  const stack = await startLocalStack({
    dataRoot: DATA_ROOT,
    stateDir: 'memory',
    logLevel: 'SILENT',
  });
  try {
    const cohortIds: string[] = [];
    for (const [sessionDate, bankrollUsd] of [
      ['2013-10-07', 1000],
      ['2013-10-08', 2000],
    ] as const) {
      cohortIds.push(
        await runTestCohort(stack, {
          sessionDate,
          executionName: `${tag}-${sessionDate}`,
          bankrollUsd,
        }),
      );
    }
    // 09:55 New York the next session: five minutes before the promotion window opens.
    stack.clock.set(Date.parse('2013-10-08T13:55:00.000Z'));
    const promo = await stack.promotionPipeline.execute(
      { source: 'test', cohortId: cohortIds[0] },
      { executionName: `${tag}-promo` },
    );
    if (promo.status !== 'SUCCEEDED') throw new Error(`promotion: ${promo.error} ${promo.cause}`);
    const promotionId = (promo.output as { promotionId: string }).promotionId;

    stack.clock.set(Date.now());
    const approvalDeps = await stack.approvalDeps();
    const approvalId = newApprovalId();
    const taskToken = `console-test-${approvalId}`;
    const executionArn = `arn:aws:states:local:000000000000:execution:day3:${tag}`;
    const decision = localTaskTokens.register({
      taskToken,
      executionArn,
      stateName: 'RequestApproval',
      registeredAtMs: Date.now(),
    });
    decision.catch(() => undefined);
    const now = Date.now();
    await approvalDeps.store.create({
      approvalId,
      taskToken,
      executionArn,
      summary: {
        candidateId: 'genome-console-test',
        agentId: 'a0001',
        family: 'momentum',
        symbol: 'SPY',
        sessionDates: ['2013-10-07', '2013-10-08', '2013-10-09'],
        metrics: {
          totalPnlUsd: 12.5,
          roi: 0.0125,
          sharpe: 1.7,
          maxDrawdownFraction: 0.01,
          tradeCount: 21,
          sessions: 3,
        },
        gates: [],
        bankrollUsd: 1000,
        capitalSliceUsd: 50,
        leverage: 2,
        reportUrl: null,
      },
      equityCurve: [
        [now - 3_600_000, 1000],
        [now, 1012.5],
      ],
      // The two-person rule: the operator signs first, then the risk officer.
      approvers: ['local:olivia', 'local:rick'],
      chain: [
        { role: 'operator', approvers: ['local:olivia'] },
        { role: 'risk', approvers: ['local:rick'] },
      ],
      createdAtIso: new Date(now).toISOString(),
      expiresAtIso: new Date(now + 3_600_000).toISOString(),
    });

    const { server, users } = await startMemoryConsole(stack);
    return {
      stack,
      server,
      users,
      cohortIds,
      promotionId,
      approvalId,
      decision,
      stop: async () => {
        await server.close();
        await stack.stop();
      },
    };
  } catch (err) {
    await stack.stop();
    throw err;
  }
}
