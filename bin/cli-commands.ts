/**
 * The stagegate CLI's commands (see bin/stagegate.ts, the light entry that parses the command
 * line and imports this module only once a command runs): everything that needs the
 * application (handlers, adapters, the local stack). Each export is one command's action, with
 * the arguments Commander passes to it.
 */
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline/promises';
import type { Command, OptionValues } from 'commander';
import { indexLegacyStreamHeads } from '../functions/adapters/audit/stream-heads.js';
import type { SlackButton } from '../functions/adapters/slack/messages.js';
import { readPaperSessionSettings } from '../functions/composition/paper-session.js';
import { makeDocumentClient, makeS3Client } from '../functions/composition/runtime.js';
import { marketTimeZone } from '../functions/core/calendar/market-calendar.js';
import { parseSlashCommand, type SlashCommand } from '../functions/core/chatops/command.js';
import { parseCohortConfig } from '../functions/core/cohort/config.js';
import type { Role } from '../functions/core/console/roles.js';
import {
  KillSwitchChangedError,
  NoSessionError,
  NotFoundError,
  PlanConflictError,
  StagegateError,
  ValidationError,
} from '../functions/core/errors.js';
import { setKillSwitch } from '../functions/core/use-cases/kill-switch.js';
import { type PlanCommand, runPlanCommand } from '../functions/core/use-cases/plans.js';
import { ManualClock } from '../functions/ports/clock.js';
import { accountKeyOf } from '../functions/ports/session-books.js';
import { consoleDeploymentOf, consolePageObjects, putPageObjects } from '../lib/console-publish.js';
import { compactAuditDay } from '../local/audit/compact.js';
import { queryAudit, verifyAudit } from '../local/audit/duckdb.js';
import type { BootedServers } from '../local/boot.js';
import { serveLocalConsole } from '../local/console-server.js';
import { ConsoleUsers } from '../local/console-users.js';
import {
  alpacaKeysFromEnv,
  PullError,
  PullUsageError,
  parsePullRequest,
  pullData,
} from '../local/data-pull.js';
import { cohortHeader, leaderboardTable, table, usd } from '../local/format.js';
import {
  LOCAL_BUCKETS,
  LOCAL_TABLE,
  type LocalStack,
  startLocalStack,
} from '../local/local-stack.js';
import {
  type PromotionOutcome,
  type ReplayResult,
  replay,
  replayFailure,
  replaySchedules,
} from '../local/replay.js';
import { newestReport, printReportPdf, ReportFileError } from '../local/report-pdf.js';
import { LOCAL_CREDENTIALS } from '../local/servers.js';
import { blocksAsText, sendSlashCommand } from '../local/slack-cli.js';
import {
  localPlanDeps,
  localSigningSecret,
  localSlackUser,
  runningEndpoint,
} from '../local/slack-local.js';
import { lastRunAccount, recordRunAccount } from '../local/state-lock.js';
import { CliError, fromUserCwd, type GlobalOpts, type RunOpts } from './cli-shared.js';
import { killOutcomeText, killRefusedText, killStatusText } from './kill-outcome.js';

async function withStack<T>(
  opts: GlobalOpts,
  fn: (stack: LocalStack) => Promise<T>,
  brokerAccount?: string,
  clock?: ManualClock,
  /** `--market-data alpaca-fake`: the ingested tree the handlers read (the fake serves `--data`). */
  ingestedRoot?: string,
  /** The lock and emulators the light entry started (`run`); else started here. */
  booted?: BootedServers,
): Promise<T> {
  const stack = await startLocalStack(
    {
      dataRoot: ingestedRoot ?? fromUserCwd(opts.data),
      ...(ingestedRoot ? { alpacaFake: { sourceRoot: fromUserCwd(opts.data) } } : {}),
      stateDir: fromUserCwd(opts.state),
      logLevel: opts.verbose ? 'INFO' : 'ERROR',
      brokerAccount,
      clock,
    },
    booted,
  );
  for (const r of stack.recovery.recovered)
    process.stderr.write(
      `recovered ${r.workflow} ${r.id} left mid-flight by an earlier run: ${r.outcome} (${r.orders.length} order(s) reconciled with the broker)\n`,
    );
  for (const f of stack.recovery.failed)
    process.stderr.write(`could not recover ${f.workflow} ${f.id}: ${f.error}\n`);
  const stop = () => {
    void stack.stop().finally(() => process.exit(130));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    return await fn(stack);
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    await stack.stop();
  }
}

