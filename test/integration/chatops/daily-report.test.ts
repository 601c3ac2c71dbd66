/**
 * The daily report after the close, from a real local run (two real cohorts, a real promotion
 * whose paper session ran on 2013-10-08, a pending Day-3 approval), posted through the official
 * Slack SDK (`WebClient`, `chat.postMessage`) to a fake Slack on loopback, and audited:
 * - at 16:45 New York on 2013-10-08 it posts the session's numbers (cohort PnL, session
 *   returns with the daily Sharpe and PSR(0), the candidate's DSR, the promotion's gates, the
 *   paper session's PnL, parity and reconciliation, the pending approval), recorded
 *   `report_posted` `posted` with the message ts;
 * - a second firing for the same session posts nothing (`skipped`, recorded);
 * - a firing on a Saturday posts nothing and says why (recorded);
 * - a refusal by Slack (`channel_not_found`) is recorded `failed` and thrown;
 * - when Slack accepted a post but saving the report failed, the retry saves it with Slack's
 *   ts and posts nothing (the post claim);
 * - two runs at the same instant (both reach the claim before either writes it) post once:
 *   the claim is a conditional put on DynamoDB Local, the loser is skipped and says why;
 * - per market: the crypto report of UTC day 2013-10-08 is posted beside the equity report of
 *   the same date (each once, each with its own market's records; a redelivery of either posts
 *   nothing), and a report kept before reports had a market is read as the equity one;
 * and `/stagegate status` on the same run shows the day's paper session (position, session
 * PnL, open orders, parity, reconciliation).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderSlashAnswer } from '../../../functions/adapters/slack/command-messages.js';
import { dailyReportMessage } from '../../../functions/adapters/slack/daily-report-message.js';
import { SlackNotifier } from '../../../functions/adapters/slack/slack-notifier.js';
import { buildSlashCommandDeps } from '../../../functions/composition/chatops.js';
import { buildDailyReportDeps } from '../../../functions/composition/daily-report.js';
import { webApiPoster } from '../../../functions/composition/slack-web-api.js';
import { NotificationRejectedError } from '../../../functions/core/errors.js';
import {
  buildDailyReport,
  DAILY_REPORT_STREAM,
  type DailyReport,
  type DailyReportDeps,
  postDailyReport,
} from '../../../functions/core/use-cases/daily-report.js';
import type { PaperSessionStatus } from '../../../functions/core/use-cases/paper-status.js';
import { readStatus } from '../../../functions/core/use-cases/slash-command.js';
import { createHandler } from '../../../functions/handlers/post-daily-report.js';
import type { AuditReader } from '../../../functions/ports/audit.js';
import { chatOpsConfigOf } from '../../../lib/config/runtime-env.js';
import { localLambdaContext } from '../../../local/asl-runner.js';
import { InMemorySecrets } from '../../../local/composition.js';
import { type FakeSlack, startFakeSlack } from '../../support/fake-slack.js';
import { type ConsoleFixture, startConsoleFixture } from '../console/support.js';
import { auditRecords } from '../day3/support.js';

const TOKEN = 'xoxb-test-daily-report';
let fx: ConsoleFixture;
let slack: FakeSlack;

beforeAll(async () => {
  [fx, slack] = await Promise.all([startConsoleFixture('it-daily-report'), startFakeSlack()]);
}, 240_000);

afterAll(async () => {
  await fx?.stop();
  await slack?.close();
});

function deps(channel = 'C0DESK'): DailyReportDeps {
  const rt = fx.stack.runtime;
  const notifier = new SlackNotifier({
    poster: webApiPoster(TOKEN, { slackApiUrl: slack.apiUrl }),
    channel,
  });
  return buildDailyReportDeps(rt, chatOpsConfigOf(fx.stack.config), notifier);
}

const reportRecords = async () =>
  (await auditRecords(fx.stack)).filter((r) => r.stream === DAILY_REPORT_STREAM);

describe('daily report after the close', () => {
  it('posts the session numbers to Slack through the SDK and records it', async () => {
    // 16:45 New York on 2013-10-08 (EDT): after the close.
    fx.stack.clock.set(Date.parse('2013-10-08T20:45:00.000Z'));
    const out = await postDailyReport(deps(), dailyReportMessage);
    expect(out.outcome).toBe('posted');
    if (out.outcome !== 'posted') return;
    const r = out.report;
    expect(r.sessionDate).toBe('2013-10-08');
    expect(r.cohort?.cohortId).toBe(fx.cohortIds[1]);
    expect(r.sessionReturns.map((s) => s.sessionDate)).toEqual(['2013-10-07', '2013-10-08']);
    expect(r.dailySharpe).toEqual(expect.any(Number));
    expect(r.candidate?.trials).toBeGreaterThan(1);
    const promotion = r.promotions.find((p) => p.promotion.promotionId === fx.promotionId);
    expect(promotion?.gates.length).toBeGreaterThan(0);
    // The challenger never paper-traded: its daily baseline gate is not judged, not a pass
    expect(promotion?.gates.find((g) => g.gate === 'baseline')?.verdict).toBe('not_judged');
    const paper = r.paperSessions.find((s) => s.promotionId === fx.promotionId);
    expect(paper?.status).toMatch(/completed|halted/);
    expect(paper?.differenceUsd).toEqual(expect.any(Number));
    expect(r.pendingApprovals.map((a) => a.approvalId)).toContain(fx.approvalId);

    // What Slack received: one chat.postMessage with the bot token, to the channel.
    expect(slack.calls).toHaveLength(1);
    const call = slack.calls[0];
    expect(call?.method).toBe('chat.postMessage');
    expect(call?.token).toBe(TOKEN);
    expect(call?.args.channel).toBe('C0DESK');
    const text = JSON.stringify(call?.args.blocks);
    expect(text).toContain('daily report: 2013-10-08');
    expect(text).toContain(fx.promotionId);
    expect(text).toContain('PSR(0)');
    expect(text).toContain('DSR');
    expect(text).toContain(fx.approvalId);
    expect(text).toMatch(/parity -?\$/);
    expect(text).toMatch(
      /17 gate\(s\): \d+ passed, \d+ failed, 1 not judged: [^"]*baseline not judged/,
    );
    expect(text).not.toContain(TOKEN);

    const [posted] = await reportRecords();
    expect(posted?.payload).toMatchObject({
      report: 'daily',
      outcome: 'posted',
      session_date: '2013-10-08',
      channel: 'C0DESK',
      ts: out.ts,
      cohort_id: fx.cohortIds[1],
    });
  });

  it('reads only the promotion streams, and builds the report a read of every record builds', async () => {
    // Prepare: the run's real records (cohorts, learning, the promotion and its paper session,
    // the Day-3 review, the reports above) through two readers over the same bucket: as the
    // report reads them, and one that drops the stream filter; each counts what it returned
    fx.stack.clock.set(Date.parse('2013-10-08T20:55:00.000Z'));
    const base = deps();
    // A record of the day on another stream, naming another promotion: never read
    await base.audit.append({
      kind: 'gate_evaluated',
      actor: 'stagegate/it-daily-report',
      stream: 'cohort:it-other-stream',
      environment: base.environment,
      subject: { promotion_id: 'it-other-promotion' },
      payload: {
        gate: 'max-drawdown',
        verdict: 'pass',
        observed: 0,
        threshold: 0.05,
        reason: 'ok',
      },
    });
    const returned = { filtered: [] as string[], unfiltered: [] as string[] };
    const counting = (into: string[], filter: boolean): AuditReader => ({
      readRecords: async (query) => {
        const { streamPrefixes: _prefixes, ...everyStream } = query;
        const inputs = await base.auditReader.readRecords(filter ? query : everyStream);
        into.push(...inputs.map((i) => String((i.record as { stream?: unknown }).stream)));
        return inputs;
      },
      readHeads: (streams) => base.auditReader.readHeads(streams),
    });
    const session = {
      sessionDate: '2013-10-08',
      closeIso: '2013-10-08T20:00:00.000Z',
      earlyClose: false,
    };

    // Act
    const filtered = await buildDailyReport(
      { ...base, auditReader: counting(returned.filtered, true) },
      session,
    );
    const unfiltered = await buildDailyReport(
      { ...base, auditReader: counting(returned.unfiltered, false) },
      session,
    );

    // Assess: the same report; the filtered read returned promotion records only, the other
    // read also the records of other streams (which the S3 reader no longer fetches)
    expect(filtered).toEqual(unfiltered);
    expect(filtered.paperSessions.map((p) => p.promotionId)).toContain(fx.promotionId);
    expect(filtered.promotions.some((p) => p.gates.length > 0)).toBe(true);
    expect(returned.filtered.length).toBeGreaterThan(0);
    expect(returned.filtered.every((s) => s.startsWith('promotion:'))).toBe(true);
    const others = returned.unfiltered.filter((s) => !s.startsWith('promotion:'));
    expect(others).toContain('cohort:it-other-stream');
    expect(returned.unfiltered.length).toBe(returned.filtered.length + others.length);
  });

  it('does not post a session twice, nor on a day without a session, and says why', async () => {
    fx.stack.clock.set(Date.parse('2013-10-08T21:15:00.000Z'));
    const again = await postDailyReport(deps(), dailyReportMessage);
    expect(again).toMatchObject({ outcome: 'skipped', sessionDate: '2013-10-08' });
    // Saturday 2013-10-12, 16:45 New York: the newest close (Friday's) is over a day old.
    fx.stack.clock.set(Date.parse('2013-10-12T20:45:00.000Z'));
    const saturday = await postDailyReport(deps(), dailyReportMessage);
    expect(saturday).toMatchObject({ outcome: 'skipped', sessionDate: null });
    expect(slack.calls).toHaveLength(1);
    const outcomes = (await reportRecords()).map((r) => r.payload.outcome);
    expect(outcomes).toEqual(['posted', 'skipped', 'skipped']);
  });

  it("shows the day's paper session in /stagegate status: position, PnL, open orders, parity", async () => {
    fx.stack.clock.set(Date.parse('2013-10-08T20:50:00.000Z'));
    const status = await readStatus(
      buildSlashCommandDeps(fx.stack.runtime, {
        users: {},
        secrets: new InMemorySecrets({}),
        promotionDeps: () => fx.stack.promotion,
      }),
    );
    expect(Array.isArray(status.paperSessions)).toBe(true);
    const s = (status.paperSessions as readonly PaperSessionStatus[]).find(
      (p) => p.promotionId === fx.promotionId,
    );
    expect(s?.status).toMatch(/completed|halted/);
    expect(s?.sessionDate).toBe('2013-10-08');
    expect(s?.symbol).toEqual(expect.any(String));
    // Flattened at the close: no position, no open order; the recorded PnL and parity.
    expect(s?.positionQty).toBe(0);
    expect(s?.openOrders).toEqual([]);
    expect(s?.pnlBasis).toBe('recorded at the close');
    expect(s?.sessionPnlUsd).toEqual(expect.any(Number));
    expect(s?.parityDifferenceUsd).toEqual(expect.any(Number));
    expect(s?.reconciliationClean).toEqual(expect.any(Boolean));
    const blocks = JSON.stringify(renderSlashAnswer({ kind: 'status', view: status }).blocks);
    expect(blocks).toContain('Paper sessions today');
    expect(blocks).toContain(fx.promotionId);
    // The next day has no session of its own yet.
    fx.stack.clock.set(Date.parse('2013-10-09T13:00:00.000Z'));
    const next = await readStatus(
      buildSlashCommandDeps(fx.stack.runtime, {
        users: {},
        secrets: new InMemorySecrets({}),
        promotionDeps: () => fx.stack.promotion,
      }),
    );
    expect(next.paperSessions).toEqual([]);
  });

  it('records a refusal by Slack as failed and throws it', async () => {
    slack.answer = () => ({ ok: false, error: 'channel_not_found' });
    // 2013-10-09 16:45 New York: a session not posted yet.
    fx.stack.clock.set(Date.parse('2013-10-09T20:45:00.000Z'));
    await expect(postDailyReport(deps('C0GONE'), dailyReportMessage)).rejects.toBeInstanceOf(
      NotificationRejectedError,
    );
    const last = (await reportRecords()).at(-1);
    expect(last?.payload).toMatchObject({ outcome: 'failed', session_date: '2013-10-09' });
    expect(String(last?.payload.error)).toContain('channel_not_found');
  });

  it('never posts twice when Slack accepted the post but saving the report failed', async () => {
    // Prepare: Slack accepts again (after the refusal above, a retry may post); the first
    // save of the 2013-10-09 report fails.
    slack.answer = (_method, args) => ({
      ok: true,
      channel: args.channel,
      ts: '1381351500.000200',
    });
    fx.stack.clock.set(Date.parse('2013-10-09T20:50:00.000Z'));
    const base = deps();
    let failures = 1;
    const flaky: DailyReportDeps = {
      ...base,
      artifacts: {
        getJson: (key) => base.artifacts.getJson(key),
        putJson: async (key, doc) => {
          if (key === 'daily-reports/2013-10-09.json' && failures-- > 0) {
            throw new Error('S3 unavailable');
          }
          return base.artifacts.putJson(key, doc);
        },
      },
    };
    const before = slack.calls.length;

    // Act: the run posts, then fails to save; the scheduler's retry runs again
    await expect(postDailyReport(flaky, dailyReportMessage)).rejects.toThrow(/S3 unavailable/);
    const retry = await postDailyReport(flaky, dailyReportMessage);
    const third = await postDailyReport(flaky, dailyReportMessage);

    // Assess: one post; the retry kept the report with Slack's ts; the third skipped
    expect(slack.calls.length - before).toBe(1);
    expect(retry).toMatchObject({ outcome: 'posted', ts: '1381351500.000200' });
    expect(third).toMatchObject({ outcome: 'skipped', sessionDate: '2013-10-09' });
    const saved = (await base.artifacts.getJson('daily-reports/2013-10-09.json')) as {
      posted: { ts: string };
    };
    expect(saved.posted.ts).toBe('1381351500.000200');
    const last = (await reportRecords()).slice(-2).map((r) => r.payload);
    expect(last[0]).toMatchObject({ outcome: 'posted', recovered: true, ts: '1381351500.000200' });
    expect(last[1]).toMatchObject({ outcome: 'skipped' });
  });

  it('posts once when two runs claim the same session at the same instant', async () => {
    // Prepare: 2013-10-10 16:45 New York, a session not posted yet; both runs are held at
    // the claim until both have reached it, so neither sees the other's claim beforehand.
    fx.stack.clock.set(Date.parse('2013-10-10T20:45:00.000Z'));
    const base = deps();
    let arrived = 0;
    let release: () => void = () => undefined;
    const bothThere = new Promise<void>((resolve) => {
      release = resolve;
    });
    const held: DailyReportDeps = {
      ...base,
      claims: {
        begin: async (key, atIso) => {
          if (++arrived === 2) release();
          await bothThere;
          return base.claims.begin(key, atIso);
        },
        settle: (key, claim) => base.claims.settle(key, claim),
      },
    };
    const before = slack.calls.length;

    // Act: the two runs at once
    const outcomes = await Promise.all([
      postDailyReport(held, dailyReportMessage),
      postDailyReport(held, dailyReportMessage),
    ]);

    // Assess: one Slack call; one run posted, the other skipped with the reason, both audited
    expect(slack.calls.length - before).toBe(1);
    expect(outcomes.map((o) => o.outcome).sort()).toEqual(['posted', 'skipped']);
    const skipped = outcomes.find((o) => o.outcome === 'skipped');
    expect(skipped).toMatchObject({ sessionDate: '2013-10-10' });
    expect(skipped && 'reason' in skipped ? skipped.reason : '').toMatch(/not posted again/);
    const last = (await reportRecords()).slice(-2).map((r) => r.payload);
    expect(last.map((p) => p.outcome).sort()).toEqual(['posted', 'skipped']);
    expect(last.every((p) => p.session_date === '2013-10-10')).toBe(true);
  });
  it("a redelivery of the Scheduler's invocation that posted appends nothing; another firing records its skip", async () => {
    // Prepare: Friday 2013-10-11, 16:45 New York; the schedule's scheduled time
    const scheduledTime = '2013-10-11T20:45:00Z';
    fx.stack.clock.set(Date.parse('2013-10-11T20:45:00.000Z'));
    const before = (await reportRecords()).length;
    const posted = await postDailyReport(deps(), dailyReportMessage, scheduledTime);
    // Act: the same invocation redelivered a minute later (its answer was lost), then the
    // next firing of the schedule
    fx.stack.clock.set(Date.parse('2013-10-11T20:46:00.000Z'));
    const redelivered = await postDailyReport(deps(), dailyReportMessage, scheduledTime);
    const next = await postDailyReport(deps(), dailyReportMessage, '2013-10-11T20:46:00Z');
    // Assess: posted once; the redelivery added no record, the next firing its skip
    expect(posted.outcome).toBe('posted');
    expect(redelivered).toMatchObject({ outcome: 'skipped', sessionDate: '2013-10-11' });
    const added = (await reportRecords()).slice(before).map((r) => r.payload);
    expect(added.map((p) => [p.outcome, p.session_date])).toEqual([
      ['posted', '2013-10-11'],
      ['skipped', '2013-10-11'],
    ]);
    expect(next.outcome).toBe('skipped');
  });
});

/** The post-daily-report handler over this run's stack (the event's `market` picks the report). */
function reportHandler() {
  const handler = createHandler(() => deps());
  return (event: Record<string, unknown>) =>
    handler(event, localLambdaContext('PostDailyReport', 120_000)) as Promise<
      Record<string, unknown>
    >;
}

