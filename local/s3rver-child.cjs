// Runs the s3rver S3 emulator in its own process (started by local/servers.ts with
// `--openssl-legacy-provider`, which s3rver needs for paginated listings on Node >= 17).
// Binds 127.0.0.1 on a free port and reports it on stdout as one JSON line.
'use strict';
const path = require('node:path');

// Node's compile cache (the CLI's, bin/launch.mjs) for the ~280 modules s3rver loads: ~0.27 ->
// ~0.19 CPU-s to require it (three runs each, load ~17).
require('node:module').enableCompileCache?.(
  path.join(__dirname, '..', 'node_modules', '.cache', 'stagegate', 'v8'),
);
const S3rver = require('s3rver');

const [directory, bucketsCsv] = process.argv.slice(2);
const server = new S3rver({
  address: '127.0.0.1',
  port: 0,
  silent: true,
  directory,
  configureBuckets: (bucketsCsv || '')
    .split(',')
    .filter(Boolean)
    .map((name) => ({ name, configs: [] })),
});
server.run((err, address) => {
  if (err) {
    process.stderr.write(`s3rver failed to start: ${err.message}\n`);
    process.exit(1);
  }
  process.stdout.write(`${JSON.stringify({ port: address.port })}\n`);
});
const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
// Exit when the parent goes away (its stdin pipe closes), so no emulator is ever orphaned.
process.stdin.on('end', stop);
process.stdin.resume();