/**
 * The sessions the run replays (`--dates`, or `--days` sessions from `--from` the provider
 * has) and their market (the symbols' calendar); or the input error with the session date
 * its rejection is recorded under.
 */
async function runSessions(
  stack: LocalStack,
  o: RunOpts,
): Promise<
  | { sessions: string[]; market: 'equity-usa' | 'crypto' }
  | { error: StagegateError; sessionDate: string }
> {
  let sessions: string[] = o.dates ?? [];
  try {
    parseCohortConfig({
      bankrollUsd: o.bankroll,
      agentCount: o.agents,
      allocation: o.allocation,
      seed: o.seed,
    });
    // The fake serves the --data tree: its sessions are the ones the provider has.
    const provider = stack.alpaca?.source ?? stack.runtime.marketData;
    const all = await provider.listSessions(o.symbols);
    if (sessions.length === 0) {
      sessions = all.filter((d) => d >= o.from).slice(0, o.days);
      if (sessions.length < o.days) {
        throw new NoSessionError(`${o.days} sessions from ${o.from}`, all);
      }
    }
    const missing = sessions.find((d) => !all.includes(d));
    if (missing) throw new NoSessionError(missing, all);
    // The symbols' calendar (NYSE or 24 h UTC crypto days) picks the schedules.
    const market = (await provider.loadSession(sessions[0] as string, o.symbols)).market;
    return { sessions, market };
  } catch (err) {
    if (!(err instanceof StagegateError)) throw err;
    return { error: err, sessionDate: sessions[0] ?? o.from };
  }
}

/** Prints the run's header: sessions, cohort settings, data and state folders, schedules. */
function printRunHeader(
  stack: LocalStack,
  g: GlobalOpts,
  o: RunOpts,
  sessions: readonly string[],
  market: 'equity-usa' | 'crypto',
  ingested: string,
): void {
  process.stdout.write(
    `stagegate local run: ${sessions.length} session(s) ${sessions.join(', ')}, symbols ${o.symbols.join(',')}, bankroll ${usd(o.bankroll)}, ${o.agents} agents (${o.allocation}), seed ${o.seed}\n` +
      `data ${g.data}${stack.alpaca ? ` served by the fake Alpaca data server ${stack.alpaca.fake.baseUrl} up to the simulated now; ingested into ${ingested}` : ''}\nstate ${g.state} (DynamoDB Local ${stack.servers.dynamoEndpoint}, S3 emulator ${stack.servers.s3Endpoint})\n` +
      `schedules (${market === 'crypto' ? `${marketTimeZone(market)}, 24 h crypto sessions` : marketTimeZone(market)}): ${replaySchedules(
        stack,
        o.promote,
        o.approval !== undefined,
        market,
        o.marketData,
      )
        .map((s) => `${s.name} ${s.expression}`)
        .join('; ')}\n`,
  );
}

/** After the replay: `--summary-json`, `--pdf`, then `--serve` (until Ctrl-C). */
async function afterReplay(
  stack: LocalStack,
  g: GlobalOpts,
  o: RunOpts,
  sessions: readonly string[],
  replayed: ReplayResult,
): Promise<void> {
  if (o.summaryJson) {
    const file = path.resolve(o.summaryJson);
    await writeFile(
      file,
      `${JSON.stringify(await runSummary(stack, sessions, replayed), null, 2)}\n`,
    );
    process.stdout.write(`summary: ${file}\n`);
  }
  if (o.pdf && replayed.reportPath) {
    const pdf = await printReportPdf(replayed.reportPath);
    process.stdout.write(`run report pdf: ${pdf.pdfPath}\n`);
  }
  if (o.serve) {
    await serveLocalConsole(stack, { stateDir: g.state, port: o.port });
    await new Promise<never>(() => undefined); // until Ctrl-C (withStack stops the stack)
  }
}

