/**
 * cfn-lint, the CloudFormation linter, on every synthesized template of every stage (stateful
 * and workflow, with the Day-3 go/no-go deployed so its resources are linted too), and of a
 * crypto-enabled stage (dev with `cohort.cryptoSymbols` and Day-3: the crypto ingestion
 * machine, the crypto schedules, rollback ticks and alarms). The version
 * is pinned in `.ci/template-lint.json` (`cfnLint.version`) and checked first; the known false
 * positives are listed there with their reason, and anything else fails the test with each
 * finding printed (rule, template, resource path, message). cfn-lint also validates each state
 * machine's definition (rule E3601) as CloudFormation will receive it, since the definitions
 * are inline (`DefinitionString`). The linter is run once per test on every template.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as z from 'zod';
import { STAGES } from '../../lib/config/environment-config.js';
import { REPO_ROOT } from '../../lib/paths.js';
import { stageApproval } from '../support/stage-approval.js';
import { synthStage } from './synth.js';

const run = promisify(execFile);

/**
 * The cfn-lint executable: `CFN_LINT` when set, else `cfn-lint` on PATH, else pyenv's shim
 * (where this project's machines have it; a non-login shell may not put pyenv on PATH).
 */
function cfnLintBin(): string {
  if (process.env.CFN_LINT) return process.env.CFN_LINT;
  const onPath = (process.env.PATH ?? '')
    .split(path.delimiter)
    .some((dir) => dir !== '' && existsSync(path.join(dir, 'cfn-lint')));
  const shim = path.join(process.env.HOME ?? '/root', '.pyenv', 'shims', 'cfn-lint');
  return onPath || !existsSync(shim) ? 'cfn-lint' : shim;
}

const CfnLintConfigSchema = z.object({
  cfnLint: z.object({
    $comment: z.string().optional(),
    version: z.string().regex(/^\d+\.\d+\.\d+$/),
    ignore: z.array(
      z.object({
        rule: z.string().regex(/^[EWI]\d{4}$/),
        resourceType: z.string().min(1),
        message: z.string().min(1),
        reason: z.string().min(40),
      }),
    ),
  }),
});

const FindingSchema = z.object({
  Filename: z.string(),
  Level: z.string(),
  Location: z.object({ Path: z.array(z.union([z.string(), z.number()])) }),
  Message: z.string(),
  Rule: z.object({ Id: z.string() }),
});
type Finding = z.infer<typeof FindingSchema>;

const OUT_DIR = path.join(REPO_ROOT, '.local', 'test-cfn-lint', String(process.pid));
const STATEMACHINES_DIR = path.join(REPO_ROOT, 'statemachines');

async function config() {
  const text = await readFile(path.join(REPO_ROOT, '.ci', 'template-lint.json'), 'utf8');
  return CfnLintConfigSchema.parse(JSON.parse(text)).cfnLint;
}

/** Runs cfn-lint on `files` (JSON output); exit codes 2/4/6/8 only say findings exist. */
async function cfnLint(files: readonly string[]): Promise<Finding[]> {
  const args = ['--format', 'json', '--regions', 'us-east-1', '--', ...files];
  const out = await run(cfnLintBin(), args, { cwd: OUT_DIR, maxBuffer: 64 * 1024 * 1024 }).then(
    (r) => r.stdout,
    (e: { code?: unknown; stdout?: string; stderr?: string }) => {
      if (typeof e.code === 'number' && e.code > 0 && e.code % 2 === 0 && e.stdout) return e.stdout;
      throw new Error(`cfn-lint failed (exit ${String(e.code)}): ${e.stderr ?? ''}`);
    },
  );
  return z.array(FindingSchema).parse(JSON.parse(out));
}

/** The `Type` of the resource a finding points at (`Resources/<id>/...`), or ''. */
function resourceTypeOf(templates: ReadonlyMap<string, Record<string, unknown>>, f: Finding) {
  const [section, id] = f.Location.Path;
  const resources = templates.get(path.basename(f.Filename))?.Resources as
    | Record<string, { Type?: string }>
    | undefined;
  return section === 'Resources' && typeof id === 'string' ? (resources?.[id]?.Type ?? '') : '';
}

const print = (findings: readonly Finding[]) =>
  findings
    .map((f) => `${f.Rule.Id} ${f.Filename} ${f.Location.Path.join('/')}: ${f.Message}`)
    .join('\n');

const templates = new Map<string, Record<string, unknown>>();

