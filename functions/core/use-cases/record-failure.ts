/**
 * Turns a Step Functions Catch output (`{ Error, Cause }`) into an audit draft, so every
 * rejected or failed execution leaves a record. In AWS, a Lambda error's `Cause` is a JSON
 * string `{ errorType, errorMessage, trace }`; the local interpreter passes the message
 * itself. Both are accepted. A `ValidationError` message (`<field>: <message>`) yields the
 * field name.
 */
import * as z from 'zod';

/** What a Catch path hands to the audit step. */
export const FailureNoticeSchema = z.object({
  /** `input_rejected` for named input errors, `workflow_failed` for everything else. */
  kind: z.enum(['input_rejected', 'workflow_failed']),
  /** Workflow that caught the error, e.g. `intraday-cohort`. */
  source: z.string().min(1),
  stream: z.string().min(1),
  executionId: z.string().min(1),
  error: z.string(),
  cause: z.string().nullish(),
  /** The rejected input, recorded as received (never dropped). */
  request: z.unknown(),
});
export type FailureNotice = z.infer<typeof FailureNoticeSchema>;

/** Extracts the human message from a Catch `Cause` (Lambda JSON envelope or plain text). */
export function causeMessage(cause: string | null | undefined): string {
  if (!cause) return '';
  try {
    const parsed = JSON.parse(cause) as { errorMessage?: unknown };
    if (typeof parsed.errorMessage === 'string') return parsed.errorMessage;
  } catch {
    // plain text cause
  }
  return cause;
}

/** The audit draft for a failure notice (environment is added by the audit sink's caller). */
export function failureDraft(notice: FailureNotice) {
  const message = causeMessage(notice.cause);
  const fieldMatch = /^([A-Za-z0-9_.[\]-]+): /.exec(message);
  const field = notice.error === 'ValidationError' && fieldMatch ? (fieldMatch[1] as string) : '';
  return {
    kind: notice.kind,
    actor: `stagegate/${notice.source}`,
    stream: notice.stream,
    subject: { execution_id: notice.executionId },
    payload: {
      source: notice.source,
      error: notice.error,
      field,
      message,
      request: notice.request ?? null,
    },
  };
}
