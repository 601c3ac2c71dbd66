// Adds lockfile entries for optional, platform-specific packages that the registry this
// project installs from does not serve (it answers 404 for, e.g., @biomejs/cli-win32-x64).
// npm 11 leaves such "inert" optional dependencies out of package-lock.json and `npm ci`
// then rejects its own lockfile as out of sync (npm/cli#9846). Each added entry carries the
// package's os/cpu/libc constraints, so npm never tries to fetch it on this platform.
// Run after any `npm install` that rewrites package-lock.json: `npm run lock:fix`.
import { readFileSync, writeFileSync } from 'node:fs';

const path = new URL('../package-lock.json', import.meta.url);
const lock = JSON.parse(readFileSync(path, 'utf8'));
const pkgs = lock.packages;

function platformOf(name) {
  const tail = name.split('/').pop();
  const m = /(android|darwin|linux|win32|freebsd)-(arm64|x64|arm|ia32)(-musl)?/.exec(tail);
  if (!m) return null;
  return { os: [m[1]], cpu: [m[2]], ...(m[3] ? { libc: ['musl'] } : {}) };
}

let added = 0;
for (const entry of Object.values(pkgs)) {
  for (const [dep, range] of Object.entries(entry.optionalDependencies ?? {})) {
    const depKey = `node_modules/${dep}`;
    if (pkgs[depKey]) continue;
    const platform = platformOf(dep);
    if (!platform) continue;
    const version = String(range).replace(/^[\^~=]/, '');
    pkgs[depKey] = { version, ...platform, optional: true, ...(entry.dev ? { dev: true } : {}) };
    added++;
  }
}
writeFileSync(path, `${JSON.stringify(lock, null, 2)}\n`);
console.log(`fix-lockfile: added ${added} platform entr${added === 1 ? 'y' : 'ies'}`);
