/**
 * The local Day-3 go/no-go: after the three daily cohorts, runs
 * `statemachines/day3-go-no-go.asl.json` on the local stack, serves the approval page on
 * loopback, prints the approval link and the Slack payload (Block Kit JSON) it would send (or
 * posts it to `STAGEGATE_SLACK_WEBHOOK_URL`), and then:
 *
 * - `manual`: waits for a human to decide on the page (until the configured timeout);
 * - `auto`: approves at once as `cli-auto:<user>` (unattended demos; labelled as such in the
 *   output, the audit trail and the Slack update);
 * - `reject`: rejects at once as `cli-auto:<user>`.
 *
 * On approval the same promotion pipeline runs the micro-live slice on the simulated paper
 * broker; afterwards the rollback monitor is replayed over the rest of that session at the
 * deployed schedules (`lib/config/schedules.ts`: every 5 minutes and the closing tick),
 * exactly the handler EventBridge Scheduler invokes in AWS. Returns the outcome for the CLI.
 */
import os from 'node:os';
import { TZDate } from '@date-fns/tz';
import { WebhookNotifier } from '../functions/adapters/slack/webhook-notifier.js';
import { decideApproval } from '../functions/core/approval/decide.js';
import {
  type Market,
  marketDate,
  marketTimeMs,
  marketTimeZone,
  sessionHours,
} from '../functions/core/calendar/market-calendar.js';
import { applyApprovalDecision } from '../functions/core/use-cases/day3-approval.js';
import type { Day3Conclusion } from '../functions/core/use-cases/day3-conclude.js';
import type {
  Day3Selection,
  LeverageDecisionRecord,
  MicroLiveSlice,
} from '../functions/core/use-cases/day3-records.js';
import type { SliceTick } from '../functions/core/use-cases/day3-rollback.js';
import type { SessionSummary } from '../functions/core/use-cases/paper-session.js';
import type { OrdersOutput } from '../functions/core/use-cases/promotion-orders.js';
import type { ChatMessage, Notifier, PostedMessage } from '../functions/ports/notifier.js';
import { type RollbackMonitorTick, stageSchedules } from '../lib/config/schedules.js';
import { type ApprovalServer, startApprovalServer } from './approval-server.js';
import { type LocalExecutionResult, localLambdaContext } from './asl-runner.js';
import { messageLinks } from './console-notifier.js';
import { DAY3_VIEW, PROMOTION_VIEW, readExecution } from './execution-views.js';
import {
  collapsingProgress,
  gatesTable,
  paperOrdersTable,
  pct,
  signedUsd,
  table,
  usd,
} from './format.js';
import type { LocalDay3Run, LocalStack } from './local-stack.js';
import { orderRowsOf } from './paper-output.js';
import { timeline } from './scheduler.js';

/** How the local run decides the approval. */
export type ApprovalMode = 'auto' | 'manual' | 'reject';

/** Options of {@link runDay3}. */
export interface RunDay3Options {
  /** The Day 1, 2, 3 cohort ids, oldest first. */
  readonly cohortIds: readonly string[];
  readonly approval: ApprovalMode;
  /**
   * The labelled demo override of a shortfall of evidence (default true in the local mode: a
   * few sessions are too few for any genome to have enough evidence; false shows the honest
   * `insufficient_evidence` ending). It never covers evidence against the candidate (a
   * measured out-of-sample loss, not beating the best baseline: `gates_failed`). Never
   * available outside the local mode.
   */
  readonly demoOverride?: boolean;
  /**
   * How long the approval waits, s. @default the config's `promotion.approvalTimeoutHours`
   * (4 hours)
   */
  readonly timeoutSeconds?: number;
  /**
   * Where the local clock starts the go/no-go (and so the micro-live session), UTC ISO-8601.
   * @default the promotion window's opening (`promotion.windows[0].opensAt`, New York) on the
   * first session with data after Day 3.
   */
  readonly startAtIso?: string;
  /** Where progress goes. @default process.stdout */
  readonly write?: (text: string) => void;
  /** The local approver identity. @default `local:<os user>` */
  readonly approver?: string;
  /** Link to the run report shown to the approver (http/https only). */
  readonly reportUrl?: string;
  /** Port of the approval server on 127.0.0.1. @default a free port */
  readonly port?: number;
  /** Replay the rollback monitor after a micro-live start. @default true */
  readonly monitor?: boolean;
  /**
   * Minutes between replayed monitor ticks (tests: fewer ticks). @default the deployed
   * schedules (`lib/config/schedules.ts`: every `schedules.rollbackMonitor.everyMinutes`,
   * closing tick 15:55)
   */
  readonly monitorEveryMinutes?: number;
  /** Aborts the wait (Ctrl-C): the execution ends FAILED `ExecutionAborted`. */
  readonly signal?: AbortSignal;
  /** Incoming-webhook URL to post the Slack payload to. @default env STAGEGATE_SLACK_WEBHOOK_URL */
  readonly webhookUrl?: string;
  /**
   * Called once the approval request is announced, with the run's composed dependencies and
   * handlers (tests drive the page and read the approval store from here).
   */
  readonly onApprovalRequested?: (request: Day3ApprovalRequest, run: LocalDay3Run) => void;
}

