/**
 * Makes an AWS definition runnable by the local interpreter (aws-local-stepfunctions 3), which
 * runs every Map INLINE and knows neither Distributed Map, ItemReader, ResultWriter nor
 * ItemBatcher. The file in `statemachines/` stays the AWS definition; the runner transforms its
 * own in-memory copy (after placeholder substitution, before building the interpreter).
 *
 * Each Map whose `ItemProcessor.ProcessorConfig.Mode` is `DISTRIBUTED` becomes an INLINE Map
 * whose children see exactly what AWS hands its child executions:
 *
 * - with an `ItemBatcher`, a Pass state `<Map>.ItemBatcher` is inserted before the Map (every
 *   transition to the Map now enters it). It partitions the items in order with
 *   `States.ArrayPartition(<ItemsPath>, <MaxItemsPerBatch | MaxItemsPerBatchPath>)`, and the
 *   Map iterates over the batches with an `ItemSelector` producing
 *   `{ "Items": <batch>, "BatchInput": <BatchInput> }` (BatchInput evaluated against the Map's
 *   input, as in AWS). The batches are written where the Map's `ResultPath` will put its
 *   result (so they vanish from the output) unless the Map reads that path; otherwise, and
 *   when the ResultPath is `$`, absent or `null`, at `$.localItemBatches` (`$` replaces the
 *   input anyway; with `null` or an overlap that key stays in the output);
 * - without one, each item is one child's input, as in AWS;
 * - `ProcessorConfig` becomes `{ Mode: INLINE }`; `Label` and a zero
 *   `ToleratedFailurePercentage` / `ToleratedFailureCount` are dropped (an inline Map fails on
 *   the first failed child, which is what zero tolerance means). The child states, their
 *   resources, Retry and Catch are untouched, so the same handlers run.
 *
 * Differences that remain (see docs/scale.md): AWS reports a failed child as the Map's
 * `States.ExceedToleratedFailureThreshold`, the local Map fails with the child's own error;
 * children share the parent's context object (`$$.Execution` is the parent's).
 *
 * Not emulated, rejected with an Error naming the state: ItemReader, ResultWriter,
 * MaxInputBytesPerBatch(Path), a batcher without MaxItemsPerBatch(Path), ItemSelector,
 * Parameters or InputPath together with an ItemBatcher, a non-zero or path-valued tolerated
 * failure, and an ItemsPath that is absent or `$` with a batcher (the batches need a place in
 * the input).
 */

/** A JSON object (ASL nodes are plain JSON). */
type Json = Record<string, unknown>;

/** A state machine definition, or a Map processor / Parallel branch (same shape). */
export interface AslDefinition {
  readonly StartAt: string;
  readonly States: Readonly<Record<string, unknown>>;
  readonly [key: string]: unknown;
}

/** Where the batches go when the Map's ResultPath cannot hold them. */
export const LOCAL_BATCHES_PATH = '$.localItemBatches';

/** Name of the Pass state the transform inserts before the Distributed Map `mapName`. */
export function localBatcherStateName(mapName: string): string {
  return `${mapName}.ItemBatcher`;
}

const isObject = (v: unknown): v is Json =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function fail(stateName: string, message: string): never {
  throw new Error(`state ${stateName}: ${message} (not supported by the local interpreter)`);
}

/** Points every transition of `states` that goes to `from` at `to` (Next, Choices, Default, Catch). */
function redirect(states: Record<string, Json>, from: string, to: string): void {
  const retarget = (node: Json) => {
    if (node.Next === from) node.Next = to;
  };
  for (const state of Object.values(states)) {
    retarget(state);
    if (state.Default === from) state.Default = to;
    for (const choice of (state.Choices as Json[] | undefined) ?? []) retarget(choice);
    for (const c of (state.Catch as Json[] | undefined) ?? []) retarget(c);
  }
}

