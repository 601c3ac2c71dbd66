/**
 * The OpenAPI document (`docs/console-api.openapi.yaml`) against the zod schemas the console
 * API validates with (`ROUTE_SCHEMAS` in functions/core/use-cases/console-api.ts): every route
 * the router validates is documented, every query parameter the document names is accepted
 * and every accepted one is documented, enums and numeric bounds agree, and request bodies
 * name the same properties and required fields.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import * as z from 'zod';
import { ROUTE_SCHEMAS } from '../../../functions/core/use-cases/console-api.js';
import { REPO_ROOT } from '../../support/paths.js';

interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  enum?: unknown[];
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  anyOf?: JsonSchema[];
  allOf?: JsonSchema[];
  $ref?: string;
}
interface Parameter {
  name?: string;
  in?: string;
  schema?: JsonSchema;
  $ref?: string;
}
interface Operation {
  parameters?: Parameter[];
  requestBody?: { content?: Record<string, { schema?: JsonSchema }> };
}
interface OpenApi {
  paths: Record<string, Record<string, Operation>>;
  components: { parameters: Record<string, Parameter> };
}

const doc = parseYaml(
  readFileSync(path.join(REPO_ROOT, 'docs/console-api.openapi.yaml'), 'utf8'),
) as OpenApi;

function operation(key: string): Operation {
  const [method, route] = key.split(' ') as [string, string];
  const op = doc.paths[route]?.[method];
  if (!op) throw new Error(`${key} is validated by the API but missing from the OpenAPI document`);
  return op;
}

function queryParameters(op: Operation): Map<string, JsonSchema> {
  const out = new Map<string, JsonSchema>();
  for (const raw of op.parameters ?? []) {
    const p = raw.$ref
      ? doc.components.parameters[raw.$ref.replace('#/components/parameters/', '')]
      : raw;
    if (p?.in === 'query' && p.name) out.set(p.name, p.schema ?? {});
  }
  return out;
}

/** The zod schema's JSON Schema (input side: what a client sends). */
function jsonSchemaOf(schema: z.ZodType): JsonSchema {
  return z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
}

/** A property's own constraints, looking through `anyOf`/`allOf` wrappers zod may add. */
function flat(s: JsonSchema): JsonSchema {
  const parts = [s, ...(s.anyOf ?? []), ...(s.allOf ?? [])];
  return Object.assign({}, ...parts.reverse());
}

const entries = Object.entries(ROUTE_SCHEMAS);

describe('OpenAPI document vs the API zod schemas', () => {
  it('documents every route the API validates', () => {
    expect(entries.length).toBeGreaterThan(15);
    for (const [key] of entries) expect(() => operation(key), key).not.toThrow();
  });

  it.each(entries.filter(([k]) => k.startsWith('get ')))(
    '%s: the same query parameters, enums and bounds',
    (key, schema) => {
      const documented = queryParameters(operation(key));
      const accepted = jsonSchemaOf(schema).properties ?? {};
      expect([...documented.keys()].sort(), key).toEqual(Object.keys(accepted).sort());
      for (const [name, d] of documented) {
        const a = flat(accepted[name] as JsonSchema);
        if (d.enum) expect(a.enum, `${key} ${name} enum`).toEqual(d.enum);
        if (a.enum && d.enum === undefined) {
          // An undocumented enum is allowed only where the document names the kind of value.
          expect(name, `${key} ${name}: document its enum`).toBe('kind');
        }
        for (const bound of ['minimum', 'maximum', 'maxLength'] as const) {
          if (d[bound] !== undefined) expect(a[bound], `${key} ${name} ${bound}`).toBe(d[bound]);
        }
      }
    },
  );

  it.each(entries.filter(([k]) => k.startsWith('post ')))(
    '%s: the same body properties, required fields and bounds',
    (key, schema) => {
      const body = operation(key).requestBody?.content?.['application/json']?.schema ?? {};
      const accepted = jsonSchemaOf(schema);
      expect(Object.keys(body.properties ?? {}).sort()).toEqual(
        Object.keys(accepted.properties ?? {}).sort(),
      );
      expect([...(body.required ?? [])].sort()).toEqual([...(accepted.required ?? [])].sort());
      for (const [name, d] of Object.entries(body.properties ?? {})) {
        const a = flat(accepted.properties?.[name] as JsonSchema);
        if (d.enum) expect(a.enum, `${key} ${name} enum`).toEqual(d.enum);
        for (const bound of ['minLength', 'maxLength', 'minimum', 'maximum'] as const) {
          if (d[bound] !== undefined) expect(a[bound], `${key} ${name} ${bound}`).toBe(d[bound]);
        }
      }
    },
  );

  it('shows no minute Sharpe: the agent row has PSR/DSR and session statistics instead', () => {
    const text = readFileSync(path.join(REPO_ROOT, 'docs/console-api.openapi.yaml'), 'utf8');
    expect(text).not.toMatch(/^\s+sharpe:/m);
    expect(text).not.toContain('minuteSharpe');
  });
});
