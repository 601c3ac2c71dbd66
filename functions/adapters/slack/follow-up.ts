/**
 * The asynchronous follow-up of a long `/stagegate` command (cohort start): the event the
 * slash-command function sends to itself (Lambda `Invoke`, InvocationType `Event`) after it
 * acknowledged the command within Slack's 3 seconds. The follow-up invocation does the work
 * and POSTs the answer to the command's `response_url`.
 *
 * Only a direct invocation can carry this shape (API Gateway sends HTTP API v2 events), and
 * only the function's own role may invoke it; the job inside was verified (signature) and
 * role-checked when the command was answered. The event carries the `response_url` (which
 * can post into the channel): it is never logged.
 */
import * as z from 'zod';
import type { SlashFollowUpJob } from '../../core/use-cases/slash-command.js';

/** The event's `source`. */
export const SLASH_FOLLOW_UP_SOURCE = 'stagegate.slash-follow-up';

/** A follow-up event (strict: an unknown key is refused). */
export const SlashFollowUpEventSchema = z.strictObject({
  source: z.literal(SLASH_FOLLOW_UP_SOURCE),
  job: z.strictObject({
    command: z.strictObject({
      kind: z.literal('cohort_start'),
      bankrollUsd: z.number().positive().nullable(),
      agents: z.number().int().positive().nullable(),
      symbols: z
        .array(z.string().regex(/^[A-Z][A-Z0-9.]{0,9}$/))
        .min(1)
        .max(20)
        .nullable(),
    }),
    by: z.string().regex(/^slack:[A-Z0-9]{1,32}$/),
    /** Slack's trigger_id of the command (names its execution); absent in older events. */
    triggerId: z.string().min(1).max(255).nullish(),
  }),
  /** Slack's response_url of the command (checked against the allowed hosts again). */
  responseUrl: z.url().max(3000),
});
export type SlashFollowUpEvent = z.infer<typeof SlashFollowUpEventSchema>;

/** Sends a follow-up event to the function that does the work (asynchronously). */
export type DeferFollowUp = (event: SlashFollowUpEvent) => Promise<void>;

/** The follow-up event of `job`, answered to `responseUrl`. */
export function followUpEvent(job: SlashFollowUpJob, responseUrl: string): SlashFollowUpEvent {
  const { command, by } = job;
  return {
    source: SLASH_FOLLOW_UP_SOURCE,
    job: {
      command: { ...command, symbols: command.symbols ? [...command.symbols] : null },
      by,
      triggerId: job.triggerId ?? null,
    },
    responseUrl,
  };
}
