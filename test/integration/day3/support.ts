/**
 * Shared helpers of the Day-3 integration and browser tests: reading the audit trail back
 * from the S3 emulator, running the three real daily cohorts, seeding a paper-slot holder
 * whose out-of-sample record beats the baselines (the approval path's fixture), a capturing
 * notifier, and signed Slack interactivity requests.
 */

import { slackSignature } from '../../../functions/adapters/slack/signature.js';
import { buildPaperSessionDeps } from '../../../functions/composition/paper-session.js';
import { buildPromotionDeps } from '../../../functions/composition/promotion.js';
import type { Market } from '../../../functions/core/calendar/market-calendar.js';
import type { PaperSessionResult } from '../../../functions/core/paper/track-record.js';
import type { AgentRow } from '../../../functions/core/use-cases/cohort-records.js';
import type { StagedPromotion } from '../../../functions/core/use-cases/promotion-records.js';
import type { ChatMessage, Notifier, PostedMessage } from '../../../functions/ports/notifier.js';
import { runDay3 } from '../../../local/day3.js';
import type { LocalStack } from '../../../local/local-stack.js';
import { readAuditObjects } from '../../support/audit.js';
import { stagedPromotionOf } from '../../support/staged-promotion.js';

/** The real sessions of Day 1, 2, 3. */
export const DAY_DATES = ['2013-10-07', '2013-10-08', '2013-10-09'] as const;

/** One stored audit record, payload parsed. */
export interface StoredAudit {
  readonly id: string;
  readonly kind: string;
  readonly actor: string;
  readonly stream: string;
  readonly seq: number;
  readonly subject: Record<string, string | null>;
  readonly payload: Record<string, unknown>;
}

/** Every audit record in the emulator's audit bucket, in (stream, seq) order. */
export async function auditRecords(stack: LocalStack): Promise<StoredAudit[]> {
  return (await readAuditObjects(stack.servers.s3Endpoint)).map((rec) => ({
    ...(rec as Omit<StoredAudit, 'payload'>),
    payload: JSON.parse(String(rec.payload)) as Record<string, unknown>,
  }));
}

/** Runs the real daily cohort of `sessionDate` (30 agents, $1,000) and returns its id. */
export async function runDailyCohort(
  stack: LocalStack,
  tag: string,
  sessionDate: string,
): Promise<string> {
  const result = await stack.intradayCohort.execute(
    {
      source: 'test',
      sessionDate,
      symbols: ['SPY', 'BAC', 'AIG', 'IBM'],
      bankrollUsd: 1000,
      agentCount: 30,
      allocation: 'equal',
      seed: 1,
    },
    { executionName: `${tag}-${sessionDate.replaceAll('-', '')}` },
  );
  if (result.status !== 'SUCCEEDED') {
    throw new Error(`cohort ${sessionDate} failed: ${result.error}: ${result.cause}`);
  }
  return (result.output as { cohortId: string }).cohortId;
}

/** Runs the three real daily cohorts and returns their ids, oldest first. */
export async function runThreeCohorts(stack: LocalStack, tag: string): Promise<string[]> {
  const ids: string[] = [];
  for (const sessionDate of DAY_DATES) ids.push(await runDailyCohort(stack, tag, sessionDate));
  return ids;
}

/** A pipeline-picked promotion of `row`'s genome (no approval), as the paper slot reads it. */
export function slotPromotion(
  row: AgentRow,
  input: {
    id: string;
    cohortId: string;
    sessionDate: string;
    stagedAtIso: string;
    market?: Market;
  },
  status: StagedPromotion['status'],
): StagedPromotion {
  return stagedPromotionOf({
    ...(input.market ? { market: input.market } : {}),
    promotionId: input.id,
    cohortId: input.cohortId,
    sessionDate: input.sessionDate,
    agentId: row.agentId,
    agentRank: row.rank,
    genome: { id: row.genomeId, family: row.family, symbol: row.symbol },
    stagedAtIso: input.stagedAtIso,
    status,
  });
}

/** One paper session of `row`'s genome at parity on `date` (a return of `dailyReturn`). */
export function paperSession(row: AgentRow, date: string, dailyReturn: number): PaperSessionResult {
  return {
    genomeId: row.genomeId,
    promotionId: `pr-holder-${date}`,
    date,
    symbol: row.symbol,
    family: row.family,
    broker: 'simulated:local-paper',
    capitalUsd: 100,
    paperPnlUsd: dailyReturn * 100,
    referencePnlUsd: dailyReturn * 100,
    parityDifferenceUsd: 0,
    parity: 'exact',
    dailyReturn,
    filledOrders: 4,
    roundTrips: 2,
    cohortPnlUsd: dailyReturn * 100,
    halt: null,
    reconciliationClean: true,
    recordedAtIso: `${date}T20:05:00.000Z`,
  };
}

/** What {@link seedOutOfSampleWinner} seeded. */
export interface SeededWinner {
  /** The genome that now holds the paper slot (the walk-forward ranking's pick). */
  readonly genomeId: string;
  /** The cohort session its first promotion was staged from (the selection cutoff). */
  readonly cutoffDate: string;
  /** Its seeded paper sessions, oldest first: date and daily return (fraction). */
  readonly paper: readonly { readonly date: string; readonly dailyReturn: number }[];
}