/** The JSONPaths (`$.a.b`, `$['a']`, `$`) in the string values (not keys) of `value`. */
function referencedPaths(value: unknown): string[] {
  if (typeof value === 'string') {
    // Bracket notation is cut at its quote: count it as the whole input (conservative).
    return [...value.matchAll(/(?<!\$)\$(?!\$)[^\s,)'"]*/g)].map((m) =>
      m[0].startsWith('$[') ? '$' : m[0],
    );
  }
  const children = Array.isArray(value) ? value : isObject(value) ? Object.values(value) : [];
  return children.flatMap(referencedPaths);
}

/** True when writing at `path` can change what one of `refs` reads (prefix either way). */
function overlaps(path: string, refs: readonly string[]): boolean {
  const within = (a: string, b: string) =>
    a === b || a.startsWith(`${b}.`) || a.startsWith(`${b}[`);
  return refs.some((ref) => within(ref, path) || within(path, ref));
}

/** Drops a zero failure tolerance; rejects any other. */
function dropZeroTolerance(name: string, map: Json): void {
  for (const key of ['ToleratedFailurePercentage', 'ToleratedFailureCount']) {
    if (map[key] !== undefined && map[key] !== 0) fail(name, `${key} ${String(map[key])}`);
    delete map[key];
  }
  for (const key of ['ToleratedFailurePercentagePath', 'ToleratedFailureCountPath']) {
    if (map[key] !== undefined) fail(name, key);
  }
}

/**
 * Rewrites the Distributed Map state `map` (named `name`) in place as an INLINE Map; returns
 * the batcher Pass state to insert before it, with its name, or null without an ItemBatcher.
 */
function inlineDistributedMap(name: string, map: Json): [string, Json] | null {
  for (const key of ['ItemReader', 'ResultWriter']) if (map[key] !== undefined) fail(name, key);
  dropZeroTolerance(name, map);
  delete map.Label;
  const processor = map.ItemProcessor as Json;
  processor.ProcessorConfig = { Mode: 'INLINE' };
  const batcher = map.ItemBatcher as Json | undefined;
  delete map.ItemBatcher;
  if (!batcher) return null;

  for (const key of ['MaxInputBytesPerBatch', 'MaxInputBytesPerBatchPath']) {
    if (batcher[key] !== undefined) fail(name, `ItemBatcher.${key}`);
  }
  if (map.ItemSelector !== undefined || map.Parameters !== undefined) {
    fail(name, 'ItemSelector/Parameters with an ItemBatcher');
  }
  const itemsPath = map.ItemsPath as string | undefined;
  if (itemsPath === undefined || itemsPath === '$') {
    fail(name, 'an ItemBatcher over the whole input');
  }
  let size: string;
  if (typeof batcher.MaxItemsPerBatch === 'number') size = String(batcher.MaxItemsPerBatch);
  else if (typeof batcher.MaxItemsPerBatchPath === 'string') size = batcher.MaxItemsPerBatchPath;
  else fail(name, 'an ItemBatcher without MaxItemsPerBatch(Path)');

  if (map.InputPath !== undefined && map.InputPath !== '$') {
    fail(name, 'InputPath with an ItemBatcher');
  }
  const resultPath = map.ResultPath;
  const refs = referencedPaths([itemsPath, size, batcher.BatchInput]);
  const batchesPath =
    typeof resultPath === 'string' && resultPath !== '$' && !overlaps(resultPath, refs)
      ? resultPath
      : LOCAL_BATCHES_PATH;
  const pass: Json = {
    Type: 'Pass',
    Comment: `Local emulation of the ItemBatcher of ${name} (local/asl-transform.ts)`,
    Parameters: { 'batches.$': `States.ArrayPartition(${itemsPath}, ${size})` },
    ResultPath: batchesPath,
    Next: name,
  };
  map.ItemsPath = `${batchesPath}.batches`;
  map.ItemSelector = {
    'Items.$': '$$.Map.Item.Value',
    ...(batcher.BatchInput === undefined ? {} : { BatchInput: batcher.BatchInput }),
  };
  return [localBatcherStateName(name), pass];
}

/** Transforms one scope (a definition, a branch or a processor) in place, recursively. */
function transformScope(scope: Json): void {
  const states = scope.States as Record<string, Json>;
  const out: Record<string, Json> = {};
  for (const [name, state] of Object.entries(states)) {
    for (const branch of (state.Branches as Json[] | undefined) ?? []) transformScope(branch);
    const processor = (state.ItemProcessor ?? state.Iterator) as Json | undefined;
    if (processor) transformScope(processor);
    const config = isObject(processor?.ProcessorConfig) ? processor.ProcessorConfig : undefined;
    if (state.Type === 'Map' && config?.Mode === 'DISTRIBUTED') {
      const inserted = inlineDistributedMap(name, state);
      if (inserted) {
        const [passName, pass] = inserted;
        if (states[passName] !== undefined) fail(name, `a state named ${passName} already exists`);
        redirect(states, name, passName);
        if (scope.StartAt === name) scope.StartAt = passName;
        out[passName] = pass;
      }
    }
    out[name] = state;
  }
  scope.States = out;
}

/**
 * The local twin of an AWS definition: every Distributed Map rewritten as described in the
 * module comment, everything else unchanged. Pure: returns a deep copy, never mutates
 * `definition`; idempotent (a definition without Distributed Map comes back equal).
 *
 * @throws Error naming the state when a Distributed Map uses a feature that cannot be
 *   emulated (see the module comment).
 */
export function toLocalDefinition<D extends AslDefinition>(definition: D): D {
  const copy = structuredClone(definition) as unknown as Json;
  transformScope(copy);
  return copy as unknown as D;
}
