/**
 * Layering rules (fail `npm run check`): the domain core is pure, ports are interfaces the
 * core owns, adapters and handlers sit at the edge, and synth-time code never leaks into
 * Lambda code.
 */
const AWS_AND_EDGE =
  '^(node_modules/)?(@aws-sdk|@aws-lambda-powertools|@middy|aws-cdk-lib|constructs|cdk-nag|@slack)';
module.exports = {
  forbidden: [
    {
      name: 'core-is-pure',
      comment:
        'functions/core must not import the AWS SDK, middy, Powertools, CDK or any adapter/handler.',
      severity: 'error',
      from: { path: '^functions/core' },
      to: {
        path: [AWS_AND_EDGE, '^functions/(adapters|handlers|composition)', '^lib/', '^local/'],
      },
    },
    {
      name: 'ports-are-interfaces',
      comment: 'functions/ports may only depend on the core.',
      severity: 'error',
      from: { path: '^functions/ports' },
      to: { path: ['^functions/(adapters|handlers|composition)', AWS_AND_EDGE] },
    },
    {
      name: 'no-synth-code-at-runtime',
      comment: 'Lambda code must not import lib/ (CDK).',
      severity: 'error',
      from: { path: '^functions/' },
      to: { path: ['^lib/', '^(node_modules/)?(aws-cdk-lib|constructs|cdk-nag)'] },
    },
    {
      name: 'no-local-or-test-code-in-lambda',
      comment:
        'Lambda code must not import the local runtime or test code: local-only adapters and in-memory doubles live in local/ or test/.',
      severity: 'error',
      from: { path: '^functions/' },
      to: { path: ['^local/', '^test/'] },
    },
    {
      name: 'composition-does-not-import-handlers',
      comment:
        'Composition roots build dependencies; handlers import them, never the other way round.',
      severity: 'error',
      from: { path: '^functions/composition/' },
      to: { path: '^functions/handlers/' },
    },
    {
      name: 'no-circular',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default'],
    },
  },
};