/** An announced approval request. */
export interface Day3ApprovalRequest {
  readonly approvalId: string;
  /** The signed link to the local approval page. */
  readonly approvalUrl: string;
  readonly executionArn: string;
  /** The Block Kit payload (`{ text, blocks }`) that would be sent to Slack. */
  readonly message: ChatMessage;
}

/** What {@link runDay3} returns. */
export interface Day3RunOutcome {
  /** The Day-3 execution's status. */
  readonly status: 'SUCCEEDED' | 'FAILED';
  /**
   * `approved` (micro-live started or attempted), `rejected`, `timed_out` (not approved),
   * `gates_failed` (no approval requested) or `failed` (the execution failed).
   */
  readonly decision:
    | 'approved'
    | 'rejected'
    | 'timed_out'
    | 'gates_failed'
    | 'insufficient_evidence'
    | 'failed';
  /** Approver identity `scheme:id` of the recorded decision (null when nobody decided). */
  readonly approver: string | null;
  readonly approvalId: string | null;
  readonly approvalUrl: string | null;
  readonly executionArn: string;
  readonly conclusion: Day3Conclusion | null;
  readonly selection: Day3Selection | null;
  /** The nested promotion pipeline's output (`{ promotionId, outcome, reason }`). */
  readonly promotion: { promotionId: string; outcome: string; reason: string } | null;
  readonly orders: OrdersOutput['orders'];
  /** The micro-live slice's paper session (orders, parity, reconciliation); null when it did not run. */
  readonly paper: SessionSummary | null;
  /** The micro-live slice after the monitor replay (null when not started). */
  readonly slice: MicroLiveSlice | null;
  readonly monitorTicks: readonly (SliceTick & { atIso: string })[];
  readonly leverage: readonly LeverageDecisionRecord[];
  readonly error?: string;
  readonly cause?: string;
  readonly path: readonly string[];
}

/** `local:<os user>` with the characters an approver id allows. */
export function localApprover(scheme = 'local'): string {
  let user = 'user';
  try {
    user = os.userInfo().username;
  } catch {
    user = process.env.USER ?? 'user';
  }
  return `${scheme}:${user.replace(/[^A-Za-z0-9._@+-]/g, '_') || 'user'}`;
}

/**
 * A notifier that prints the Block Kit payload it would send to Slack (and posts it to an
 * incoming webhook when one is configured), and hands each approval request to `onRequest`.
 */
export class LocalDay3Notifier implements Notifier {
  private seq = 0;
  private readonly webhook: WebhookNotifier | null;

  constructor(
    private readonly write: (text: string) => void,
    private readonly onRequest: (message: ChatMessage) => void,
    webhookUrl?: string,
  ) {
    this.webhook = webhookUrl ? new WebhookNotifier({ url: webhookUrl }) : null;
  }

  async postApprovalRequest(message: ChatMessage): Promise<PostedMessage> {
    this.seq += 1;
    if (this.webhook) {
      await this.webhook.postApprovalRequest(message);
      this.write('\nSlack approval request posted to the configured incoming webhook.\n');
    } else {
      this.write(
        `\nSlack payload it would send (chat.postMessage, Block Kit):\n${JSON.stringify({ text: message.text, blocks: message.blocks }, null, 2)}\n`,
      );
    }
    this.onRequest(message);
    return { channel: this.webhook ? 'webhook' : 'local', ts: String(this.seq) };
  }

  async updateMessage(_channel: string, ts: string, message: ChatMessage): Promise<void> {
    if (this.webhook) await this.webhook.updateMessage('webhook', ts, message);
    this.write(`\nSlack update of the approval message #${ts}: ${message.text}\n`);
  }
}

