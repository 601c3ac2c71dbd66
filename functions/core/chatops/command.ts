/**
 * The `/stagegate` slash command's grammar (issue 15): the text Slack sends in the `text`
 * field, parsed into a typed command, and the console role each command needs
 * (`functions/core/console/roles.ts`: reads need any role; the kill switch, cohort start and
 * plan changes need `operator`).
 *
 * | text | command |
 * | --- | --- |
 * | `status` | today's cohort, recent promotions, kill switch, pending approvals, alarms |
 * | `kill on <reason>` / `kill off [reason]` | asks for an interactive confirmation (operator) |
 * | `cohort start [bankroll] [agents] [symbols]` | a partial intraday cohort (operator) |
 * | `fund?` | what to fund tomorrow, with the evidence |
 * | `plan grow <amount> <days>` / `plan status` / `plan cancel` | a tracked plan (issue 15, 2) |
 * | `help` (or empty) | the grammar |
 *
 * Amounts are USD, plain digits with optional decimals, an optional leading `$` and
 * thousands separators as Slack users type them (`$1,000`); counts are whole numbers.
 */
import * as z from 'zod';
import { type ConsoleAction, ROLES } from '../console/roles.js';
import { ValidationError } from '../errors.js';

/**
 * Slack user id -> console roles (the stage config's `slack.commandUsers`, the Lambda's
 * `SLACK_COMMAND_USERS_JSON`). A user not in it is refused.
 */
export const SlackCommandUsersSchema = z.record(
  z.string().regex(/^[UW][A-Z0-9]{2,31}$/, 'must be a Slack user id like U024BE7LH'),
  z.array(z.enum(ROLES)).min(1),
);

/** A parsed `/stagegate` command. */
export type SlashCommand =
  | { readonly kind: 'help' }
  | { readonly kind: 'status' }
  | { readonly kind: 'kill'; readonly engage: boolean; readonly reason: string }
  | {
      readonly kind: 'cohort_start';
      /** USD; null = the configured default. */
      readonly bankrollUsd: number | null;
      readonly agents: number | null;
      /** Upper-case symbols; null = the configured default. */
      readonly symbols: readonly string[] | null;
    }
  | { readonly kind: 'fund' }
  | { readonly kind: 'plan_grow'; readonly amountUsd: number; readonly days: number }
  | { readonly kind: 'plan_status' }
  | { readonly kind: 'plan_cancel'; readonly reason: string };

/** The console action (and so the role) a command needs. */
export function actionOf(command: SlashCommand): ConsoleAction {
  switch (command.kind) {
    case 'kill':
      return 'kill_switch';
    case 'cohort_start':
      return 'cohort_start';
    case 'plan_grow':
    case 'plan_cancel':
      return 'plan';
    default:
      return 'read';
  }
}

/** Longest command text read, characters (Slack sends at most a few thousand). */
export const MAX_COMMAND_TEXT = 1000;

const AMOUNT_RE = /^\$?(\d{1,3}(,\d{3})+|\d+)(\.\d{1,2})?$/;
const COUNT_RE = /^\d{1,7}$/;
const SYMBOL_RE = /^[A-Z][A-Z0-9.]{0,9}$/;

/** A USD amount as typed in Slack (`1000`, `$1,000`, `1000.50`). */
export function parseAmountUsd(text: string, field: string): number {
  if (!AMOUNT_RE.test(text)) {
    throw new ValidationError(field, `must be a USD amount like 1000 or $1,000, got "${text}"`);
  }
  return Number(text.replace(/[$,]/g, ''));
}

function parseCount(text: string, field: string): number {
  if (!COUNT_RE.test(text)) {
    throw new ValidationError(field, `must be a whole number (digits only), got "${text}"`);
  }
  return Number(text);
}

/**
 * Parses the command text.
 *
 * @throws ValidationError naming the argument (`text`, `text.reason`, `text.amount`, ...)
 *   when the text is not a command of the grammar above.
 */
export function parseSlashCommand(text: string): SlashCommand {
  if (text.length > MAX_COMMAND_TEXT) {
    throw new ValidationError('text', `is longer than ${MAX_COMMAND_TEXT} characters`);
  }
  const words = text.trim().split(/\s+/).filter(Boolean);
  const [verb = 'help', sub, ...rest] = words.map((w, i) => (i < 2 ? w.toLowerCase() : w));
  switch (verb) {
    case 'help':
      return { kind: 'help' };
    case 'status':
      if (words.length > 1) throw new ValidationError('text', 'status takes no arguments');
      return { kind: 'status' };
    case 'fund?':
    case 'fund':
      if (words.length > 1) throw new ValidationError('text', 'fund? takes no arguments');
      return { kind: 'fund' };
    case 'kill': {
      const reason = words.slice(2).join(' ').trim();
      if (sub === 'on') {
        if (reason.length < 3) {
          throw new ValidationError('text.reason', 'kill on needs a reason (3+ characters)');
        }
        return { kind: 'kill', engage: true, reason: reason.slice(0, 500) };
      }
      if (sub === 'off') {
        return {
          kind: 'kill',
          engage: false,
          reason: (reason || 'released from Slack').slice(0, 500),
        };
      }
      throw new ValidationError('text', 'kill takes on <reason> or off');
    }
    case 'cohort': {
      if (sub !== 'start') throw new ValidationError('text', 'cohort takes start');
      const args = words.slice(2);
      let bankrollUsd: number | null = null;
      let agents: number | null = null;
      let symbols: string[] | null = null;
      for (const [i, arg] of args.entries()) {
        if (i === 0 && AMOUNT_RE.test(arg)) bankrollUsd = parseAmountUsd(arg, 'text.bankroll');
        else if (i <= 1 && bankrollUsd !== null && agents === null && COUNT_RE.test(arg))
          agents = parseCount(arg, 'text.agents');
        else if (symbols === null) {
          symbols = arg.toUpperCase().split(',').filter(Boolean);
          const bad = symbols.find((s) => !SYMBOL_RE.test(s));
          if (bad !== undefined || symbols.length === 0) {
            throw new ValidationError('text.symbols', `must be symbols like SPY,IBM, got "${arg}"`);
          }
        } else throw new ValidationError('text', `unexpected argument "${arg}"`);
      }
      return { kind: 'cohort_start', bankrollUsd, agents, symbols };
    }
    case 'plan': {
      if (sub === 'status' && rest.length === 0) return { kind: 'plan_status' };
      if (sub === 'cancel') {
        return {
          kind: 'plan_cancel',
          reason: (rest.join(' ').trim() || 'canceled from Slack').slice(0, 500),
        };
      }
      if (sub === 'grow') {
        if (rest.length !== 2) {
          throw new ValidationError(
            'text',
            'plan grow takes <amount> <days>, e.g. plan grow 1000 5',
          );
        }
        return {
          kind: 'plan_grow',
          amountUsd: parseAmountUsd(rest[0] as string, 'text.amount'),
          days: parseCount(rest[1] as string, 'text.days'),
        };
      }
      throw new ValidationError('text', 'plan takes grow <amount> <days>, status or cancel');
    }
    default:
      throw new ValidationError('text', `unknown command "${verb}" (try help)`);
  }
}
