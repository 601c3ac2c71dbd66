/**
 * local/asl-transform.ts: the local twin of a definition with a Distributed Map is valid ASL
 * for aws-local-stepfunctions and hands each child exactly what AWS hands a child execution
 * of an ItemBatcher (`{ Items, BatchInput }`).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { StateMachine } from 'aws-local-stepfunctions';
import { describe, expect, it } from 'vitest';
import {
  type AslDefinition,
  LOCAL_BATCHES_PATH,
  localBatcherStateName,
  toLocalDefinition,
} from '../../../local/asl-transform.js';
import { REPO_ROOT } from '../../support/paths.js';

type State = Record<string, unknown>;
type Definition = AslDefinition & { States: Record<string, State> };

/** A definition: Prepare -> (Choice) -> Fan (Distributed Map with batcher) -> Done. */
function definition(overrides: { map?: State; batcher?: State | null } = {}): Definition {
  const batcher =
    overrides.batcher === null
      ? {}
      : {
          ItemBatcher: overrides.batcher ?? {
            MaxItemsPerBatchPath: '$.size',
            BatchInput: { 'tag.$': '$.tag', fixed: 1 },
          },
        };
  return {
    StartAt: 'Route',
    States: {
      Route: {
        Type: 'Choice',
        Choices: [{ Variable: '$.go', BooleanEquals: true, Next: 'Fan' }],
        Default: 'Done',
      },
      Fan: {
        Type: 'Map',
        ItemsPath: '$.items',
        ...batcher,
        MaxConcurrency: 2,
        ToleratedFailurePercentage: 0,
        Label: 'Fan',
        ItemProcessor: {
          ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' },
          StartAt: 'Child',
          States: { Child: { Type: 'Pass', End: true } },
        },
        ResultPath: '$.results',
        Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'Done' }],
        Next: 'Done',
        ...overrides.map,
      },
      Done: { Type: 'Pass', End: true },
    },
  };
}

async function run(def: AslDefinition, input: unknown): Promise<Record<string, unknown>> {
  const machine = new StateMachine(def as never, {
    validationOptions: { checkPaths: true, checkArn: true },
  });
  return (await machine.run(input as never).result) as Record<string, unknown>;
}

describe('toLocalDefinition, a Distributed Map with an ItemBatcher', () => {
  it('becomes a Pass that partitions the items followed by an INLINE Map over the batches', () => {
    // Prepare
    const aws = definition();

    // Act
    const local = toLocalDefinition(aws);

    // Assess
    const batcherName = localBatcherStateName('Fan');
    const pass = local.States[batcherName] as State;
    const map = local.States.Fan as State;
    expect(local.States.Route).toMatchObject({ Choices: [{ Next: batcherName }] });
    expect(pass).toMatchObject({
      Type: 'Pass',
      Parameters: { 'batches.$': 'States.ArrayPartition($.items, $.size)' },
      ResultPath: '$.results',
      Next: 'Fan',
    });
    expect(map.ItemProcessor).toMatchObject({ ProcessorConfig: { Mode: 'INLINE' } });
    expect(map.ItemsPath).toBe('$.results.batches');
    expect(map.ItemSelector).toEqual({
      'Items.$': '$$.Map.Item.Value',
      BatchInput: { 'tag.$': '$.tag', fixed: 1 },
    });
    for (const key of ['ItemBatcher', 'Label', 'ToleratedFailurePercentage']) {
      expect(map).not.toHaveProperty(key);
    }
    expect(map.MaxConcurrency).toBe(2);
    expect(map.Catch).toEqual(aws.States.Fan?.Catch);
    expect(() => new StateMachine(local as never)).not.toThrow();
  });

  it('redirects every transition to the Map (StartAt, Next, Choice, Default, Catch) through the batcher', () => {
    // Prepare
    const aws = definition();
    aws.States.Route = {
      Type: 'Choice',
      Choices: [{ Variable: '$.go', BooleanEquals: true, Next: 'Fan' }],
      Default: 'Fan',
    };
    aws.States.Retry = {
      Type: 'Task',
      Resource: 'arn:aws:lambda:us-east-1:000000000000:function:x',
      Catch: [{ ErrorEquals: ['States.ALL'], Next: 'Fan' }],
      Next: 'Fan',
    };
    const startsAtMap = { ...definition(), StartAt: 'Fan' };

    // Act
    const local = toLocalDefinition(aws);

    // Assess
    const batcherName = localBatcherStateName('Fan');
    expect(local.States.Route).toMatchObject({
      Choices: [{ Next: batcherName }],
      Default: batcherName,
    });
    expect(local.States.Retry).toMatchObject({ Catch: [{ Next: batcherName }], Next: batcherName });
    expect(local.States.Fan?.Next).toBe('Done');
    expect(toLocalDefinition(startsAtMap).StartAt).toBe(batcherName);
  });

  it('gives each child { Items, BatchInput } like AWS, and leaves no batches in the output', async () => {
    // Prepare
    const local = toLocalDefinition(definition());

    // Act
    const output = await run(local, { go: true, items: [0, 1, 2, 3, 4, 5, 6], size: 3, tag: 'x' });

    // Assess
    expect(output.results).toEqual([
      { Items: [0, 1, 2], BatchInput: { tag: 'x', fixed: 1 } },
      { Items: [3, 4, 5], BatchInput: { tag: 'x', fixed: 1 } },
      { Items: [6], BatchInput: { tag: 'x', fixed: 1 } },
    ]);
    expect(Object.keys(output).sort()).toEqual(['go', 'items', 'results', 'size', 'tag']);
  });

  it('accepts a literal MaxItemsPerBatch and a batcher without BatchInput', async () => {
    // Prepare
    const local = toLocalDefinition(definition({ batcher: { MaxItemsPerBatch: 2 } }));

    // Act
    const output = await run(local, { go: true, items: ['a', 'b', 'c'] });

    // Assess
    expect(output.results).toEqual([{ Items: ['a', 'b'] }, { Items: ['c'] }]);
  });

  it.each([
    ['ResultPath null', { ResultPath: null }],
    ['ResultPath $', { ResultPath: '$' }],
    ['a ResultPath the Map reads', { ResultPath: '$.tag' }],
  ])('keeps the batches at %s elsewhere (%#)', (_label, map) => {
    // Act
    const local = toLocalDefinition(definition({ map }));

    // Assess
    expect(local.States[localBatcherStateName('Fan')]?.ResultPath).toBe(LOCAL_BATCHES_PATH);
    expect(local.States.Fan?.ItemsPath).toBe(`${LOCAL_BATCHES_PATH}.batches`);
  });

  it('fails a child like AWS fails the map: the Catch of the Map takes it', async () => {
    // Prepare
    const aws = definition({
      map: {
        ItemProcessor: {
          ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' },
          StartAt: 'Child',
          States: { Child: { Type: 'Fail', Error: 'ShardFailed', Cause: 'boom' } },
        },
      },
    });

    // Act
    const output = await run(toLocalDefinition(aws), {
      go: true,
      items: [1, 2],
      size: 1,
      tag: 't',
    });

    // Assess
    expect(output.error).toEqual({ Error: 'ShardFailed', Cause: 'boom' });
    // The local residue of a failed Map (docs/scale.md): its batches stay where its result
    // would have gone.
    expect(output.results).toEqual({ batches: [[1], [2]] });
  });
});

