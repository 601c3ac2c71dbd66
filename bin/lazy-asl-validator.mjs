/**
 * Stands in for `asl-validator` inside `aws-local-stepfunctions` when the CLI runs through
 * `bin/launch.mjs`: the interpreter imports the validator (ajv and the ASL schemas, ~0.1 s of
 * CPU to load) at start-up, while the local runner asks it to validate a definition only when
 * that definition's content was never validated before (`local/asl-validation-cache.ts`). This
 * module loads the real validator on its first call, so a start with every definition cached
 * never loads it. Same function, same results.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
/** @type {((definition: unknown, options?: unknown) => unknown) | undefined} */
let validator;

/** `asl-validator`'s default export, loaded on first use. */
export default function aslValidator(definition, options) {
  validator ??= require('asl-validator');
  return validator(definition, options);
}
