/**
 * Dependency vulnerability check of what is deployed: `npm audit --omit=dev --json` (the
 * production dependency tree, i.e. what esbuild can bundle into a Lambda), judged against
 * the exemption list `.ci/audit-exemptions.json`. `.ci/run` runs it before `npm test`
 * (`npm run audit:deps`).
 *
 * Verdicts (exit codes):
 * - 0 `passed`: the advisory endpoint answered and every advisory of severity `moderate` or
 *   worse is exempted (with a reason, until an expiry date);
 * - 1 `failed`: an advisory that is not exempted, or an exemption past its expiry (printed);
 * - 0 `skipped`: the registry's advisory endpoint did not answer (network error, 4xx/5xx such
 *   as the 405 this machine's registry returns): printed as `dependency audit: SKIPPED`.
 *   Fail-open on purpose: an outage of the advisory service must not block every landing,
 *   and the skip is loud in the CI log. There is no offline advisory database in the npm
 *   registry to fall back on (docs/deploy.md, "Dependency audit").
 * - 2: usage error (an unreadable or invalid exemption list).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

/** Severities npm reports, in increasing order. */
const SEVERITIES = ['info', 'low', 'moderate', 'high', 'critical'] as const;
type Severity = (typeof SEVERITIES)[number];

/** Advisories at or above this severity fail the check unless exempted. */
export const FAIL_AT: Severity = 'moderate';

export const ExemptionsSchema = z.object({
  $comment: z.string().optional(),
  exemptions: z.array(
    z.object({
      /** Advisory URL as npm prints it, e.g. `https://github.com/advisories/GHSA-xxxx-xxxx-xxxx`. */
      advisory: z.string().url(),
      /** Affected package name. */
      package: z.string().min(1),
      /** Why it does not affect stagegate (at least a sentence). */
      reason: z.string().min(40),
      /** UTC date (yyyy-MM-dd) after which the exemption must be reviewed again. */
      expires: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
    }),
  ),
});
export type Exemptions = z.infer<typeof ExemptionsSchema>;

/** One advisory found by npm audit (flattened from `vulnerabilities[*].via`). */
export interface Finding {
  readonly package: string;
  readonly advisory: string;
  readonly severity: Severity;
  readonly title: string;
}

export type AuditVerdict =
  | { readonly kind: 'passed'; readonly exempted: readonly Finding[] }
  | {
      readonly kind: 'failed';
      readonly open: readonly Finding[];
      readonly expired: Exemptions['exemptions'];
    }
  | { readonly kind: 'skipped'; readonly reason: string };

const rank = (s: Severity) => SEVERITIES.indexOf(s);

/**
 * Judges the JSON `npm audit --json` printed.
 *
 * @param report parsed stdout of `npm audit --omit=dev --json` (undefined when it was not JSON).
 * @param todayIso today's UTC date, `yyyy-MM-dd` (exemptions expire after it).
 */
export function judgeAudit(
  report: unknown,
  exemptions: Exemptions,
  todayIso: string,
): AuditVerdict {
  const r = (report ?? {}) as {
    vulnerabilities?: Record<string, { via?: unknown[] }>;
    error?: { summary?: string };
    message?: string;
    statusCode?: number;
  };
  if (r.vulnerabilities === undefined) {
    const reason =
      r.message ?? r.error?.summary ?? 'npm audit printed no vulnerability report (no JSON)';
    return { kind: 'skipped', reason: r.statusCode ? `${r.statusCode}: ${reason}` : reason };
  }
  const findings = new Map<string, Finding>();
  for (const [name, v] of Object.entries(r.vulnerabilities)) {
    for (const via of v.via ?? []) {
      // `via` holds advisory objects, or names of vulnerable dependencies (reported on their own).
      if (typeof via !== 'object' || via === null) continue;
      const a = via as { url?: string; severity?: string; title?: string; name?: string };
      const severity = (SEVERITIES as readonly string[]).includes(a.severity ?? '')
        ? (a.severity as Severity)
        : 'critical';
      const advisory = a.url ?? `unknown advisory of ${name}`;
      findings.set(`${a.name ?? name} ${advisory}`, {
        package: a.name ?? name,
        advisory,
        severity,
        title: a.title ?? '',
      });
    }
  }
  const active = exemptions.exemptions.filter((e) => e.expires >= todayIso);
  const expired = exemptions.exemptions.filter((e) => e.expires < todayIso);
  const isExempt = (f: Finding) =>
    active.some((e) => e.advisory === f.advisory && e.package === f.package);
  const relevant = [...findings.values()].filter((f) => rank(f.severity) >= rank(FAIL_AT));
  const open = relevant.filter((f) => !isExempt(f));
  if (open.length > 0 || expired.length > 0) return { kind: 'failed', open, expired };
  return { kind: 'passed', exempted: relevant.filter(isExempt) };
}

function main(): number {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
  const listFile = path.join(root, '.ci', 'audit-exemptions.json');
  let exemptions: Exemptions;
  try {
    exemptions = ExemptionsSchema.parse(JSON.parse(readFileSync(listFile, 'utf8')));
  } catch (err) {
    console.error(`dependency audit: ${listFile}: ${(err as Error).message}`);
    return 2;
  }
  const run = spawnSync('npm', ['audit', '--omit=dev', '--json'], {
    cwd: root,
    encoding: 'utf8',
    timeout: 120_000,
  });
  let report: unknown;
  try {
    report = JSON.parse(run.stdout);
  } catch {
    report = { message: run.error?.message ?? (run.stderr.trim().split('\n').pop() || undefined) };
  }
  const verdict = judgeAudit(report, exemptions, new Date().toISOString().slice(0, 10));
  switch (verdict.kind) {
    case 'skipped':
      console.log(
        `dependency audit: SKIPPED (the registry's advisory endpoint did not answer: ${verdict.reason})`,
      );
      return 0;
    case 'passed':
      console.log(
        `dependency audit: passed (npm audit --omit=dev; ${verdict.exempted.length} exempted advisories)`,
      );
      return 0;
    case 'failed':
      for (const f of verdict.open) {
        console.error(`dependency audit: ${f.severity} ${f.package}: ${f.title} (${f.advisory})`);
      }
      for (const e of verdict.expired) {
        console.error(
          `dependency audit: exemption of ${e.package} ${e.advisory} expired on ${e.expires}`,
        );
      }
      console.error(`dependency audit: FAILED (exemptions: ${listFile})`);
      return 1;
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exit(main());
}