/**
 * The `run` verb inside the started stack: the run's paper account, its sessions, the header,
 * the replay and what follows it. Bad input still goes through the workflow, so the rejection
 * is recorded in the audit trail exactly as a scheduled run's would be.
 */
async function runInStack(
  stack: LocalStack,
  g: GlobalOpts,
  o: RunOpts,
  brokerAccount: string,
  ingested: string,
) {
  if (o.marketData === 'alpaca-fake') {
    // Under the state folder's lock: no other run reads this tree.
    await rm(ingested, { recursive: true, force: true });
    await mkdir(ingested, { recursive: true });
  }
  await recordRunAccount(fromUserCwd(g.state), brokerAccount);
  const request = {
    symbols: o.symbols,
    bankrollUsd: o.bankroll,
    agentCount: o.agents,
    allocation: o.allocation,
    seed: o.seed,
  };
  const picked = await runSessions(stack, o);
  if ('error' in picked) {
    const rejected = await stack.intradayCohort.execute(
      { source: 'cli', sessionDate: picked.sessionDate, ...request },
      { executionName: `cli-rejected-${Date.now().toString(36)}` },
    );
    return { rejected: rejected.status === 'FAILED' ? rejected : null, error: picked.error };
  }
  const { sessions, market } = picked;
  printRunHeader(stack, g, o, sessions, market, ingested);
  const replayed = await replay(stack, {
    sessions,
    ...request,
    market,
    promote: o.promote,
    marketData: o.marketData,
    approval: o.approval,
    approvalTimeoutSeconds: o.approvalTimeout,
    demoOverride: o.demoOverride,
    reportDir: path.join(g.state, 'reports'),
  });
  await afterReplay(stack, g, o, sessions, replayed);
  return { replay: replayed };
}

/** Prints the run's outcome (input error, failed cohort, or the summary line) and sets the exit code. */
function reportRun(result: Awaited<ReturnType<typeof runInStack>>): void {
  if ('error' in result && result.error) {
    const r = result.rejected;
    process.stderr.write(
      r
        ? `stagegate: ${r.error}: ${r.cause} (rejection recorded in the audit trail)\n`
        : `stagegate: ${result.error.name}: ${result.error.message}\n`,
    );
    process.exitCode = 1;
    return;
  }
  if (!('replay' in result) || !result.replay) return;
  const failure = replayFailure(result.replay);
  if (failure?.kind === 'cohort') {
    process.stderr.write(`\n${failure.message}\n`);
    process.exitCode = 1;
    return;
  }
  const done = result.replay.cohorts.filter((d) => d.status === 'SUCCEEDED');
  process.stdout.write(
    `\n${done.length} cohort(s) complete: ${done.map((d) => d.cohortId).join(', ')}\n` +
      `${result.replay.promotions.filter((p) => p.outcome === 'promoted').length} promotion(s) reached the paper broker; ${result.replay.learning.filter((l) => l.status === 'evolved').length} learning cycle(s) evolved the pool` +
      result.replay.goNoGo
        .map(
          (d) =>
            `; Day-3 go/no-go: ${d.decision}${d.approver ? ` by ${d.approver}` : ''}${d.selection?.demoOverride ? ' UNDER THE DEMO OVERRIDE (insufficient evidence)' : ''}, micro-live ${d.slice?.status ?? 'not started'}`,
        )
        .join('') +
      result.replay.goNoGoWaiting
        .map(() => '; Day-3 go/no-go: waiting for a session after Day 3')
        .join('') +
      '\n',
  );
  // A Day-3 decision is an outcome (exit 0); a Day-3 execution that FAILED fails the run.
  if (failure) {
    process.stderr.write(`${failure.message}\n`);
    process.exitCode = 1;
  }
}
/**
 * `run`, on the state folder and emulators the light entry booted (its usage checks passed).
 */