/**
 * No session with data follows Day 3, so the micro-live slice (and the go/no-go that would
 * start it) has no session to trade in. The replay reports it as waiting, never as a failure.
 */
export class NoSessionAfterDay3Error extends Error {
  override readonly name = 'NoSessionAfterDay3Error';
  constructor(
    /** The Day-3 cohort's session date, `YYYY-MM-DD`. */
    readonly day3Date: string,
    /** The sessions the data holds for the cohort's symbols, `YYYY-MM-DD`. */
    readonly sessions: readonly string[],
  ) {
    super(
      `no session with data after ${day3Date} to run the micro-live slice in (sessions: ${sessions.join(', ')})`,
    );
  }
}

/**
 * The micro-live slice's start: the promotion window's opening on the first session with data
 * after Day 3, on the Day-3 cohort's market (New York `promotion.windows[0]`; UTC
 * `promotion.cryptoWindow` for a crypto cohort); the clock's now instead when it is already
 * inside that day's window (a crypto go/no-go firing at 00:45 UTC starts then).
 *
 * @throws NoSessionAfterDay3Error when no session with data follows Day 3; Error when the market
 * has no promotion window.
 */
async function defaultStart(stack: LocalStack, cohortId: string, market: Market): Promise<string> {
  const record = await stack.runtime.cohorts.get(cohortId);
  // With --market-data alpaca-fake the next session is not ingested yet: the fake's tree says
  // which sessions the provider has.
  const sessions = await (stack.alpaca?.source ?? stack.runtime.marketData).listSessions(
    record.symbols,
  );
  const next = sessions.find((d) => d > record.sessionDate);
  if (!next) throw new NoSessionAfterDay3Error(record.sessionDate, sessions);
  const window =
    market === 'crypto' ? stack.config.promotion.cryptoWindow : stack.config.promotion.windows[0];
  if (!window) {
    throw new Error(
      `the stage config has no ${market} promotion window (${market === 'crypto' ? 'promotion.cryptoWindow' : 'promotion.windows'})`,
    );
  }
  const opensMs = marketTimeMs(next, window.opensAt, market);
  const closesMs = marketTimeMs(next, window.closesAt, market);
  const nowMs = stack.clock.now();
  // Already inside that day's window (a crypto go/no-go at 00:45 UTC): start now, not earlier.
  return new Date(nowMs > opensMs && nowMs < closesMs ? nowMs : opensMs).toISOString();
}

/** The market (calendar) of a cohort: its record's `market`, `equity-usa` when absent. */
async function cohortMarket(stack: LocalStack, cohortId: string): Promise<Market> {
  return (await stack.runtime.cohorts.get(cohortId)).market ?? 'equity-usa';
}

/** `HH:mm` of `ms` in `market`'s zone, with the zone's name (`New York` / `UTC`). */
function marketHhmm(ms: number, market: Market): string {
  const t = new TZDate(ms, marketTimeZone(market));
  const hhmm = `${String(t.getHours()).padStart(2, '0')}:${String(t.getMinutes()).padStart(2, '0')}`;
  return `${hhmm} ${market === 'crypto' ? 'UTC' : 'New York'}`;
}

/**
 * The closing tick of the rollback monitor on the session date `date` of `market` (New York
 * date for equities, UTC date for crypto): the firing of the deployed `closeOfDay` schedule
 * that day, epoch ms. Null when it does not fire that day.
 */
function closingTickOn(
  deployed: readonly RollbackMonitorTick[],
  date: string,
  market: Market,
): number | null {
  const midnight = marketTimeMs(date, '00:00', market);
  const closing = deployed.filter((t) => t.closeOfDay);
  const [first] = timeline(closing, midnight, midnight + 86_400_000);
  return first && marketDate(first.atMs, market) === date ? first.atMs : null;
}

/**
 * The rollback monitor's closing tick on `date` (the stage config's `closeOfDay` schedule of
 * `market`, `stageSchedules(config).rollbackMonitor` or `.crypto.rollbackMonitor`) and the
 * settling tick after it: the session's close from the market calendar (16:00 New York, 13:00
 * on an early-close day; 00:00 UTC the next day for crypto), or one minute after the closing
 * tick when the close is not later.
 *
 * @throws Error when `date` is no session of `market` or the config's schedules have no
 *   closing tick on it: the replay never invents a monitor time.
 */
