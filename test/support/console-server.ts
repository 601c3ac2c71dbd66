/**
 * The local console server over a local stack with in-memory users (olivia, rick, vera), as
 * the console tests and the console benchmark start it.
 */
import {
  type ConsoleServer,
  localConsoleApi,
  startConsoleServer,
} from '../../local/console-server.js';
import { ConsoleUsers } from '../../local/console-users.js';
import type { LocalStack } from '../../local/local-stack.js';

/** Starts the console API and pages on loopback; close the server when done. */
export async function startMemoryConsole(
  stack: Pick<LocalStack, 'runtime' | 'promotion' | 'approvalDeps' | 'intradayCohort' | 'config'>,
): Promise<{ server: ConsoleServer; users: ConsoleUsers }> {
  const users = await ConsoleUsers.load('memory');
  const server = await startConsoleServer({
    api: localConsoleApi(stack),
    users,
    audit: stack.runtime.audit,
    environment: 'local',
  });
  return { server, users };
}