export const run = async (o: RunOpts, cmd: Command, booted: BootedServers) => {
  const g = cmd.optsWithGlobals<GlobalOpts>();
  const alpacaFake = o.marketData === 'alpaca-fake';
  // Each run replays into a fresh simulated paper account; cohorts, audit, the genome pool
  // and the kill switch persist in the state folder across runs.
  const brokerAccount = `local-paper-${new Date().toISOString().replace(/\D/g, '').slice(0, 14)}`;
  const clock = new ManualClock(Date.now());
  // The chain's ingested tree: fresh for every run (an ingested session is never pulled
  // twice, so a tree kept from an earlier run would skip every session's chain).
  const ingested = path.join(fromUserCwd(g.state), 'alpaca-data');
  const result = await withStack(
    g,
    (stack) => runInStack(stack, g, o, brokerAccount, ingested),
    brokerAccount,
    clock,
    alpacaFake ? ingested : undefined,
    booted,
  );
  reportRun(result);
};

export const consoleServe = async (o: OptionValues, cmd: Command) => {
  const g = cmd.optsWithGlobals<GlobalOpts>();
  if (o.users || o.printToken) {
    const users = await ConsoleUsers.load(g.state);
    if (o.printToken) {
      try {
        process.stdout.write(`${users.tokenFor(o.as)}\n`);
      } catch (err) {
        throw new CliError((err as Error).message);
      }
      return;
    }
    process.stdout.write(
      `${table(
        ['user', 'roles', 'password'],
        users.file.users.map((u) => [u.username, u.roles.join(', '), u.password]),
      )}\n`,
    );
    return;
  }
  await withStack(g, async (stack) => {
    await serveLocalConsole(stack, { stateDir: g.state, port: o.port });
    await new Promise<never>(() => undefined); // until Ctrl-C (withStack stops the stack)
  });
};

export const publishConsole = async (o: { outputs: string; stage?: string }) => {
  const file = fromUserCwd(o.outputs);
  let outputs: unknown;
  try {
    outputs = JSON.parse(await readFile(file, 'utf8'));
  } catch (err) {
    throw new CliError(`${file}: ${(err as Error).message}`);
  }
  const deployment = consoleDeploymentOf(outputs, file, o.stage);
  const { S3Client } = await import('@aws-sdk/client-s3');
  const keys = await putPageObjects(
    new S3Client({}),
    deployment.bucket,
    await consolePageObjects(deployment),
  );
  process.stdout.write(
    `published ${keys.length} objects to s3://${deployment.bucket}/ (${deployment.stack})\nconsole: ${deployment.url}\n`,
  );
};

export const cohortsList = async (o: OptionValues, cmd: Command) => {
  const g = cmd.optsWithGlobals<GlobalOpts>();
  await withStack(g, async (stack) => {
    const list = await stack.runtime.cohorts.list(o.limit);
    if (list.length === 0) {
      process.stdout.write('no cohorts yet: run `npm start` first\n');
      return;
    }
    process.stdout.write(
      `${table(
        ['cohort', 'session', 'symbols', 'agents', 'bankroll', 'PnL', 'best agent', 'completed'],
        list.map((c) => [
          c.cohortId,
          c.sessionDate,
          c.symbols.join(','),
          String(c.agentCount),
          usd(c.bankrollUsd),
          usd(c.totalPnlUsd),
          c.bestAgentId ?? '-',
          c.completedAtIso,
        ]),
      )}\n`,
    );
  });
};

export const cohortsShow = async (cohortId: string, _o: OptionValues, cmd: Command) => {
  const g = cmd.optsWithGlobals<GlobalOpts>();
  await withStack(g, async (stack) => {
    const c = await stack.runtime.cohorts.get(cohortId);
    process.stdout.write(
      `${cohortHeader(c)}\n\n${leaderboardTable(c.leaderboard, c.bankrollUsd)}\n`,
    );
  });
};

