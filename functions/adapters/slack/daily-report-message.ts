/**
 * The daily report after the close as a Slack message (Block Kit; `functions/core/use-cases/
 * daily-report.ts` decides WHAT it says). Posted `chat.postMessage` to the desk's channel;
 * free text (ids, reasons, symbols) is escaped for mrkdwn; no secret and no approval link (the
 * approval message carries those), only the console's base URL when one is configured.
 */

import { countVerdicts, describeVerdictCounts } from '../../core/gates/types.js';
import type { DailyReport } from '../../core/use-cases/daily-report.js';
import {
  escapeMrkdwn,
  fmtPct,
  fmtUsd,
  md,
  plain,
  type SlackBlock,
  type SlackMessage,
} from './messages.js';
import { reconciliationPhrase } from './reconciliation-phrase.js';

const prob = (v: number | null) => (v === null ? 'undefined' : v.toFixed(2));
const num = (v: unknown) =>
  typeof v === 'number' && Number.isFinite(v) ? String(Number(v.toPrecision(6))) : String(v ?? '-');

function evidenceText(r: DailyReport): string {
  const shown = r.sessionReturns.slice(-10);
  const returns = shown.map((s) => `${s.sessionDate} ${fmtPct(s.return)}`).join(', ');
  const desk =
    r.dailySharpe === null
      ? `${r.sessionReturns.length} session(s): too few for a Sharpe ratio (need 2+).`
      : `${r.sessionReturns.length} sessions: daily Sharpe ${r.dailySharpe.toFixed(2)} (per session), PSR(0) ${prob(r.psr)}.`;
  const c = r.candidate;
  const candidate = c
    ? `Candidate \`${escapeMrkdwn(c.agentId)}\` (genome \`${escapeMrkdwn(c.genomeId)}\`): ${c.sessions} session(s), Sharpe ${c.sharpe.toFixed(2)}, PSR(0) ${prob(c.psr)}, DSR ${prob(c.dsr)} (N = ${c.trials} genomes); the Day-3 gates ask ${r.minPsr.toFixed(2)}.`
    : 'Candidate: none (no complete cohort for this session).';
  return `*Evidence* (Bailey & López de Prado 2012, 2014): the desk's return per session (cohort PnL / bankroll) ${returns || 'none'}${r.sessionReturns.length > shown.length ? ' (newest 10)' : ''}. ${desk}\n${candidate}`;
}

function gatesText(r: DailyReport): string {
  if (r.promotions.length === 0) return '*Gates:* no promotion for this session.';
  const lines = r.promotions.map(({ promotion: p, gates }) => {
    // Failures and gates not judged yet (which do not block) are named; passes are counted.
    const named = gates.filter((g) => g.verdict !== 'pass');
    const counts = describeVerdictCounts(countVerdicts(gates));
    const detail = named.length
      ? `${counts}: ${named
          .map(
            (g) =>
              `${escapeMrkdwn(String(g.gate))} ${g.verdict === 'not_judged' ? 'not judged' : escapeMrkdwn(String(g.verdict))} (${num(g.observed)} vs ${num(g.threshold)}${g.unit ? ` ${escapeMrkdwn(String(g.unit))}` : ''})`,
          )
          .join('; ')}`
      : gates.length
        ? 'all passed'
        : 'not evaluated';
    return `• ${escapeMrkdwn(p.promotionId)} ${escapeMrkdwn(p.symbol)}: *${p.status}* (${escapeMrkdwn(p.statusReason)}); ${gates.length} gate(s): ${detail}`;
  });
  return `*Gates:*\n${lines.join('\n')}`;
}

function paperText(r: DailyReport): string {
  if (r.paperSessions.length === 0) return '*Paper sessions:* none this session.';
  const lines = r.paperSessions.map((s) => {
    const pnl = s.paperPnlUsd === null ? 'PnL pending' : `PnL ${fmtUsd(s.paperPnlUsd)}`;
    const parity =
      s.differenceUsd === null
        ? 'parity pending'
        : `parity ${fmtUsd(s.differenceUsd)} vs the simulator (${fmtUsd(s.referencePnlUsd ?? Number.NaN)})`;
    const rec = reconciliationPhrase(s.reconciliationClean);
    return `• ${escapeMrkdwn(s.promotionId)} ${escapeMrkdwn(s.symbol ?? '?')} (${escapeMrkdwn(s.broker ?? '?')}): *${s.status}*${s.halt ? ` (${escapeMrkdwn(s.halt.mode)}: ${escapeMrkdwn(s.halt.reason)})` : ''}, ${s.filledCount}/${s.orderCount} orders filled, ${pnl}, ${parity}, ${rec}`;
  });
  return `*Paper sessions:*\n${lines.join('\n')}`;
}

/** How the header names the report's market and session. */
const MARKET_LABELS: Record<DailyReport['market'], string> = {
  'equity-usa': 'US equities, NYSE session',
  crypto: 'crypto, UTC day',
};

/** The report as a Slack message (header, the day's numbers, evidence, gates, paper, approvals, plan). */
export function dailyReportMessage(r: DailyReport): SlackMessage {
  const c = r.cohort;
  const label = MARKET_LABELS[r.market];
  const cohort = c
    ? `Cohort \`${escapeMrkdwn(c.cohortId)}\`: ${c.agentCount} agents on ${escapeMrkdwn(c.symbols.join(', '))}, bankroll ${fmtUsd(c.bankrollUsd)}, PnL ${fmtUsd(c.totalPnlUsd)} (${fmtPct(c.totalPnlUsd / c.bankrollUsd)}).`
    : 'No complete cohort for this session (yet).';
  const approvals = r.pendingApprovals.length
    ? r.pendingApprovals
        .map(
          (a) =>
            `• ${escapeMrkdwn(a.approvalId)} ${escapeMrkdwn(a.symbol)}, slice ${fmtUsd(a.capitalSliceUsd)}, expires ${a.expiresAtIso}`,
        )
        .join('\n')
    : 'none';
  const blocks: SlackBlock[] = [
    { type: 'header', text: plain(`stagegate daily report: ${r.sessionDate} (${label})`) },
    {
      type: 'section',
      block_id: 'cohort',
      text: md(
        `*Session ${r.sessionDate}* (closed ${r.closeIso}${r.earlyClose ? ', early close' : ''}). ${cohort}`,
      ),
    },
    { type: 'section', block_id: 'evidence', text: md(evidenceText(r)) },
    { type: 'section', block_id: 'gates', text: md(gatesText(r)) },
    { type: 'section', block_id: 'paper', text: md(paperText(r)) },
    { type: 'section', block_id: 'approvals', text: md(`*Pending approvals:* ${approvals}`) },
  ];
  if (r.plan) {
    blocks.push({
      type: 'section',
      block_id: 'plan',
      text: md(`*Plan, actual vs plan:*\n${r.plan.map(escapeMrkdwn).join('\n')}`),
    });
  }
  const link =
    r.consoleUrl && /^https?:\/\/[^\s<>|]+$/i.test(r.consoleUrl)
      ? ` · <${r.consoleUrl}|console>`
      : '';
  blocks.push({ type: 'context', elements: [md(`generated ${r.generatedAtIso}${link}`)] });
  const pnl = c ? `PnL ${fmtUsd(c.totalPnlUsd)}` : 'no cohort';
  return {
    text: `stagegate daily report ${r.sessionDate} (${label}): ${pnl}, ${r.promotions.length} promotion(s), ${r.paperSessions.length} paper session(s), ${r.pendingApprovals.length} pending approval(s)`,
    blocks,
  };
}
