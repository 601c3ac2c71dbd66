/**
 * Shared helpers of the Day-3 integration and browser tests: reading the audit trail back
 * from the S3 emulator, running the three real daily cohorts, a capturing notifier, and
 * signed Slack interactivity requests.
 */

import { slackSignature } from '../../../functions/adapters/slack/signature.js';
import type { ChatMessage, Notifier, PostedMessage } from '../../../functions/ports/notifier.js';
import type { LocalStack } from '../../../local/local-stack.js';
import { readAuditObjects } from '../../support/audit.js';

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
