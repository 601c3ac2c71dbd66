/**
 * What the light CLI entry (bin/stagegate.ts) and its commands (bin/cli-commands.ts) share:
 * Node built-ins and types only, so the entry stays light.
 */
import path from 'node:path';
import type { ApprovalMode } from '../local/day3.js';

/**
 * A folder given on the command line, resolved against the user's working directory:
 * `npm run stagegate` runs in the package root, so npm's `INIT_CWD` (where the user typed the
 * command) wins over `process.cwd()`.
 */
export const fromUserCwd = (dir: string): string =>
  path.resolve(process.env.INIT_CWD ?? process.cwd(), dir);

/** The options every command has (`--data`, `--state`, `--verbose`). */
export interface GlobalOpts {
  data: string;
  state: string;
  verbose?: boolean;
}

/** The `run` verb's options as commander parsed them (see the verb's option list). */
export interface RunOpts {
  readonly from: string;
  readonly days: number;
  readonly dates?: string[];
  readonly symbols: string[];
  readonly bankroll: number;
  readonly agents: number;
  readonly allocation: string;
  readonly seed: number;
  readonly promote: boolean;
  readonly approval?: ApprovalMode;
  readonly demoOverride: boolean;
  readonly approvalTimeout?: number;
  readonly summaryJson?: string;
  readonly pdf?: boolean;
  readonly marketData: 'lean' | 'alpaca-fake';
  readonly serve?: boolean;
  readonly port?: number;
}

/** A command's refusal of its input: printed as `stagegate: <message>`, exit 1. */
export class CliError extends Error {}
