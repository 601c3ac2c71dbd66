import { readdir, readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { bootLocalServers } from '../../../local/boot.js';

/** The command lines of this process's live children (Linux /proc). */
async function childCommandLines(): Promise<string[]> {
  const lines: string[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = await readFile(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === process.pid) lines.push(await readFile(`/proc/${entry}/cmdline`, 'utf8'));
    } catch {
      // the process ended meanwhile
    }
  }
  return lines;
}

describe('bootLocalServers', () => {
  it('returns once both emulators are spawned, so loading the application cannot delay them', async () => {
    // Act
    const booted = await bootLocalServers('memory');
    const children = await childCommandLines();
    const servers = await booted.servers;
    await servers.stop();

    // Assess: both supervisors were running when it returned (not yet ready, not waited for)
    expect(children.some((c) => c.includes('s3rver-child.cjs'))).toBe(true);
    expect(children.some((c) => c.includes('dynamodb-child.cjs'))).toBe(true);
  });
});