function monitorDayEdges(
  deployed: readonly RollbackMonitorTick[],
  date: string,
  market: Market,
): { closingTick: number; settleAtMs: number } {
  const hours = sessionHours(date, market);
  if (!hours)
    throw new Error(`rollback monitor: ${date} is no ${market} session (market calendar)`);
  const closingTick = closingTickOn(deployed, date, market);
  if (closingTick === null) {
    throw new Error(
      `rollback monitor: the stage config's ${market} schedules (schedules.rollbackMonitor, lib/config/rollback-monitor.ts) have no closing tick on ${date}`,
    );
  }
  return { closingTick, settleAtMs: Math.max(Date.parse(hours.closeIso), closingTick + 60_000) };
}

/**
 * The monitor's ticks after the entry up to the closing tick: the deployed schedules
 * (`stageSchedules(config).rollbackMonitor`, evaluated like EventBridge Scheduler) or, when
 * given, one every `everyMinutes`.
 */
function monitorTicks(
  deployed: readonly RollbackMonitorTick[],
  entryMs: number,
  closingTick: number,
  everyMinutes: number | undefined,
): { atMs: number; closeOfDay: boolean }[] {
  if (everyMinutes) {
    const ticks: { atMs: number; closeOfDay: boolean }[] = [];
    for (let t = entryMs + everyMinutes * 60_000; t < closingTick; t += everyMinutes * 60_000) {
      ticks.push({ atMs: t, closeOfDay: false });
    }
    return [...ticks, { atMs: closingTick, closeOfDay: true }];
  }
  const closing = new Set<string>(deployed.filter((t) => t.closeOfDay).map((t) => t.name));
  return timeline(deployed, entryMs + 1, closingTick + 1).map((f) => ({
    atMs: f.atMs,
    closeOfDay: closing.has(f.name),
  }));
}

/**
 * The rollback monitor's deployed ticks of `market` (`stageSchedules(config)`: the equity
 * ticks, or the crypto block's UTC ticks every day).
 */
export function monitorSchedulesOf(
  config: LocalStack['config'],
  market: Market,
): readonly RollbackMonitorTick[] {
  const all = stageSchedules(config);
  return market === 'crypto' ? all.crypto.rollbackMonitor : all.rollbackMonitor;
}

/**
 * Replays the rollback monitor over the rest of the entry's session, on the slice market's
 * schedules and calendar (a crypto slice: UTC ticks to 23:55 UTC of its UTC day).
 */
async function replayMonitor(
  stack: LocalStack,
  run: LocalDay3Run,
  slice: MicroLiveSlice,
  options: { readonly everyMinutes: number | undefined; readonly market: Market },
  write: (t: string) => void,
): Promise<(SliceTick & { atIso: string })[]> {
  const { everyMinutes, market } = options;
  const handler = run.rollbackMonitor;
  const entryMs = Date.parse(slice.entry?.filledAtIso ?? '');
  if (!Number.isFinite(entryMs)) return [];
  const date = marketDate(entryMs, market);
  const deployed = monitorSchedulesOf(stack.config, market);
  const { closingTick, settleAtMs } = monitorDayEdges(deployed, date, market);
  const ticks = monitorTicks(deployed, entryMs, closingTick, everyMinutes);
  // One more tick at the close settles a flatten still open after the closing tick.
  const settleTick = { atMs: settleAtMs, closeOfDay: false };
  write(
    `\nRollback monitor (replayed ${everyMinutes ? `every ${everyMinutes} min` : 'at its deployed schedules'} on ${date}, closing tick ${marketHhmm(closingTick, market)}):\n`,
  );
  const out: (SliceTick & { atIso: string })[] = [];
  for (let i = 0; i < ticks.length; i++) {
    const tick = ticks[i] as (typeof ticks)[number];
    stack.clock.set(tick.atMs);
    const atIso = new Date(tick.atMs).toISOString();
    const result = (await handler(
      { closeOfDay: tick.closeOfDay, ...(market === 'crypto' ? { market } : {}) },
      localLambdaContext('RollbackMonitor', 60_000),
    )) as { slices: SliceTick[] };
    const mine = result.slices.filter((s) => s.sliceId === slice.sliceId);
    for (const s of mine) out.push({ ...s, atIso });
    const s = mine[0];
    if (!s) {
      if (tick.closeOfDay || out.at(-1)?.status === 'rolled_back') break;
      continue;
    }
    const dd = s.verdict?.observed.drawdownFraction;
    write(
      `  ${atIso} ${s.action.padEnd(16)} equity ${s.equityUsd === null ? 'n/a' : usd(s.equityUsd)}, drawdown ${dd === null || dd === undefined ? 'n/a' : pct(dd)}: ${s.reason}\n`,
    );
    if (s.leverage) {
      write(
        `  leverage ${s.leverage.previous ?? '-'}x -> ${s.leverage.next}x (${s.leverage.rule}): ${s.leverage.rationale}\n`,
      );
    }
    if (s.status === 'rolled_back') break;
    if (tick.closeOfDay && s.status === 'flattening') ticks.push(settleTick);
  }
  return out;
}

