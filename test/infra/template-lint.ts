/**
 * An offline CloudFormation template linter over the AWS resource specification that the CDK
 * itself is generated from (`@aws-cdk/aws-service-spec`, pinned: the CloudFormation registry
 * schemas of every resource type, their properties, nested types, allowed values and
 * attributes). It stands in for cfn-lint, which cannot be installed here (docs/deploy.md,
 * "Template validation"); the rule ids are cfn-lint's where one matches, so a finding reads
 * the same in both.
 *
 * Rules:
 * - `E3006` the resource type does not exist (custom resources and `AWS::CDK::Metadata` are
 *   skipped);
 * - `E3002` a property (top-level or inside a nested type) the type does not define;
 * - `E3003` a required property is missing;
 * - `E3012` a literal of the wrong kind (an object where a list or a scalar belongs, a list
 *   where a scalar belongs...; strings, numbers and booleans convert into each other as
 *   CloudFormation converts them);
 * - `E3030` a literal string outside the property's allowed values;
 * - `E1010` `Fn::GetAtt` of a missing resource or of an attribute its type does not have;
 * - `E1012` `Ref` of a name that is neither a resource, a parameter nor a pseudo parameter;
 * - `E3005` `DependsOn` a missing resource;
 * - `E8002` a `Condition` / `Fn::If` naming a condition the template does not declare.
 *
 * Values built by intrinsic functions (`Fn::Join`, `Fn::If`, `Ref`...) are not type-checked
 * (their type is known only at deploy time); their references are.
 */
import { loadAwsServiceSpec } from '@aws-cdk/aws-service-spec';
import type { SpecDatabase } from '@aws-cdk/service-spec-types';

type Json = Record<string, unknown>;

/** A property type as the spec stores it (a subset of `GenericPropertyType`). */
type SpecType =
  | { type: 'string' | 'number' | 'integer' | 'boolean' | 'json' | 'date-time' | 'null' | 'tag' }
  | { type: 'ref'; reference: { $ref: string } }
  | { type: 'array' | 'map'; element: SpecType }
  | { type: 'union'; types: SpecType[] };

interface SpecProperty {
  readonly type: SpecType;
  readonly previousTypes?: SpecType[];
  readonly required?: boolean;
}

/** One finding: rule id, the template path of the offending value, what is wrong. */
export interface LintFinding {
  readonly rule: string;
  readonly path: string;
  readonly message: string;
  /** The resource type the finding is in (for exemptions by type). */
  readonly resourceType?: string;
}

const PSEUDO_PARAMETERS = new Set([
  'AWS::AccountId',
  'AWS::NotificationARNs',
  'AWS::NoValue',
  'AWS::Partition',
  'AWS::Region',
  'AWS::StackId',
  'AWS::StackName',
  'AWS::URLSuffix',
]);

let specPromise: Promise<SpecDatabase> | undefined;

/** The resource specification (loaded once per process, ~3 s). */
export function loadSpec(): Promise<SpecDatabase> {
  specPromise ??= loadAwsServiceSpec();
  return specPromise;
}

function isIntrinsic(value: unknown): boolean {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const keys = Object.keys(value);
  return keys.length === 1 && (keys[0] === 'Ref' || (keys[0]?.startsWith('Fn::') ?? false));
}

