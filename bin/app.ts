/**
 * CDK entry point (`cdk.json`: `npx tsx bin/app.ts`). One environment scope per stage; select
 * one with `-c stage=dev|staging|prod` (default: all three). cdk-nag's AwsSolutions pack runs
 * as a policy-validation plugin on every synth: an unacknowledged finding fails the synth.
 * See lib/app.ts for the context keys and docs/deploy.md for the commands.
 */
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { addStagegateEnvironments } from '../lib/app.js';

const app = new App();
addStagegateEnvironments(app);
Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
app.synth();