/** The stages linted: each with Day-3, and dev with crypto pairs too. */
const LINTED = [
  ...STAGES.map((stage) => ({ name: stage, stage, crypto: false })),
  { name: 'dev-crypto', stage: 'dev' as const, crypto: true },
];

beforeAll(async () => {
  await mkdir(OUT_DIR, { recursive: true });
  for (const { name: prefix, stage, crypto } of LINTED) {
    const approval = stageApproval(stage, ['slack:U024BE7LH']);
    const s = synthStage(stage, {
      [`stagegate:${stage}`]: {
        approval,
        ...(crypto ? { cohort: { cryptoSymbols: ['BTCUSD', 'ETHUSD'] } } : {}),
      },
    });
    if (crypto && !s.env.workflow.crypto) throw new Error('the crypto stage was not built');
    for (const [stack, template] of [
      ['stateful', s.stateful],
      ['workflow', s.workflow],
    ] as const) {
      const name = `${prefix}-${stack}.json`;
      const json = template.toJSON() as Record<string, unknown>;
      templates.set(name, json);
      await writeFile(path.join(OUT_DIR, name), JSON.stringify(json, null, 1));
    }
  }
}, 600_000);

afterAll(async () => {
  await rm(OUT_DIR, { recursive: true, force: true });
});

describe('cfn-lint', () => {
  it('is the pinned version', async () => {
    // Prepare
    const { version } = await config();

    // Act
    const out = await run(cfnLintBin(), ['--version']).then(
      (r) => r.stdout.trim(),
      (e: Error) => `not runnable: ${e.message} (install with: pip install cfn-lint==${version})`,
    );

    // Assess
    expect(out).toBe(`cfn-lint ${version}`);
  });

  it('finds nothing in any stage beyond the listed false positives', async () => {
    // Prepare
    const { ignore } = await config();
    const ignored = (f: Finding) =>
      ignore.some(
        (i) =>
          i.rule === f.Rule.Id &&
          (i.resourceType === '*' || i.resourceType === resourceTypeOf(templates, f)) &&
          new RegExp(i.message).test(f.Message),
      );

    // Act
    const findings = await cfnLint([...templates.keys()]);

    // Assess: every stage (and the crypto-enabled one) and stack was linted, nothing is open
    expect(templates.size).toBe(LINTED.length * 2);
    expect(templates.has('dev-crypto-workflow.json')).toBe(true);
    expect(print(findings.filter((f) => !ignored(f)))).toBe('');
  }, 600_000);

  it('reports a broken template (the run is real, not silently empty)', async () => {
    // Prepare: a queue with a property CloudFormation does not know
    const broken = 'broken.json';
    await writeFile(
      path.join(OUT_DIR, broken),
      JSON.stringify({
        Resources: { Queue: { Type: 'AWS::SQS::Queue', Properties: { RetentionDays: 4 } } },
      }),
    );

    // Act
    const findings = await cfnLint([broken]);

    // Assess
    expect(findings.map((f) => [f.Rule.Id, f.Location.Path.join('/')])).toEqual([
      ['E3002', 'Resources/Queue/Properties/RetentionDays'],
    ]);
  }, 120_000);
});

describe('the E3601 false positive', () => {
  it('covers only Succeed states: every listed state that sets OutputPath is a Succeed state', async () => {
    // Prepare: the state names the ignore entry lists
    const { ignore } = await config();
    const entry = ignore.find((i) => i.rule === 'E3601');
    const names = /States\/\(([^)]+)\)/.exec(entry?.message ?? '')?.[1]?.split('|') ?? [];
    const files = (await readdir(STATEMACHINES_DIR)).filter((f) => f.endsWith('.asl.json'));

    // Act: the type of every state with one of those names and an OutputPath, in every file
    const types: string[] = [];
    const walk = (states: Record<string, Record<string, unknown>>) => {
      for (const [name, state] of Object.entries(states)) {
        if (names.includes(name) && 'OutputPath' in state) types.push(String(state.Type));
        for (const branch of (state.Branches ?? []) as { States: typeof states }[])
          walk(branch.States);
        const processor = (state.ItemProcessor ?? state.Iterator) as
          | { States: typeof states }
          | undefined;
        if (processor) walk(processor.States);
      }
    };
    for (const file of files) {
      walk(JSON.parse(await readFile(path.join(STATEMACHINES_DIR, file), 'utf8')).States);
    }

    // Assess
    expect(names.length).toBeGreaterThan(0);
    expect(types.length).toBeGreaterThan(0);
    expect(new Set(types)).toEqual(new Set(['Succeed']));
  });
});
