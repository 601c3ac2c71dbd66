/**
 * The local login of the operator console (the local stand-in for the Cognito user pool):
 * three users with distinct credentials and roles, kept in `<state>/console-users.json`
 * (created on first use with random passwords and a random signing key, file mode 0600, in
 * the git-ignored state folder; `stagegate console --users` prints them):
 *
 * | user | roles |
 * | --- | --- |
 * | `olivia` | viewer, operator (kill switch, cohort start) |
 * | `rick` | viewer, risk (approvals) |
 * | `vera` | viewer |
 *
 * A session token is `base64url(JSON {sub, groups, exp}) + "." + base64url(HMAC-SHA256)`,
 * valid for {@link TOKEN_TTL_SECONDS}; the browser gets it as an HttpOnly, SameSite=Strict
 * cookie, scripts as a bearer token (`stagegate console --print-token --as rick`).
 * Identities are `local:<user>`.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import * as z from 'zod';
import type { Role } from '../functions/core/console/roles.js';

/** Session lifetime, seconds (8 hours: one trading day). */
export const TOKEN_TTL_SECONDS = 8 * 3600;

/** The users created on first use, with their roles. */
export const DEFAULT_CONSOLE_USERS: readonly { username: string; roles: Role[] }[] = [
  { username: 'olivia', roles: ['viewer', 'operator'] },
  { username: 'rick', roles: ['viewer', 'risk'] },
  { username: 'vera', roles: ['viewer'] },
];

const UsersFileSchema = z.object({
  signingKey: z.string().min(32),
  users: z
    .array(
      z.object({
        username: z.string().regex(/^[a-z][a-z0-9-]{1,31}$/),
        password: z.string().min(12),
        roles: z.array(z.enum(['viewer', 'operator', 'risk'])).min(1),
      }),
    )
    .min(1),
});
export type ConsoleUsersFile = z.infer<typeof UsersFileSchema>;

/** A verified session. */
export interface ConsoleSession {
  /** `local:<user>`. */
  readonly identity: string;
  readonly username: string;
  readonly roles: readonly Role[];
}

const b64 = (b: Buffer | string) => Buffer.from(b).toString('base64url');

/** The local console users and their tokens. */
export class ConsoleUsers {
  constructor(
    readonly file: ConsoleUsersFile,
    private readonly nowMs: () => number = Date.now,
  ) {}

  /**
   * Loads `<stateDir>/console-users.json`, creating it (random passwords and key) when absent;
   * `memory` keeps a fresh set in memory (tests).
   * @throws ValidationError-like Error naming the file when it is malformed.
   */
  static async load(stateDir: string | 'memory'): Promise<ConsoleUsers> {
    const fresh = (): ConsoleUsersFile => ({
      signingKey: randomBytes(32).toString('base64url'),
      users: DEFAULT_CONSOLE_USERS.map((u) => ({
        ...u,
        password: randomBytes(12).toString('base64url'),
      })),
    });
    if (stateDir === 'memory') return new ConsoleUsers(fresh());
    const file = path.join(path.resolve(stateDir), 'console-users.json');
    if (!existsSync(file)) {
      await mkdir(path.dirname(file), { recursive: true });
      await writeFile(file, `${JSON.stringify(fresh(), null, 2)}\n`, { mode: 0o600 });
      await chmod(file, 0o600);
    }
    const parsed = UsersFileSchema.safeParse(JSON.parse(await readFile(file, 'utf8')));
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new Error(`${file}: ${issue?.path.join('.')}: ${issue?.message}`);
    }
    return new ConsoleUsers(parsed.data);
  }

  private sign(body: string): string {
    return createHmac('sha256', this.file.signingKey).update(body).digest('base64url');
  }

  /** A token for `username` (no password: the CLI's `--print-token`). @throws on unknown users. */
  tokenFor(username: string): string {
    const user = this.file.users.find((u) => u.username === username);
    if (!user) {
      throw new Error(
        `unknown console user "${username}"; one of ${this.file.users.map((u) => u.username).join(', ')}`,
      );
    }
    const body = b64(
      JSON.stringify({
        sub: user.username,
        groups: user.roles,
        exp: Math.floor(this.nowMs() / 1000) + TOKEN_TTL_SECONDS,
      }),
    );
    return `${body}.${this.sign(body)}`;
  }

  /** The token of a user whose password matches, else null (constant-time compare). */
  login(username: string, password: string): string | null {
    const user = this.file.users.find((u) => u.username === username);
    const a = Buffer.from(password);
    const b = Buffer.from(user?.password ?? randomBytes(12).toString('base64url'));
    const ok = a.length === b.length && timingSafeEqual(a, b);
    return user && ok ? this.tokenFor(user.username) : null;
  }

  /** The session a token proves, or null (bad signature, expired, unknown user). */
  verify(token: string | null | undefined): ConsoleSession | null {
    if (!token) return null;
    const [body, sig] = token.split('.');
    if (!body || !sig) return null;
    const expected = Buffer.from(this.sign(body));
    const given = Buffer.from(sig);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) return null;
    let claims: { sub?: unknown; exp?: unknown };
    try {
      claims = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as typeof claims;
    } catch {
      return null;
    }
    if (typeof claims.exp !== 'number' || claims.exp * 1000 <= this.nowMs()) return null;
    const user = this.file.users.find((u) => u.username === claims.sub);
    if (!user) return null;
    return { identity: `local:${user.username}`, username: user.username, roles: user.roles };
  }
}