describe('toLocalDefinition, other cases', () => {
  it('turns a Distributed Map without a batcher into an INLINE Map over the items themselves', async () => {
    // Prepare / Act
    const local = toLocalDefinition(definition({ batcher: null }));
    const output = await run(local, { go: true, items: [1, 2] });

    // Assess
    expect(Object.keys(local.States).sort()).toEqual(['Done', 'Fan', 'Route']);
    expect(output.results).toEqual([1, 2]);
  });

  it('rewrites a Distributed Map nested in a Parallel branch', () => {
    // Prepare
    const inner = definition();
    const aws: Definition = {
      StartAt: 'Both',
      States: { Both: { Type: 'Parallel', Branches: [inner], End: true } },
    };

    // Act
    const local = toLocalDefinition(aws);

    // Assess
    const both = local.States.Both as State;
    const branch = (both.Branches as Definition[])[0] as Definition;
    expect(branch.States.Route).toMatchObject({
      Choices: [{ Next: localBatcherStateName('Fan') }],
    });
    expect(branch.States.Fan?.ItemProcessor).toMatchObject({ ProcessorConfig: { Mode: 'INLINE' } });
    expect(() => new StateMachine(local as never)).not.toThrow();
  });

  it('never mutates its argument and is idempotent', () => {
    // Prepare
    const aws = definition();
    const before = structuredClone(aws);

    // Act
    const once = toLocalDefinition(aws);
    const twice = toLocalDefinition(once);

    // Assess
    expect(aws).toEqual(before);
    expect(twice).toEqual(once);
  });

  it('returns a definition without Distributed Map unchanged (the promotion pipeline)', () => {
    // Prepare
    const file = path.join(REPO_ROOT, 'statemachines/promotion-pipeline.asl.json');
    const aws = JSON.parse(readFileSync(file, 'utf8')) as Definition;

    // Act / Assess
    expect(toLocalDefinition(aws)).toEqual(aws);
  });

  it.each([
    [
      'ItemReader',
      { ItemReader: { Resource: 'arn:aws:states:::s3:getObject' } },
      null,
      /ItemReader/,
    ],
    [
      'ResultWriter',
      { ResultWriter: { Resource: 'arn:aws:states:::s3:putObject' } },
      null,
      /ResultWriter/,
    ],
    [
      'a tolerated failure',
      { ToleratedFailurePercentage: 5 },
      null,
      /ToleratedFailurePercentage 5/,
    ],
    ['a tolerance path', { ToleratedFailureCountPath: '$.n' }, null, /ToleratedFailureCountPath/],
    [
      'an ItemSelector with a batcher',
      { ItemSelector: { 'v.$': '$$.Map.Item.Value' } },
      null,
      /ItemSelector/,
    ],
    ['an InputPath with a batcher', { InputPath: '$.sub' }, null, /InputPath/],
    ['a batcher over the whole input', { ItemsPath: '$' }, null, /whole input/],
    ['a batch size in bytes', {}, { MaxInputBytesPerBatch: 1024 }, /MaxInputBytesPerBatch/],
    ['a batcher without a size', {}, { BatchInput: {} }, /without MaxItemsPerBatch/],
  ])('rejects %s, naming the state', (_label, map, batcher, message) => {
    // Prepare
    const aws = definition({ map, ...(batcher ? { batcher } : {}) });

    // Act / Assess
    expect(() => toLocalDefinition(aws)).toThrow(message);
    expect(() => toLocalDefinition(aws)).toThrow(/state Fan/);
  });
});