export const kill = async (action: string, o: OptionValues, cmd: Command) => {
  if (!['on', 'off', 'status'].includes(action)) {
    throw new CliError(`kill takes on, off or status, got "${action}"`);
  }
  const g = cmd.optsWithGlobals<GlobalOpts>();
  const account: string =
    o.account ?? (await lastRunAccount(fromUserCwd(g.state))) ?? 'local-paper';
  await withStack(
    g,
    async (stack) => {
      const deps = stack.promotion;
      if (action === 'status') {
        let state: Awaited<ReturnType<typeof deps.killSwitch.read>>;
        try {
          state = await deps.killSwitch.read();
        } catch (err) {
          process.stdout.write(
            `kill switch: UNKNOWN (cannot be read: ${(err as Error).message}); gates fail closed\n`,
          );
          process.exitCode = 1;
          return;
        }
        process.stdout.write(killStatusText(state));
        return;
      }
      const broker = deps.brokerAt(Date.now());
      const flattens =
        readPaperSessionSettings(stack.runtime.env).haltModes.killSwitch === 'flatten';
      // A release refused because the switch changed meanwhile (recorded by the use case):
      // said as such, exit 1, never retried.
      const { text, exitCode } = await setKillSwitch(
        {
          killSwitch: deps.killSwitch,
          audit: deps.audit,
          clock: deps.clock,
          environment: 'local',
          broker,
          ...(flattens
            ? {
                flatten: {
                  sessionBooks: deps.sessionBooks,
                  account: accountKeyOf(broker.name, deps.brokerAccount),
                },
              }
            : {}),
        },
        { engaged: action === 'on', reason: o.reason, by: o.by },
      ).then(
        (out) => killOutcomeText(out, account),
        (err: unknown) => {
          if (err instanceof KillSwitchChangedError) return killRefusedText(err);
          throw err;
        },
      );
      process.stdout.write(text);
      if (exitCode !== 0) process.exitCode = exitCode;
    },
    account,
  );
};

export const slack = async (text: string, o: OptionValues, cmd: Command) => {
  const g = cmd.optsWithGlobals<GlobalOpts>();
  const stateDir = fromUserCwd(g.state);
  const signingSecret = await localSigningSecret(stateDir);
  const confirm = async (button: SlackButton): Promise<boolean> => {
    if (o.confirm) return true;
    if (!process.stdin.isTTY) {
      process.stdout.write('(not confirmed: pass --confirm to click the button)\n');
      return false;
    }
    const rl = createInterface({ input: process.stdin, output: process.stdout });
    const answer = await rl.question(`${button.confirm?.title.text ?? 'Confirm?'} [y/N] `);
    rl.close();
    return /^y(es)?$/i.test(answer.trim());
  };
  const talk = async (baseUrl: string) => {
    const exchanges = await sendSlashCommand({
      baseUrl,
      signingSecret,
      userId: localSlackUser(o.as as Role | undefined),
      text,
      confirm,
    });
    for (const x of exchanges) {
      process.stdout.write(
        o.json
          ? `${JSON.stringify({ via: x.via, status: x.status, body: x.body }, null, 2)}\n`
          : `${x.via === 'response' ? '' : `-- ${x.via} --\n`}${blocksAsText(x.body as Record<string, unknown>)}`,
      );
      if (x.status !== 200) process.exitCode = 1;
    }
  };
  const running = await runningEndpoint(stateDir);
  if (running) {
    await talk(running);
    return;
  }
  // Kill on cancels the open orders of the last run's simulated account (as `kill on`).
  const account = (await lastRunAccount(stateDir)) ?? 'local-paper';
  await withStack(
    g,
    async (stack) => {
      const server = await serveLocalConsole(stack, { stateDir, write: () => undefined });
      try {
        await talk(server.url);
      } finally {
        await server.close();
      }
    },
    account,
  );
};