/** What {@link onApprovalRequested} needs of the run. */
interface ApprovalRequestContext {
  readonly serverUrl: string;
  readonly executionArn: string;
  readonly run: LocalDay3Run;
  readonly approver: string;
  readonly autoIdentity: string;
  /** When the request times out as not approved, seconds. */
  readonly timeoutSeconds: number;
  readonly options: RunDay3Options;
  readonly write: (t: string) => void;
}

/**
 * The approval request the notifier announced: prints its link, then waits for the page
 * (`--approval manual`) or decides it as the automatic identity (`auto` / `reject`).
 */
async function onApprovalRequested(
  message: ChatMessage,
  ctx: ApprovalRequestContext,
): Promise<Day3ApprovalRequest> {
  const { options, write, autoIdentity } = ctx;
  const approvalUrl =
    messageLinks(message.blocks).find((u) => u.startsWith(`${ctx.serverUrl}/approvals/`)) ?? '';
  const approvalId = /\/approvals\/([^/?]+)/.exec(approvalUrl)?.[1] ?? '';
  const request = { approvalId, approvalUrl, executionArn: ctx.executionArn, message };
  write(
    `\nApproval link (local approval page, signed, expires with the request):\n  ${approvalUrl}\n`,
  );
  options.onApprovalRequested?.(request, ctx.run);
  if (options.approval === 'manual') {
    write(
      `Waiting for a decision on the page as ${ctx.approver} (times out as not approved after ${ctx.timeoutSeconds} s)...\n`,
    );
    return request;
  }
  const decision = options.approval === 'auto' ? 'approved' : 'rejected';
  write(
    `\n*** ${options.approval === 'auto' ? 'AUTO-APPROVE' : 'AUTO-REJECT'} (--approval ${options.approval}, unattended demo): deciding "${decision}" as ${autoIdentity} ***\n`,
  );
  const deps = ctx.run.approval;
  const outcome = await decideApproval(deps, {
    approvalId,
    decision,
    approver: autoIdentity,
    channel: 'cli',
  });
  await applyApprovalDecision(deps, outcome);
  if (!outcome.ok) write(`automatic decision refused: ${outcome.error.message}\n`);
  return request;
}

/** Starts the Day-3 execution at `startAtIso`, printing the states it enters. */
function startDay3(
  run: LocalDay3Run,
  options: RunDay3Options,
  start: { readonly atIso: string; readonly market: Market },
  write: (t: string) => void,
) {
  // Named by the market's own session date (the UTC day for crypto, New York for equities).
  const date = marketDate(Date.parse(start.atIso), start.market).replaceAll('-', '');
  const entered = collapsingProgress(write);
  return run.machine.start(
    {
      source: 'cli',
      cohortIds: [...options.cohortIds],
      ...(options.reportUrl ? { reportUrl: options.reportUrl } : {}),
    },
    {
      executionName: `day3-${date}-${Date.now().toString(36)}`,
      signal: options.signal,
      onProgress: (e) => {
        if (e.type === 'StateEntered' && e.state)
          entered(`${e.machine ? `${e.machine}/` : ''}${e.state}`);
      },
    },
  );
}

/**
 * Runs the Day-3 go/no-go for three cohorts (see the module comment). Starts and stops its own
 * approval server; leaves the local stack running.
 *
 * @throws when no session with data follows Day 3 (and no `startAtIso` is given), or on
 *   an interpreter fault; a failed execution is an outcome, not an exception.
 */