/**
 * The approval path's fixture on the real cohorts: the shared week's candidates all lose out
 * of sample, and a measured loss is never overridable (`gates_failed`). This makes the
 * walk-forward ranking's pick (its order-time gates pass on the shared week) the equity
 * paper slot's holder: promoted by the pipeline from the first reviewed cohort it ran in
 * before Day 3, kept on each later reviewed session, with one paper session at parity on each
 * of those sessions whose return is `edge` above the better of `flat` and its symbol's
 * buy-and-hold on that session (from that day's cohort baselines). Its evidence then passes
 * `oos` and `baseline` and is short only on PSR / DSR (three sessions): `insufficient_evidence`,
 * which the local demo override looks past. The promotions are staged at 13:30 UTC, before
 * any other test's seeded slot promotions of the same day.
 *
 * @throws Error when the pick ran in no reviewed cohort before Day 3.
 */
export async function seedOutOfSampleWinner(
  stack: LocalStack,
  cohortIds: readonly string[],
  options: {
    /** Above the better baseline on each paper session, fraction. @default 0.003 */
    readonly edge?: number;
    /** @default the reviewed cohorts' market (`equity-usa` when unset) */
    readonly market?: Market;
  } = {},
): Promise<SeededWinner> {
  const edge = options.edge ?? 0.003;
  const ranked = await runDay3(stack, {
    cohortIds,
    approval: 'reject',
    demoOverride: false,
    write: () => undefined,
  });
  const genomeId = ranked.selection?.ranking[0]?.lineageId;
  const deps = buildPromotionDeps(stack.runtime);
  const records = await Promise.all(cohortIds.map((id) => deps.cohorts.get(id)));
  const first = records
    .slice(0, -1)
    .findIndex((r) => r.leaderboard.some((x) => x.genomeId === genomeId));
  if (!genomeId || first < 0) {
    throw new Error(`the ranking's pick ${genomeId} ran in no reviewed cohort before Day 3`);
  }
  const market = options.market ?? records[0]?.market ?? 'equity-usa';
  const firstRow = records[first]?.leaderboard.find((x) => x.genomeId === genomeId) as AgentRow;
  const store = buildPaperSessionDeps(stack.runtime, deps).trackRecord;
  const paper: { date: string; dailyReturn: number }[] = [];
  for (let i = first + 1; i < records.length; i += 1) {
    const [from, on] = [records[i - 1], records[i]] as [
      (typeof records)[number],
      (typeof records)[number],
    ];
    const row = from.leaderboard.find((x) => x.genomeId === genomeId) ?? firstRow;
    await deps.promotions.stage(
      slotPromotion(
        row,
        {
          id: `pr-oos-winner-${on.sessionDate}`,
          cohortId: from.cohortId,
          sessionDate: from.sessionDate,
          stagedAtIso: `${on.sessionDate}T13:30:00.000Z`,
          market,
        },
        'promoted',
      ),
    );
    const held =
      on.baselines?.find((b) => b.baseline === 'buy_and_hold' && b.symbol === row.symbol)
        ?.sessionReturn ?? 0;
    const dailyReturn = Math.max(0, held) + edge;
    await store.append(paperSession(row, on.sessionDate, dailyReturn));
    paper.push({ date: on.sessionDate, dailyReturn });
  }
  return { genomeId, cutoffDate: records[first]?.sessionDate as string, paper };
}

/** A notifier that keeps what it was asked to post and update. */
export class CapturingNotifier implements Notifier {
  readonly posted: ChatMessage[] = [];
  readonly updates: { channel: string; ts: string; message: ChatMessage }[] = [];

  async postApprovalRequest(message: ChatMessage): Promise<PostedMessage> {
    this.posted.push(message);
    return { channel: 'C0TEST', ts: String(this.posted.length) };
  }

  async updateMessage(channel: string, ts: string, message: ChatMessage): Promise<void> {
    this.updates.push({ channel, ts, message });
  }
}

/** A Slack `block_actions` body for a click on Approve / Reject (urlencoded `payload`). */
export function slackClickBody(input: {
  readonly userId: string;
  readonly actionId: 'approve' | 'reject';
  readonly approvalId: string;
  /** The click's `action_ts` (Slack sends one with every click); absent: none. */
  readonly actionTs?: string;
}): string {
  const payload = {
    type: 'block_actions',
    user: { id: input.userId, team_id: 'T0TEST' },
    team: { id: 'T0TEST' },
    api_app_id: 'A0TEST',
    actions: [
      {
        action_id: input.actionId,
        type: 'button',
        block_id: 'b',
        value: input.approvalId,
        ...(input.actionTs ? { action_ts: input.actionTs } : {}),
      },
    ],
    container: { message_ts: '1', channel_id: 'C0TEST' },
    channel: { id: 'C0TEST' },
    message: { ts: '1' },
  };
  return `payload=${encodeURIComponent(JSON.stringify(payload))}`;
}

/** An HTTP API v2 event of a Slack interactivity POST, signed with `secret` at `timestamp`. */
export function slackEvent(input: {
  readonly body: string;
  readonly secret: string;
  /** Epoch seconds. */
  readonly timestamp: number;
  /** Sign this body instead of `body` (a tampered request). */
  readonly signedBody?: string;
  /** Slack's redelivery number (`X-Slack-Retry-Num`), absent on a first delivery. */
  readonly retryNum?: number;
}): Record<string, unknown> {
  const ts = String(input.timestamp);
  return {
    version: '2.0',
    routeKey: 'POST /slack/interactivity',
    rawPath: '/slack/interactivity',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'x-slack-request-timestamp': ts,
      'x-slack-signature': slackSignature(input.secret, ts, input.signedBody ?? input.body),
      ...(input.retryNum
        ? { 'x-slack-retry-num': String(input.retryNum), 'x-slack-retry-reason': 'http_timeout' }
        : {}),
    },
    body: Buffer.from(input.body, 'utf8').toString('base64'),
    isBase64Encoded: true,
    requestContext: { http: { method: 'POST', path: '/slack/interactivity' } },
  };
}