describe('one daily report per market and session date', () => {
  it('posts the crypto report of a UTC day whose date the equity report already has, once each', async () => {
    // Prepare: the equity report of 2013-10-08 was posted above (16:45 New York); at 00:55
    // UTC on 2013-10-09 the crypto schedule reports the UTC day 2013-10-08
    const scheduledTime = '2013-10-09T00:55:00Z';
    fx.stack.clock.set(Date.parse(scheduledTime));
    const post = reportHandler();
    const calls = slack.calls.length;
    const records = (await reportRecords()).length;

    // Act: the crypto firing, its redelivery, and an equity event without a market
    const cryptoReport = await post({ scheduledTime, market: 'crypto' });
    const redelivered = await post({ scheduledTime, market: 'crypto' });
    const equity = await post({ scheduledTime });

    // Assess: one new Slack post, the crypto one, saying which market it reports
    expect(cryptoReport).toMatchObject({
      outcome: 'posted',
      market: 'crypto',
      sessionDate: '2013-10-08',
    });
    expect(slack.calls.length - calls).toBe(1);
    const header = JSON.stringify(slack.calls.at(-1)?.args.blocks);
    expect(header).toContain('daily report: 2013-10-08 (crypto, UTC day)');
    expect(redelivered).toMatchObject({ outcome: 'skipped', market: 'crypto' });
    expect(String(redelivered.reason)).toMatch(/already posted/);
    expect(equity).toMatchObject({
      outcome: 'skipped',
      market: 'equity-usa',
      sessionDate: '2013-10-08',
    });
    // Two reports of the same date, each with its own market's records only
    const kept = (key: string) => fx.stack.runtime.artifacts.getJson(key) as Promise<DailyReport>;
    const [equityKept, cryptoKept] = await Promise.all([
      kept('daily-reports/2013-10-08.json'),
      kept('daily-reports/crypto/2013-10-08.json'),
    ]);
    expect(equityKept).toMatchObject({ market: 'equity-usa', sessionDate: '2013-10-08' });
    expect(equityKept.cohort?.cohortId).toBe(fx.cohortIds[1]);
    expect(cryptoKept).toMatchObject({
      market: 'crypto',
      sessionDate: '2013-10-08',
      closeIso: '2013-10-09T00:00:00.000Z',
      cohort: null,
      sessionReturns: [],
      promotions: [],
      paperSessions: [],
    });
    // Audited with its market; the redelivery added nothing, the equity skip its record
    const added = (await reportRecords()).slice(records).map((r) => r.payload);
    expect(added.map((p) => [p.market, p.outcome, p.session_date])).toEqual([
      ['crypto', 'posted', '2013-10-08'],
      ['equity-usa', 'skipped', '2013-10-08'],
    ]);
  });

  it('reads a report kept before reports had a market as the equity one: skips it, posts the crypto one', async () => {
    // Prepare: the 2013-10-17 equity report as earlier versions kept it (no market) and
    // claimed it (`daily-report#<date>`)
    await fx.stack.runtime.artifacts.putJson('daily-reports/2013-10-17.json', {
      sessionDate: '2013-10-17',
      closeIso: '2013-10-17T20:00:00.000Z',
      posted: { channel: 'C0DESK', ts: '1382040300.000100' },
    });
    const claims = deps().claims;
    await claims.begin('daily-report#2013-10-17', '2013-10-17T20:45:00.000Z');
    await claims.settle('daily-report#2013-10-17', {
      status: 'posted',
      atIso: '2013-10-17T20:45:00.000Z',
      channel: 'C0DESK',
      ts: '1382040300.000100',
    });
    const post = reportHandler();
    const calls = slack.calls.length;

    // Act: the equity firing of 2013-10-17 (redeployed code), then the crypto one of its UTC day
    fx.stack.clock.set(Date.parse('2013-10-17T20:45:00.000Z'));
    const equity = await post({ scheduledTime: '2013-10-17T20:45:00Z', market: 'equity-usa' });
    fx.stack.clock.set(Date.parse('2013-10-18T00:55:00.000Z'));
    const cryptoReport = await post({ scheduledTime: '2013-10-18T00:55:00Z', market: 'crypto' });

    // Assess: the old record counts as the equity report; the crypto day is its own
    expect(equity).toMatchObject({ outcome: 'skipped', market: 'equity-usa' });
    expect(String(equity.reason)).toMatch(/2013-10-17 report was already posted/);
    expect(cryptoReport).toMatchObject({
      outcome: 'posted',
      market: 'crypto',
      sessionDate: '2013-10-17',
    });
    expect(slack.calls.length - calls).toBe(1);
  });

  it('refuses an event naming an unknown market, and posts nothing', async () => {
    // Prepare
    const calls = slack.calls.length;

    // Act + Assess
    await expect(reportHandler()({ market: 'fx' })).rejects.toThrow(/event\.market/);
    expect(slack.calls.length).toBe(calls);
  });
});