export async function runDay3(stack: LocalStack, options: RunDay3Options): Promise<Day3RunOutcome> {
  const write = options.write ?? ((t: string) => process.stdout.write(t));
  const approver = options.approver ?? localApprover();
  const autoIdentity = localApprover('cli-auto');
  const approvers = options.approval === 'manual' ? [approver] : [approver, autoIdentity];
  const day3CohortId = options.cohortIds[2];
  if (options.cohortIds.length !== 3 || !day3CohortId) {
    throw new Error(`Day 3 needs three cohort ids, got ${options.cohortIds.length}`);
  }
  const market = await cohortMarket(stack, day3CohortId);
  const startAtIso = options.startAtIso ?? (await defaultStart(stack, day3CohortId, market));
  let server: ApprovalServer | null = null;
  try {
    let announced: (message: ChatMessage) => void = () => undefined;
    const announcement = new Promise<ChatMessage>((resolve) => {
      announced = resolve;
    });
    let run: LocalDay3Run | null = null;
    const notRunning = () => Promise.reject(new Error('the Day-3 run is not composed yet'));
    server = await startApprovalServer({
      approver,
      port: options.port,
      handlers: {
        approval: (e, c) => (run ? run.http.approval(e, c) : notRunning()),
        slack: (e, c) => (run ? run.http.slack(e, c) : notRunning()),
      },
    });
    run = await stack.day3({
      approvalBaseUrl: server.url,
      approvers,
      timeoutSeconds: options.timeoutSeconds,
      demoOverride: options.demoOverride ?? true,
      notifier: new LocalDay3Notifier(
        write,
        (m) => announced(m),
        options.webhookUrl ?? process.env.STAGEGATE_SLACK_WEBHOOK_URL,
      ),
    });
    const day3Run = run;
    // Nothing sends heartbeats: the earlier of the two timers is the deadline.
    const timeoutSeconds = Math.min(
      run.config.approvalTimeoutSeconds,
      run.config.approvalHeartbeatSeconds,
    );
    stack.clock.set(Date.parse(startAtIso));
    write(`\nDay-3 go/no-go over ${options.cohortIds.join(', ')}\n  `);
    const execution = startDay3(day3Run, options, { atIso: startAtIso, market }, write);
    const first = await Promise.race([
      announcement.then((m) => ({ kind: 'announced' as const, message: m })),
      execution.result.then((r) => ({ kind: 'ended' as const, result: r })),
    ]);
    const request =
      first.kind === 'announced'
        ? await onApprovalRequested(first.message, {
            serverUrl: server.url,
            executionArn: execution.executionArn,
            run: day3Run,
            approver,
            autoIdentity,
            timeoutSeconds,
            options,
            write,
          })
        : null;
    const result = await execution.result;
    write(`\n[day-3 ${result.status.toLowerCase()}]\n`);
    return await summarize(
      stack,
      day3Run,
      result,
      request,
      { ...options, market, startAtIso },
      write,
    );
  } finally {
    await server?.close();
  }
}

const num = (x: number | null, digits = 3): string =>
  x === null ? 'n/a' : Number(x.toPrecision(digits)).toString();

/** The candidate's paper track record up to Day 3, one line. */
function paperLine(p: Day3Selection['evidence']['paper']): string {
  if (!p) return 'not read';
  if (p.sessions === 0) return 'none';
  const usd = (x: number) => `${x < 0 ? '-' : ''}$${Math.abs(x).toFixed(2)}`;
  return `n=${p.sessions} [${p.sessionDates.join(', ')}], paper PnL ${usd(p.totalPaperPnlUsd)}, parity ${p.paritySessions} exact / ${p.divergedSessions} diverged (paper − simulator ${usd(p.totalParityDifferenceUsd)}), ${p.haltedSessions} halted, ${p.counted} counted`;
}

/** The candidate beside the cohort baselines out of sample, one line. */
function baselineLine(
  b: Day3Selection['evidence']['baselines'],
  pct: (x: number | null) => string,
): string {
  if (!b) return 'not recorded';
  const each = b.baselines
    .map((x) => `${x.baseline}${x.symbol ? ` ${x.symbol}` : ''} ${pct(x.meanReturn)}`)
    .join(', ');
  const missing =
    b.missingDates.length > 0 ? `; none recorded for ${b.missingDates.join(', ')}` : '';
  return `n=${b.sessionDates.length}, candidate ${pct(b.candidateMeanReturn)} per session vs ${each}${missing}`;
}

/**
 * The candidate genome's evidence as the CLI prints it: sample, frequency, Sharpe per
 * session, shape, PSR / DSR, trials, minimum track records, the verdict and (when set) the
 * demo override label.
 */