export const reportPdf = async (html: string | undefined, o: { out?: string }, cmd: Command) => {
  const g = cmd.optsWithGlobals<GlobalOpts>();
  try {
    const source = html
      ? fromUserCwd(html)
      : await newestReport(path.join(fromUserCwd(g.state), 'reports'));
    const out = await printReportPdf(source, o.out ? fromUserCwd(o.out) : undefined);
    process.stdout.write(`report pdf: ${out.pdfPath} (${Math.round(out.bytes / 1024)} KiB)\n`);
  } catch (err) {
    process.stderr.write(`stagegate: ${(err as Error).name}: ${(err as Error).message}\n`);
    process.exitCode = err instanceof ReportFileError ? 2 : 1;
  }
};

/**
 * What `stagegate plan` throws for a plan command's error: a refusal (recorded input_rejected:
 * a prerequisite, no active plan, or a plan that kept changing under this command) as
 * `plan refused: <message>`; anything else as it is, e.g. PlanRecordCorruptError (the stored
 * plan cannot be read: a storage fault, printed by its name and the item). Both exit 1.
 */
export function planCliError(err: unknown): unknown {
  if (
    err instanceof ValidationError ||
    err instanceof NotFoundError ||
    err instanceof PlanConflictError
  ) {
    return new CliError(`plan refused: ${err.message}`);
  }
  return err;
}

export const plan = async (words: string[], o: OptionValues, cmd: Command) => {
  const g = cmd.optsWithGlobals<GlobalOpts>();
  let command: SlashCommand;
  try {
    command = parseSlashCommand(['plan', ...words].join(' '));
  } catch (err) {
    // A usage error: exit 2, naming the argument.
    if (err instanceof ValidationError) cmd.error(`plan: ${err.field}: ${err.message}`);
    throw err;
  }
  if (!command.kind.startsWith('plan_')) cmd.error('plan takes grow, status or cancel');
  await withStack(g, async (stack) => {
    let out: Awaited<ReturnType<typeof runPlanCommand>>;
    try {
      out = await runPlanCommand(localPlanDeps(stack), command as PlanCommand, o.by, 'cli');
    } catch (err) {
      throw planCliError(err);
    }
    process.stdout.write(
      o.json
        ? `${JSON.stringify(out.plan, null, 2)}\n`
        : `${out.title}\n${out.lines.map((l) => l.replace(/\*/g, '')).join('\n')}\n`,
    );
  });
};

export const auditQuery = async (sql: string | undefined, o: OptionValues, cmd: Command) => {
  const g = cmd.optsWithGlobals<GlobalOpts>();
  if ((sql === undefined) === (o.named === undefined)) {
    throw new CliError('give either a SQL string or --named <name>');
  }
  const params = Object.fromEntries(
    (o.param as string[]).map((kv) => {
      const i = kv.indexOf('=');
      if (i <= 0) throw new CliError(`--param must be name=value, got "${kv}"`);
      return [kv.slice(0, i), kv.slice(i + 1)];
    }),
  );
  await withStack(g, async (stack) => {
    const rows = await queryAudit({
      ...localAuditBucket(stack),
      cacheDir: path.join(g.state, 'audit-cache'),
      date: o.date,
      ...(sql !== undefined ? { sql } : { namedQuery: o.named, params }),
    });
    if (o.json) {
      for (const r of rows) process.stdout.write(`${JSON.stringify(r, jsonSafe)}\n`);
    } else if (rows.length === 0) {
      process.stdout.write('(no rows)\n');
    } else {
      const headers = Object.keys(rows[0] ?? {});
      process.stdout.write(
        `${table(
          headers,
          rows.map((r) => headers.map((h) => cell(r[h]))),
        )}\n${rows.length} row(s)\n`,
      );
    }
  });
};

