/**
 * Shared test setup: quiet Powertools logs unless a test opts in, and a fixed service name.
 */
process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';
process.env.POWERTOOLS_SERVICE_NAME ??= 'stagegate-test';
process.env.POWERTOOLS_METRICS_NAMESPACE ??= 'stagegate-test';
process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
