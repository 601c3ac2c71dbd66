/**
 * stagegate CLI (local mode). Run with `npm start` (the default three-day run) or
 * `npm run stagegate -- <command>`:
 *
 *   run            cohorts over consecutive real sessions through the local stack
 *   cohorts list   persisted cohorts, newest first (from DynamoDB Local)
 *   cohorts show   one cohort's header and full leaderboard
 *   audit query    SQL or a named query over the audit trail (DuckDB, same SQL as Athena)
 *   audit verify   recompute the hash chains, name the first broken record
 *   kill on|off|status  the kill switch (DynamoDB flag; on cancels open orders, recorded)
 *
 * Settings: `--data <dir>` or STAGEGATE_DATA (LEAN data root, default ../shared/data/lean),
 * `--state <dir>` or STAGEGATE_STATE_DIR (local servers' data, default .local/state).
 * Exit codes: 0 success, 1 a failed execution or bad input, 2 usage error.
 */
import './cli-env.js';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, InvalidArgumentError, Option } from 'commander';
import { NAMED_QUERIES } from '../functions/core/audit/named-queries.js';
import { StagegateError } from '../functions/core/errors.js';
import { STAGES } from '../lib/config/stages.js';
import { bootLocalServers } from '../local/boot.js';
import { StateFolderError } from '../local/state-lock.js';
import { CliError, fromUserCwd, type GlobalOpts, type RunOpts } from './cli-shared.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const DEFAULT_DATA = path.resolve(repoRoot, '../shared/data/lean');
const DEFAULT_STATE = path.resolve(repoRoot, '.local/state');

/**
 * Numeric flags are parsed strictly: plain digits only (no sign where a count is meant, no
 * `1,000`, `1e3`, `0x10`, `NaN`, blanks). A malformed value is a usage error (exit 2).
 */
const COUNT_RE = /^\d+$/;
const DECIMAL_RE = /^\d+(\.\d+)?$/;

/** A whole number in `[min, max]`. */
const countArg =
  (name: string, min: number, max = Number.MAX_SAFE_INTEGER) =>
  (v: string) => {
    const n = Number(v);
    if (!COUNT_RE.test(v) || !Number.isSafeInteger(n) || n < min || n > max)
      throw new InvalidArgumentError(
        `${name} must be a whole number ${max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `from ${min} to ${max}`} (digits only), got "${v}"`,
      );
    return n;
  };
/** A non-negative decimal amount (digits, optional decimals; no sign or separators). */
const amountArg = (name: string) => (v: string) => {
  const n = Number(v);
  if (!DECIMAL_RE.test(v) || !Number.isFinite(n))
    throw new InvalidArgumentError(
      `${name} must be a plain decimal number (digits, optional decimals; no sign, no thousands separator), got "${v}"`,
    );
  return n;
};
const listArg = (v: string) =>
  v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

/** A DynamoDB table name (3-255 of letters, digits, `_`, `-`, `.`). */
const tableNameArg = (v: string) => {
  if (!/^[A-Za-z0-9_.-]{3,255}$/.test(v))
    throw new InvalidArgumentError(
      `--table must be a DynamoDB table name (3-255 letters, digits, _ - .), got "${v}"`,
    );
  return v;
};
/** An http(s) URL. */
const urlArg = (name: string) => (v: string) => {
  let url: URL | null = null;
  try {
    url = new URL(v);
  } catch {
    url = null;
  }
  if (url === null || (url.protocol !== 'http:' && url.protocol !== 'https:'))
    throw new InvalidArgumentError(`${name} must be an http(s) URL, got "${v}"`);
  return v;
};

/** The commands' module, imported when a command runs (after the command line is parsed). */
const loadCommands = () => import('./cli-commands.js');
type Commands = Awaited<ReturnType<typeof loadCommands>>;

/** The action of command `name`: loads the commands' module, then runs it. */
const lazyAction =
  (name: Exclude<keyof Commands, 'run'>) =>
  async (...args: unknown[]): Promise<void> => {
    const commands = await loadCommands();
    await (commands[name] as (...a: unknown[]) => Promise<void>)(...args);
  };

const program = new Command('stagegate')
  .description('Stage -> gates -> promotion -> paper broker, locally on real minute bars.')
  .addOption(
    new Option('--data <dir>', 'LEAN market data root').env('STAGEGATE_DATA').default(DEFAULT_DATA),
  )
  .addOption(
    new Option('--state <dir>', 'local servers data folder')
      .env('STAGEGATE_STATE_DIR')
      .default(DEFAULT_STATE),
  )
  .option('--verbose', 'handler logs (Powertools JSON) on stderr')
  .showHelpAfterError()
  // Commander reports a usage error (unknown option, malformed value, missing argument) and
  // then exits through here: usage errors exit 2, help and --version 0.
  .exitOverride((err) => {
    process.exit(err.exitCode === 0 ? 0 : 2);
  });