export const auditVerify = async (o: OptionValues, cmd: Command) => {
  const g = cmd.optsWithGlobals<GlobalOpts>();
  await withStack(g, async (stack) => {
    const result = await verifyAudit({
      ...localAuditBucket(stack),
      date: o.date,
      heads: localHeads(stack),
    });
    if (result.ok) {
      process.stdout.write(
        `audit verified: ${result.checked} record(s) in ${result.streams} stream(s), every hash chain intact\n`,
      );
      return;
    }
    const b = result.firstBreak;
    process.stderr.write(
      `audit verification FAILED: ${result.breaks.length} break(s); first: stream ${b?.stream} seq ${b?.seq} id ${b?.id ?? '?'} key ${b?.key ?? '?'}: ${b?.reason}${b?.detail ? ` (${b.detail})` : ''}\n`,
    );
    process.exitCode = 1;
  });
};

export const auditCompact = async (o: OptionValues, cmd: Command) => {
  const g = cmd.optsWithGlobals<GlobalOpts>();
  await withStack(g, async (stack) => {
    const out = await compactAuditDay({
      ...localAuditBucket(stack),
      cacheDir: path.join(g.state, 'audit-cache'),
      date: o.date,
      heads: localHeads(stack),
    });
    process.stdout.write(
      out.key
        ? `compacted ${out.records} record(s) of ${o.date} into ${out.key} (${out.bytes} bytes)${out.manifestKey ? `; day anchored: ${out.manifestKey}` : ''}\n`
        : `no audit records on ${o.date}\n`,
    );
  });
};

export const auditIndexHeads = async (o: OptionValues, cmd: Command) => {
  const region = o.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION;
  if (!region) cmd.error('stagegate: give --region or set AWS_REGION');
  const tableName: string = o.table ?? `stagegate-${o.stage}`;
  const dynamo = makeDocumentClient({ AWS_REGION: region, DYNAMODB_ENDPOINT: o.endpoint });
  const r = await indexLegacyStreamHeads(dynamo, tableName, { apply: o.apply === true });
  const envs = Object.entries(r.byEnvironment).map(([env, n]) => `${env}: ${n}`);
  const found = `${r.legacy} stream head(s) without index keys${envs.length ? ` (${envs.join(', ')})` : ''}, ${r.unreadable} unreadable (no environment or updated_at; left alone)`;
  process.stdout.write(
    o.apply
      ? `table ${tableName}: ${found}; indexed ${r.indexed} (the others were advanced by a writer meanwhile)\n`
      : `table ${tableName}: ${found}; dry run, nothing written: add --apply to index them\n`,
  );
};

export const dataPull = async (o: OptionValues, cmd: Command) => {
  let request: ReturnType<typeof parsePullRequest>;
  let keys: { keyId: string; secretKey: string };
  try {
    request = parsePullRequest(
      {
        symbols: o.symbols,
        from: o.from,
        to: o.to,
        out: fromUserCwd(o.out),
        feed: o.feed,
        dailyLookbackDays: o.dailyLookbackDays,
      },
      new Date().toISOString().slice(0, 10),
    );
    keys = alpacaKeysFromEnv(process.env);
  } catch (err) {
    if (!(err instanceof PullUsageError)) throw err;
    cmd.error(`error: ${err.message}`, { exitCode: 2, code: 'stagegate.usage' });
  }
  await mkdir(request.out, { recursive: true });
  process.stdout.write(
    `pulling ${request.symbols.join(',')} ${request.from}..${request.to} (${request.market}) from ${process.env.ALPACA_DATA_BASE_URL ?? 'https://data.alpaca.markets'} into ${request.out}\n`,
  );
  let sessions = 0;
  try {
    await pullData(request, {
      keys,
      ...(process.env.ALPACA_DATA_BASE_URL ? { baseUrl: process.env.ALPACA_DATA_BASE_URL } : {}),
      onSession: (s) => {
        sessions++;
        process.stdout.write(
          s.skipped
            ? `${s.sessionDate}: skipped: ${s.reason}\n`
            : `${s.sessionDate}: stored ${s.included.join(',') || '(no symbol)'} (${s.requests} requests, ${s.bytesStored} bytes)${s.excluded.map((e) => `; excluded ${e.symbol}: ${e.reasons.join(', ')}`).join('')}\n`,
        );
      },
    });
  } catch (err) {
    if (!(err instanceof PullError)) throw err;
    process.stderr.write(`stagegate: data pull: ${err.message}\n`);
    process.exitCode = 1;
    return;
  }
  process.stdout.write(
    sessions === 0
      ? `no ${request.market} session between ${request.from} and ${request.to}\n`
      : `${sessions} session(s) in ${request.out}: use it with --data ${request.out}\n`,
  );
};

