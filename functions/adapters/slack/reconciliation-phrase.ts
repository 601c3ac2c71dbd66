/**
 * A paper session's reconciliation as a Slack mrkdwn phrase: `null` (not reconciled yet),
 * clean, or discrepancies (bold). Shared by `/stagegate status` and the daily report.
 */
export function reconciliationPhrase(clean: boolean | null): string {
  if (clean === null) return 'not reconciled yet';
  return clean ? 'reconciled clean' : '*reconciliation discrepancies*';
}