export function evidenceText(selection: Day3Selection): string {
  const pctOrNa = (x: number | null) => (x === null ? 'n/a' : `${(x * 100).toFixed(3)}%`);
  const trl = (x: number | null) =>
    x === null ? 'n/a (undefined, or no length suffices)' : `${Math.ceil(x)} sessions`;
  const e = selection.evidence;
  const sessions = e.sessions
    .map(
      (x) =>
        `${x.sessionDate} ${(x.sessionReturn * 100).toFixed(3)}%${x.source === 'paper' ? ' paper' : ''}${x.sample === 'out_of_sample' ? ' (OOS)' : ''}`,
    )
    .join(', ');
  const lines = [
    `evidence of genome ${e.genomeId} (its own sessions only): n=${e.n} ${e.frequency} returns [${sessions}]`,
    `  mean ${(e.meanReturn * 100).toFixed(3)}% per ${e.frequency}, volatility ${(e.stdevReturn * 100).toFixed(3)}% per ${e.frequency}, Sharpe ${num(e.sharpe)} per ${e.frequency} (not annualized), skewness ${num(e.skewness)}, kurtosis ${num(e.kurtosis)}`,
    `  annualized daily Sharpe (× √252): ${e.annualizedSharpe === null ? `not shown: ${e.n} < ${e.minSessionsToAnnualize} sessions` : num(e.annualizedSharpe)}`,
    `  PSR(0) ${num(e.psr)}, DSR ${num(e.dsr)} against E[max Sharpe] ${num(e.expectedMaxSharpe)} of ${e.trials} trials (distinct genomes since the pool was seeded; V[Sharpe] ${num(e.trialSharpeVariance)} from ${e.trialSharpeVarianceSource === 'trials' ? `${e.trialsWithSharpe} genomes with >= 2 sessions` : "the estimator's null variance"})`,
    `  minimum track record at ${e.confidence}: PSR ${trl(e.minTrackRecordLength)}, DSR ${trl(e.minTrackRecordLengthDeflated)}`,
    `  walk-forward: in sample (up to ${e.selectionCutoffDate}, seen by the selection) n=${e.inSample.n}, mean ${pctOrNa(e.inSample.meanReturn)} per session; out of sample (after it) n=${e.outOfSample.n}, mean ${pctOrNa(e.outOfSample.meanReturn)} per session`,
    `  paper sessions (the broker's fills, at parity they replace the simulated session of their date): ${paperLine(e.paper)}`,
    `  baselines out of sample (same sessions, bars and costs): ${baselineLine(e.baselines, pctOrNa)}`,
    `  verdict: ${selection.verdict.replaceAll('_', ' ')}`,
    ...(selection.evidenceAgainst ?? []).map(
      (a) => `  evidence against the candidate (no override looks past it): ${a}`,
    ),
  ];
  if (selection.demoOverride) lines.push(`\n*** ${selection.demoOverride.label} ***`);
  return lines.join('\n');
}

/** Prints the Day-3 ranking, the candidate, its gates and its evidence. */
function printSelection(
  selection: Day3Selection,
  minTradeCount: number,
  write: (t: string) => void,
): void {
  const c = selection.candidate;
  write(
    `\nDay-3 ranking, walk-forward (one genome each, its own sessions; ranked on the sessions before Day 3, in sample; Day 3 held out, out of sample; eligible: at least ${minTradeCount} trades in sample):\n${table(
      [
        'rank',
        'genome',
        'symbol',
        'family',
        'IS ROI/sess (n)',
        'OOS ROI/sess (n)',
        'worst DD/peak',
        'min trades/sess',
        'eligible',
      ],
      selection.ranking.map((r) => [
        String(r.rank),
        r.lineageId,
        r.symbol,
        r.family,
        `${pct(r.inSampleMeanRoi, 3)} (${r.inSampleSessions})`,
        `${pct(r.outOfSampleMeanRoi, 3)} (${r.outOfSampleSessions})`,
        pct(Math.max(0, ...r.days.map((d) => d.maxDrawdownFraction)), 2),
        String(r.minDailyTrades),
        r.eligible ? 'yes' : 'no',
      ]),
    )}\n\ncandidate: genome ${c.lineageId} (agent ${c.days.at(-1)?.agentId} of ${c.days.at(-1)?.sessionDate}), capital slice ${usd(selection.capitalSliceUsd)} of ${usd(selection.bankrollUsd)}, leverage ${selection.leverage}x\n  chosen as the ${selection.candidateBasis.reason}\n\n${gatesTable(selection.gates.results)}\n\n${evidenceText(selection)}\n`,
  );
}

/**
 * Prints the nested micro-live promotion (gates, paper orders, parity) when one ran, headed by
 * the replayed start of its session (`startAtIso`, UTC ISO-8601); returns its orders.
 */