program
  .command('run')
  .description(
    'replay real sessions through the deployed schedules: cohorts, promotions, learning cycles (default: 3 days from 2013-10-07)',
  )
  .option(
    '--from <date>',
    'first session date (YYYY-MM-DD); later sessions follow in the data',
    '2013-10-07',
  )
  .option('--days <n>', 'number of consecutive sessions', countArg('--days', 1, 10_000), 3)
  .option(
    '--dates <list>',
    'explicit session dates, comma separated (overrides --from/--days)',
    listArg,
  )
  .option('--symbols <list>', 'symbols', listArg, ['SPY', 'BAC', 'AIG', 'IBM'])
  .option('--bankroll <usd>', 'bankroll in USD (50..100000)', amountArg('--bankroll'), 1000)
  .option('--agents <n>', 'agents per cohort (1..1000)', countArg('--agents', 1), 30)
  .addOption(
    new Option('--allocation <policy>', 'allocation policy')
      .choices(['equal', 'risk-weighted'])
      .default('equal'),
  )
  .option('--seed <n>', 'seed of the genome pool', countArg('--seed', 0), 1)
  .option('--no-promote', 'do not run the promotion schedule')
  .addOption(
    new Option(
      '--approval <mode>',
      'Day-3 go/no-go after every third cohort: manual (approve on the local page), auto (approve automatically: unattended demos only), reject; omitted: no go/no-go',
    ).choices(['manual', 'auto', 'reject']),
  )
  .option(
    '--no-demo-override',
    'Day-3: no demo override of a shortfall of evidence (PSR, DSR, too few out-of-sample sessions): a candidate without enough evidence ends as insufficient_evidence, no approval is requested (evidence against a candidate, an out-of-sample loss or not beating the best baseline, is never overridden)',
  )
  .option(
    '--approval-timeout <seconds>',
    'how long the approval waits before it counts as not approved (default: config, 4 h)',
    countArg('--approval-timeout', 1),
  )
  .option(
    '--summary-json <file>',
    'write a JSON summary of the run (sessions, cohorts and leaderboards, promotions with their gates, orders and parity, the Day-3 outcome)',
  )
  .option('--pdf', 'also print the run report to PDF (headless Chromium) beside the HTML')
  .addOption(
    new Option(
      '--market-data <source>',
      'lean: cohorts read the --data tree at 09:35; alpaca-fake: the deployed chain: a fake Alpaca data server (loopback) serves the --data tree up to the simulated now, and the session ingestion (16:05 New York) pulls each closed session through the Alpaca adapter, then runs the cohort and the learning cycle',
    )
      .choices(['lean', 'alpaca-fake'])
      .default('lean'),
  )
  .option('--serve', 'after the replay, serve the operator console until Ctrl-C')
  .option(
    '--port <n>',
    'console port with --serve (default: a free one)',
    countArg('--port', 0, 65_535),
  )
  .action(async (o: RunOpts, cmd: Command) => {
    const g = cmd.optsWithGlobals<GlobalOpts>();
    if (o.marketData === 'alpaca-fake' && cmd.getOptionValueSource('seed') === 'cli') {
      cmd.error(
        'error: --seed is not an input of the deployed session chain (its cohorts seed a new genome pool with the config seed, 1); omit it with --market-data alpaca-fake',
        { exitCode: 2, code: 'stagegate.usage' },
      );
    }
    // The command line is valid: take the state folder's lock (a second run is refused here,
    // before any server starts) and start the emulators, then load the application while
    // DynamoDB Local's JVM boots (local/boot.ts).
    const booted = await bootLocalServers(fromUserCwd(g.state));
    const commands = await loadCommands();
    await commands.run(o, cmd, booted);
  });

program
  .command('console')
  .description('serve the operator console and its API over the local state (until Ctrl-C)')
  .option('--port <n>', 'port on 127.0.0.1 (default: a free one)', countArg('--port', 0, 65_535))
  .option('--users', 'print the local console users, their roles and passwords, then exit')
  .option('--print-token', 'print a bearer token for scripts (with --as), then exit')
  .option('--as <user>', 'console user of --print-token (olivia, rick or vera)', 'vera')
  .action(lazyAction('consoleServe'));

program
  .command('publish-console')
  .description(
    'put the operator console pages in a deployed stage (after cdk deploy --outputs-file <file>)',
  )
  .requiredOption('--outputs <file>', 'the file cdk deploy --outputs-file wrote')
  .option('--stage <stage>', 'the stage, when the file holds several')
  .action(lazyAction('publishConsole'));

const cohorts = program.command('cohorts').description('read persisted cohorts back');
cohorts
  .command('list')
  .option('--limit <n>', 'how many', countArg('--limit', 1, 10_000), 20)
  .action(lazyAction('cohortsList'));
cohorts.command('show <cohortId>').action(lazyAction('cohortsShow'));

program
  .command('kill <action>')
  .description('kill switch: on (halt: gates fail, open orders canceled), off, or status')
  .option('--reason <text>', 'why (recorded in the audit trail)', 'set from the CLI')
  .option('--by <identity>', 'who (recorded)', `cli:${process.env.USER ?? 'operator'}`)
  .option(
    '--account <id>',
    "simulated paper account whose open orders to cancel (default: the last run's account)",
  )
  .action(lazyAction('kill'));

