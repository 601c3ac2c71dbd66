/**
 * Validation shared by both {@link TaskTokenPort} adapters, so local mode refuses exactly what
 * Step Functions refuses: an output that is not JSON or exceeds 256 KiB, an error name or
 * cause beyond the API limits.
 */
import { ValidationError } from '../../core/errors.js';
import {
  MAX_TASK_CAUSE_CHARS,
  MAX_TASK_ERROR_CHARS,
  MAX_TASK_OUTPUT_BYTES,
} from '../../ports/task-token.js';

/**
 * The JSON text of a task output.
 *
 * @throws ValidationError (field `output`) when it is not JSON-serialisable or larger than
 *   256 KiB.
 */
export function taskOutputJson(output: unknown): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(output);
  } catch (err) {
    throw new ValidationError('output', `is not JSON: ${(err as Error).message}`);
  }
  if (text === undefined) throw new ValidationError('output', 'is not JSON');
  if (Buffer.byteLength(text, 'utf8') > MAX_TASK_OUTPUT_BYTES) {
    throw new ValidationError('output', `is larger than ${MAX_TASK_OUTPUT_BYTES} bytes`);
  }
  return text;
}

/**
 * Checks a SendTaskFailure error name and cause.
 *
 * @throws ValidationError (field `error` or `cause`) when empty or beyond the API limits.
 */
export function checkTaskFailure(error: string, cause: string): void {
  if (error.length === 0 || error.length > MAX_TASK_ERROR_CHARS) {
    throw new ValidationError('error', `must be 1..${MAX_TASK_ERROR_CHARS} characters`);
  }
  if (cause.length > MAX_TASK_CAUSE_CHARS) {
    throw new ValidationError('cause', `must be at most ${MAX_TASK_CAUSE_CHARS} characters`);
  }
}