/** Lints one template against `spec`; returns every finding (empty: clean). */
export function lintTemplate(spec: SpecDatabase, template: Json): LintFinding[] {
  const findings: LintFinding[] = [];
  const resources = (template.Resources ?? {}) as Record<string, Json>;
  const parameters = new Set(Object.keys((template.Parameters ?? {}) as Json));
  const conditions = new Set(Object.keys((template.Conditions ?? {}) as Json));
  const typeCache = new Map<string, ReturnType<typeof lookupType>>();

  function lookupType(cfnType: string) {
    return spec.lookup('resource', 'cloudFormationType', 'equals', cfnType)[0];
  }
  function resourceSpec(cfnType: string) {
    if (!typeCache.has(cfnType)) typeCache.set(cfnType, lookupType(cfnType));
    return typeCache.get(cfnType);
  }

  function checkOne(
    value: unknown,
    t: SpecType,
    path: string,
    resourceType: string,
    out: LintFinding[],
  ): void {
    if (isIntrinsic(value)) return;
    const kind = Array.isArray(value) ? 'list' : value === null ? 'null' : typeof value;
    const wrong = (expected: string): void => {
      out.push({
        rule: 'E3012',
        path,
        message: `expected ${expected}, got ${kind}`,
        resourceType,
      });
    };
    switch (t.type) {
      case 'json':
        return;
      case 'null':
        if (value !== null) wrong('null');
        return;
      case 'string':
      case 'date-time':
      case 'number':
      case 'integer':
      case 'boolean':
        if (kind === 'object' || kind === 'list') wrong(t.type);
        return;
      case 'tag':
        if (kind !== 'object') {
          wrong('a tag {Key, Value}');
          return;
        }
        for (const key of ['Key', 'Value'])
          if (!(key in (value as Json)))
            out.push({ rule: 'E3003', path, message: `tag lacks ${key}`, resourceType });
        return;
      case 'array':
        if (kind !== 'list') {
          wrong('a list');
          return;
        }
        (value as unknown[]).forEach((v, i) => {
          checkNested(v, [t.element], `${path}/${i}`, resourceType, out);
        });
        return;
      case 'map':
        if (kind !== 'object') {
          wrong('a map');
          return;
        }
        for (const [k, v] of Object.entries(value as Json))
          checkNested(v, [t.element], `${path}/${k}`, resourceType, out);
        return;
      case 'union': {
        const local: LintFinding[][] = [];
        for (const u of t.types) {
          const l: LintFinding[] = [];
          checkOne(value, u, path, resourceType, l);
          if (l.length === 0) return;
          local.push(l);
        }
        local.sort((a, b) => a.length - b.length);
        out.push(...(local[0] ?? []));
        return;
      }
      case 'ref': {
        if (kind !== 'object') {
          wrong('an object');
          return;
        }
        const def = spec.get('typeDefinition', t.reference.$ref) as unknown as {
          name: string;
          properties: Record<string, SpecProperty>;
        };
        checkProperties(value as Json, def.properties, path, resourceType, out);
        return;
      }
    }
  }

  function checkNested(
    value: unknown,
    types: readonly SpecType[],
    path: string,
    resourceType: string,
    out: LintFinding[],
  ): void {
    if (isIntrinsic(value)) return;
    const alternatives: LintFinding[][] = [];
    for (const t of types) {
      const l: LintFinding[] = [];
      checkOne(value, t, path, resourceType, l);
      if (l.length === 0) return;
      alternatives.push(l);
    }
    alternatives.sort((a, b) => a.length - b.length);
    out.push(...(alternatives[0] ?? []));
  }

  function allowedValuesOf(t: SpecType): readonly string[] | undefined {
    const values = (t as { allowedValues?: string[] }).allowedValues;
    return values && values.length > 0 ? values : undefined;
  }

  function checkProperties(
    value: Json,
    props: Record<string, SpecProperty>,
    path: string,
    resourceType: string,
    out: LintFinding[],
  ): void {
    for (const [name, v] of Object.entries(value)) {
      const prop = props[name];
      if (!prop) {
        out.push({
          rule: 'E3002',
          path: `${path}/${name}`,
          message: `${name} is not a property of this type`,
          resourceType,
        });
        continue;
      }
      const allowed = allowedValuesOf(prop.type);
      if (allowed && typeof v === 'string' && !allowed.includes(v)) {
        out.push({
          rule: 'E3030',
          path: `${path}/${name}`,
          message: `"${v}" is not one of ${allowed.join(', ')}`,
          resourceType,
        });
      }
      checkNested(
        v,
        [prop.type, ...(prop.previousTypes ?? [])],
        `${path}/${name}`,
        resourceType,
        out,
      );
    }
    for (const [name, prop] of Object.entries(props)) {
      if (prop.required && !(name in value)) {
        out.push({
          rule: 'E3003',
          path,
          message: `required property ${name} is missing`,
          resourceType,
        });
      }
    }
  }

  for (const [logicalId, resource] of Object.entries(resources)) {
    const type = String(resource.Type);
    const path = `Resources/${logicalId}`;
    if (
      type.startsWith('Custom::') ||
      type === 'AWS::CDK::Metadata' ||
      type === 'AWS::CloudFormation::CustomResource'
    )
      continue;
    const rs = resourceSpec(type);
    if (!rs) {
      findings.push({ rule: 'E3006', path, message: `unknown resource type ${type}` });
      continue;
    }
    const props = rs.properties as unknown as Record<string, SpecProperty>;
    const out: LintFinding[] = [];
    checkProperties((resource.Properties ?? {}) as Json, props, `${path}/Properties`, type, out);
    findings.push(...out);
    const dependsOn = resource.DependsOn;
    for (const dep of Array.isArray(dependsOn) ? dependsOn : dependsOn ? [dependsOn] : []) {
      if (!(String(dep) in resources))
        findings.push({
          rule: 'E3005',
          path: `${path}/DependsOn`,
          message: `${dep} is not a resource`,
          resourceType: type,
        });
    }
    if (typeof resource.Condition === 'string' && !conditions.has(resource.Condition))
      findings.push({
        rule: 'E8002',
        path: `${path}/Condition`,
        message: `condition ${resource.Condition} is not declared`,
        resourceType: type,
      });
  }

  // References anywhere in the template (resources, outputs, conditions).
  const walk = (value: unknown, path: string): void => {
    if (Array.isArray(value)) {
      value.forEach((v, i) => {
        walk(v, `${path}/${i}`);
      });
      return;
    }
    if (typeof value !== 'object' || value === null) return;
    const v = value as Json;
    if (typeof v.Ref === 'string' && Object.keys(v).length === 1) {
      const name = v.Ref;
      if (!(name in resources) && !parameters.has(name) && !PSEUDO_PARAMETERS.has(name))
        findings.push({
          rule: 'E1012',
          path,
          message: `Ref ${name}: no such resource or parameter`,
        });
      return;
    }
    const getAtt = v['Fn::GetAtt'];
    if (getAtt !== undefined && Object.keys(v).length === 1) {
      const [id, attr] = Array.isArray(getAtt)
        ? [String(getAtt[0]), getAtt[1]]
        : String(getAtt).split(/\.(.*)/s);
      const target = id ? resources[id] : undefined;
      if (!target) {
        findings.push({ rule: 'E1010', path, message: `GetAtt ${id}: no such resource` });
      } else if (typeof attr === 'string') {
        const type = String(target.Type);
        const rs = type.startsWith('Custom::') ? undefined : resourceSpec(type);
        if (rs && !(attr in rs.attributes))
          findings.push({
            rule: 'E1010',
            path,
            message: `GetAtt ${id}.${attr}: ${type} has no attribute ${attr}`,
            resourceType: type,
          });
      }
      if (Array.isArray(getAtt) && typeof getAtt[1] !== 'string') walk(getAtt[1], path);
      return;
    }
    const ifArgs = v['Fn::If'];
    if (Array.isArray(ifArgs) && typeof ifArgs[0] === 'string' && !conditions.has(ifArgs[0]))
      findings.push({ rule: 'E8002', path, message: `Fn::If names undeclared ${ifArgs[0]}` });
    const cond = v.Condition;
    if (typeof cond === 'string' && Object.keys(v).length === 1 && !conditions.has(cond))
      findings.push({ rule: 'E8002', path, message: `condition ${cond} is not declared` });
    for (const [k, child] of Object.entries(v)) walk(child, `${path}/${k}`);
  };
  for (const section of ['Resources', 'Outputs', 'Conditions']) walk(template[section], section);
  return findings;
}