/** The local audit bucket (s3rver) of the `local` environment, as the audit tools take it. */
const localAuditBucket = (stack: LocalStack) => ({
  s3Client: makeS3Client(
    { S3_ENDPOINT: stack.servers.s3Endpoint, AWS_REGION: 'us-east-1' },
    LOCAL_CREDENTIALS,
  ),
  bucket: LOCAL_BUCKETS.audit,
  environment: 'local' as const,
});

/** The local head table, which also holds the audit day anchor. */
const localHeads = (stack: LocalStack) => ({
  dynamo: makeDocumentClient(
    { DYNAMODB_ENDPOINT: stack.servers.dynamoEndpoint, AWS_REGION: 'us-east-1' },
    LOCAL_CREDENTIALS,
  ),
  tableName: LOCAL_TABLE,
});

const jsonSafe = (_k: string, v: unknown) => (typeof v === 'bigint' ? Number(v) : v);
const cell = (v: unknown): string =>
  v === null || v === undefined
    ? ''
    : typeof v === 'object'
      ? JSON.stringify(v, jsonSafe)
      : String(v);

/** The `--summary-json` document (README, "The CLI"). */
async function runSummary(stack: LocalStack, sessions: readonly string[], r: ReplayResult) {
  const cohorts = [];
  for (const c of r.cohorts) {
    const record = c.cohortId ? await stack.runtime.cohorts.get(c.cohortId) : null;
    cohorts.push({
      sessionDate: c.sessionDate,
      status: c.status,
      cohortId: c.cohortId ?? null,
      leaderboard: (record?.leaderboard ?? []).map((a) => ({
        rank: a.rank,
        agentId: a.agentId,
        family: a.family,
        symbol: a.symbol,
        totalPnlUsd: a.totalPnlUsd,
        tradeCount: a.tradeCount,
      })),
    });
  }
  const promotion = (p: PromotionOutcome) => ({
    sessionDate: p.sessionDate,
    status: p.status,
    outcome: p.outcome ?? null,
    reason: p.reason ?? null,
    promotionId: p.paper?.parity.promotionId ?? null,
    candidate: p.cohortId ? { cohortId: p.cohortId, agentId: p.agentId ?? null } : null,
    paperSlot: p.slot ?? null,
    gates: (p.gates?.results ?? []).map((g) => ({
      gate: g.gate,
      verdict: g.verdict,
      observed: g.observed,
      threshold: g.threshold,
      unit: g.unit,
    })),
    orders: (p.paper?.orders ?? []).map((o) => ({
      client_order_id: o.clientOrderId,
      side: o.side,
      qty: o.qty,
      avg_price: o.avgPriceUsd,
      status: o.status,
      reason: o.reason,
      submitted_at: new Date(o.submittedAtMs).toISOString(),
    })),
    paperPnlUsd: p.paper?.parity.paperPnlUsd ?? null,
    simulatorPnlUsd: p.paper?.parity.referencePnlUsd ?? null,
    parityDifferenceUsd: p.paper?.parity.differenceUsd ?? null,
    reconciliationClean: p.paper?.reconciliation.clean ?? p.reconciliationClean ?? null,
  });
  return {
    sessions,
    cohorts,
    promotions: r.promotions.map(promotion),
    day3Waiting: r.goNoGoWaiting,
    day3: r.goNoGo.map((d) => ({
      decision: d.decision,
      approver: d.approver,
      promotion: d.promotion,
      slice: d.slice ? { sliceId: d.slice.sliceId, status: d.slice.status } : null,
      orders: d.orders,
    })),
  };
}