program
  .command('slack <text>')
  .description(
    'post a /stagegate slash command to the local endpoint, signed like Slack, and print the Block Kit answer',
  )
  .addOption(
    new Option(
      '--as <role>',
      'act as the local Slack user with only this role (default: every role)',
    ).choices(['viewer', 'operator', 'risk']),
  )
  .option('--confirm', 'click the confirmation button of kill on|off (else asked on a terminal)')
  .option('--json', 'print the raw Block Kit JSON')
  .action(lazyAction('slack'));

program
  .command('report')
  .description('the run report')
  .command('pdf [html]')
  .description(
    'print a run report to PDF with headless Chromium (default: the newest report of the state folder)',
  )
  .option('--out <file>', 'PDF to write (default: the report path with .pdf)')
  .action(lazyAction('reportPdf'));

program
  .command('plan <words...>')
  .description(
    'a tracked plan: plan grow <amount> <days> | plan status | plan cancel [reason] (the /stagegate plan use cases, docs/chatops.md)',
  )
  .option('--by <identity>', 'who (recorded)', `cli:${process.env.USER ?? 'operator'}`)
  .option('--json', 'print the plan record as JSON')
  .action(lazyAction('plan'));

const audit = program.command('audit').description('query and verify the local audit trail');
audit
  .command('query [sql]')
  .description('run SQL (view `audit`) or a named query with DuckDB over the local audit bucket')
  .option('--named <name>', `named query: ${NAMED_QUERIES.map((q) => q.name).join(', ')}`)
  .option(
    '--param <name=value>',
    'named query parameter (repeatable)',
    (v: string, acc: string[]) => [...acc, v],
    [] as string[],
  )
  .option('--date <YYYY-MM-DD>', 'only this UTC day')
  .option('--json', 'print rows as JSON lines')
  .action(lazyAction('auditQuery'));
audit
  .command('verify')
  .description('recompute the hash chains; exits 1 naming the first broken record')
  .option(
    '--date <YYYY-MM-DD>',
    'only this UTC day (its edges checked against the day manifests, the next record and the heads)',
  )
  .action(lazyAction('auditVerify'));

audit
  .command('compact')
  .description('compact one UTC day of the audit trail to zstd Parquet (verifies the day first)')
  .requiredOption('--date <YYYY-MM-DD>', 'the UTC day')
  .action(lazyAction('auditCompact'));

audit
  .command('index-heads')
  .description(
    "give a DEPLOYED stage's stream heads written before the `audit-heads` index existed their index keys (one Scan of the stage's table; dry run unless --apply; AWS credentials from the default chain)",
  )
  .addOption(
    new Option('--stage <stage>', 'the deployed stage').choices([...STAGES]).makeOptionMandatory(),
  )
  .option('--table <name>', 'the stage table (default stagegate-<stage>)', tableNameArg)
  .option('--region <region>', 'AWS region (default AWS_REGION / AWS_DEFAULT_REGION)')
  .option('--endpoint <url>', 'DynamoDB endpoint (default the AWS one)', urlArg('--endpoint'))
  .option('--apply', 'write the index keys (without it nothing is written)')
  .action(lazyAction('auditIndexHeads'));

const data = program.command('data').description('market data');
data
  .command('pull')
  .description(
    "build a LEAN data tree (what --data reads) from the Alpaca Market Data API: minute bars and quotes, daily bars, factor files and a data-quality report per session; keys from APCA_API_KEY_ID / APCA_API_SECRET_KEY, endpoint ALPACA_DATA_BASE_URL (default Alpaca's)",
  )
  .requiredOption(
    '--symbols <list>',
    'symbols of one market, comma separated (SPY,IBM or BTCUSD)',
    listArg,
  )
  .requiredOption('--from <date>', 'first session date (YYYY-MM-DD)')
  .requiredOption('--to <date>', 'last session date (YYYY-MM-DD), before today')
  .requiredOption('--out <dir>', 'the LEAN tree to write (created; existing sessions are kept)')
  .addOption(
    new Option('--feed <feed>', 'Alpaca stock feed (iex free, sip paid)')
      .choices(['iex', 'sip'])
      .default('iex'),
  )
  .option(
    '--daily-lookback-days <n>',
    'calendar days of daily history written with each session (VaR needs ~250 sessions)',
    countArg('--daily-lookback-days', 30, 3660),
    550,
  )
  .action(lazyAction('dataPull'));

program.parseAsync(process.argv).catch((err: unknown) => {
  if (err instanceof CliError || err instanceof StagegateError || err instanceof StateFolderError) {
    process.stderr.write(
      `stagegate: ${err.name === 'Error' ? '' : `${err.name}: `}${err.message}\n`,
    );
  } else {
    process.stderr.write(
      `stagegate: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
  }
  process.exitCode = 1;
});