function printMicroLive(
  pipelineRun: LocalExecutionResult | undefined,
  promotion: Day3RunOutcome['promotion'],
  startAtIso: string,
  write: (t: string) => void,
): { orders: OrdersOutput['orders']; paper: SessionSummary | null } {
  if (!pipelineRun) return { orders: [], paper: null };
  const { gates, paperSession: session } = readExecution(PROMOTION_VIEW, pipelineRun);
  write(
    `\nMicro-live promotion (the promotion pipeline, nested; micro-live replayed from ${startAtIso}):\n`,
  );
  if (gates) write(`${gatesTable(gates.results)}\n`);
  if (session) {
    const id = session.parity.promotionId;
    if (session.orders.length) write(`\n${paperOrdersTable(session.orders)}\n`);
    write(
      `parity ${id}: paper ${signedUsd(session.parity.paperPnlUsd)}, simulator ${signedUsd(session.parity.referencePnlUsd)}, difference ${signedUsd(session.parity.differenceUsd)}\n`,
    );
  }
  if (promotion)
    write(`promotion ${promotion.promotionId}: ${promotion.outcome}: ${promotion.reason}\n`);
  return { orders: session ? orderRowsOf(session, () => 0) : [], paper: session ?? null };
}

/** The CLI's Day-3 decision of a conclusion (`failed` when the execution did not conclude). */
function decisionOf(conclusion: Day3Conclusion | null): Day3RunOutcome['decision'] {
  if (!conclusion) return 'failed';
  if (conclusion.outcome === 'gates_failed') return 'gates_failed';
  if (conclusion.outcome === 'insufficient_evidence') return 'insufficient_evidence';
  if (conclusion.decision === 'expired') return 'timed_out';
  if (conclusion.decision === 'rejected') return 'rejected';
  return 'approved';
}

async function summarize(
  stack: LocalStack,
  run: LocalDay3Run,
  result: LocalExecutionResult,
  request: Day3ApprovalRequest | null,
  options: RunDay3Options & { readonly market: Market; readonly startAtIso: string },
  write: (t: string) => void,
): Promise<Day3RunOutcome> {
  const day3 = readExecution(DAY3_VIEW, result);
  const selection = day3.selection ?? null;
  if (selection) printSelection(selection, stack.config.gates.minTradeCount, write);
  const conclusion = day3.output ?? null;
  const promotion = day3.microLive ?? null;
  const { orders, paper } = printMicroLive(
    result.childExecutions?.RunMicroLive,
    promotion,
    options.startAtIso,
    write,
  );
  const decision = decisionOf(conclusion);
  write(
    conclusion
      ? `\nDay-3 outcome: ${conclusion.outcome}${conclusion.decidedBy ? ` (decided by ${conclusion.decidedBy})` : ''}: ${conclusion.reason}\n`
      : `\nDay-3 failed: ${result.error}: ${result.cause}\n`,
  );
  let slice: MicroLiveSlice | null = null;
  let monitorTicks: (SliceTick & { atIso: string })[] = [];
  let leverage: readonly LeverageDecisionRecord[] = [];
  if (conclusion?.sliceId) {
    const deps = run.day3;
    slice = await deps.microLive.getSlice(conclusion.sliceId);
    const watched = slice.status === 'active' || slice.status === 'flattening';
    if (watched && options.monitor !== false) {
      monitorTicks = await replayMonitor(
        stack,
        run,
        slice,
        { everyMinutes: options.monitorEveryMinutes, market: options.market },
        write,
      );
      slice = await deps.microLive.getSlice(conclusion.sliceId);
    }
    leverage = await deps.microLive.listLeverageDecisions(conclusion.sliceId);
    write(
      `\nmicro-live slice ${slice.sliceId}: ${slice.status} (${slice.statusReason}); approved by ${slice.approvedBy}; capital ${usd(slice.capitalSliceUsd)}, leverage ${slice.leverage}x\n`,
    );
    for (const l of leverage) write(`  leverage decision [${l.key}] ${l.rule}: ${l.rationale}\n`);
  }
  return {
    status: result.status,
    decision,
    approver: conclusion?.decidedBy ?? null,
    approvalId: request?.approvalId ?? conclusion?.approvalId ?? null,
    approvalUrl: request?.approvalUrl ?? null,
    executionArn: result.executionArn ?? '',
    conclusion,
    selection,
    promotion,
    orders,
    paper,
    slice,
    monitorTicks,
    leverage,
    error: result.error,
    cause: result.cause,
    path: result.path,
  };
}
