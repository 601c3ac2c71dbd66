/**
 * `stagegate publish-console --outputs <file> [--stage <stage>]`: puts the operator console's
 * pages in a deployed stage's pages bucket (docs/deploy.md "Operator console"). The stage's
 * values come from the file `cdk deploy --outputs-file <file>` writes (JSON
 * `{ "<stack>": { "<output>": "<value>" } }`): the pages bucket, the console URL, the Cognito
 * sign-in URL and the app client id ({@link CONSOLE_OUTPUTS}).
 *
 * Besides the files of {@link CONSOLE_FILES} it writes `console-config.json`
 * (`{ signInUrl, clientId }`, no secret: the client is public and uses PKCE), which
 * `console/app.js` reads to sign in through Cognito. Every object is `cache-control: no-store`.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import * as z from 'zod';
import { ValidationError } from '../functions/core/errors.js';
import { CONSOLE_CONFIG_PATH, CONSOLE_FILES, CONSOLE_OUTPUTS } from './console-files.js';
import { REPO_ROOT } from './paths.js';

const OutputsSchema = z.record(z.string(), z.record(z.string(), z.string()));

/** One deployed stage's console, as its stack outputs name it. */
export interface ConsoleDeployment {
  readonly stack: string;
  /** `https://<distribution>/` */
  readonly url: string;
  readonly bucket: string;
  /** `https://<prefix>.auth.<region>.amazoncognito.com` */
  readonly signInUrl: string;
  readonly clientId: string;
}

/**
 * The console deployment in a `cdk deploy --outputs-file` document.
 *
 * @param file the file's name (for errors only)
 * @param stage picks `stagegate-<stage>-workflow` when the file holds several stages
 * @throws ValidationError naming the file (and stack/output) when it is not such a document,
 *   holds no console, several without `stage`, or lacks an output.
 */
export function consoleDeploymentOf(
  outputs: unknown,
  file: string,
  stage?: string,
): ConsoleDeployment {
  const parsed = OutputsSchema.safeParse(outputs);
  if (!parsed.success) {
    throw new ValidationError(file, 'not a cdk deploy --outputs-file document');
  }
  const stacks = Object.entries(parsed.data).filter(
    ([name, o]) =>
      CONSOLE_OUTPUTS.bucket in o &&
      (stage === undefined || name === `stagegate-${stage}-workflow`),
  );
  if (stacks.length === 0) {
    throw new ValidationError(
      file,
      `no stack with the output ${CONSOLE_OUTPUTS.bucket}${stage ? ` for stage ${stage}` : ''} (deploy the workflow stack with --outputs-file)`,
    );
  }
  if (stacks.length > 1) {
    throw new ValidationError(file, 'holds several stages: pass --stage');
  }
  const [stack, o] = stacks[0] as [string, Record<string, string>];
  const need = (key: string): string => {
    const v = o[key];
    if (!v) throw new ValidationError(`${file}: ${stack}.${key}`, 'missing');
    return v;
  };
  const url = need(CONSOLE_OUTPUTS.url);
  const signInUrl = need(CONSOLE_OUTPUTS.signInUrl);
  for (const [key, v] of [
    [CONSOLE_OUTPUTS.url, url],
    [CONSOLE_OUTPUTS.signInUrl, signInUrl],
  ] as const) {
    if (!v.startsWith('https://')) {
      throw new ValidationError(`${file}: ${stack}.${key}`, `not an https URL: ${v}`);
    }
  }
  return {
    stack,
    url,
    bucket: need(CONSOLE_OUTPUTS.bucket),
    signInUrl: signInUrl.replace(/\/+$/, ''),
    clientId: need(CONSOLE_OUTPUTS.clientId),
  };
}

/** One object to put in the pages bucket. */
export interface PageObject {
  /** Key (the URL path without its leading `/`). */
  readonly key: string;
  readonly body: Buffer;
  readonly contentType: string;
}

/** The objects of the console pages for `deployment`, read from the repository `root`. */
export async function consolePageObjects(
  deployment: ConsoleDeployment,
  root: string = REPO_ROOT,
): Promise<PageObject[]> {
  const files = await Promise.all(
    Object.entries(CONSOLE_FILES).map(async ([url, f]) => ({
      key: url.slice(1),
      body: await readFile(path.join(root, f.file)),
      contentType: f.type,
    })),
  );
  const config = { signInUrl: deployment.signInUrl, clientId: deployment.clientId };
  return [
    ...files,
    {
      key: CONSOLE_CONFIG_PATH.slice(1),
      body: Buffer.from(`${JSON.stringify(config, null, 2)}\n`),
      contentType: 'application/json; charset=utf-8',
    },
  ];
}

/** Puts `objects` in `bucket` (`cache-control: no-store`); returns the keys written. */
export async function putPageObjects(
  s3: S3Client,
  bucket: string,
  objects: readonly PageObject[],
): Promise<string[]> {
  for (const o of objects) {
    await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: o.key,
        Body: o.body,
        ContentType: o.contentType,
        CacheControl: 'no-store',
      }),
    );
  }
  return objects.map((o) => o.key);
}
