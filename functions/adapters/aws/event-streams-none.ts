/**
 * `@smithy/core/event-streams` as the deployed bundles see it: no event-stream codec.
 *
 * Only the Lambda bundles use this module: `lib/constructs/bundling.ts` aliases
 * `@smithy/core/event-streams` to it. The S3 and Lambda clients build an event-stream
 * marshaller in their constructors, for the only operations that stream events
 * (`SelectObjectContent`, `InvokeWithResponseStream`), and the Smithy protocol loads the codec
 * for those operations only; stagegate calls neither, so the codec (~15 KB minified per
 * function) is left out. The marshaller here throws on use, naming the cause, so a function
 * that starts to call such an operation fails loudly instead of sending a malformed stream
 * (`test/infra/bundling.test.ts`). Tests, the local mode and the CLI are not bundled and keep
 * the real module.
 *
 * Shape: the three exports the bundled SDK imports (`resolveEventStreamSerdeConfig`,
 * `eventStreamSerdeProvider`, `EventStreamSerde`). Errors: {@link EventStreamsNotBundledError}
 * on any use of the marshaller or the serde.
 */

/** An event-stream operation was called inside a bundle that carries no event-stream codec. */
export class EventStreamsNotBundledError extends Error {
  override readonly name = 'EventStreamsNotBundledError';
  constructor() {
    super(
      'AWS SDK event streams are not bundled (lib/constructs/bundling.ts aliases @smithy/core/event-streams)',
    );
  }
}

const unsupported = (): never => {
  throw new EventStreamsNotBundledError();
};

/** A marshaller whose every method throws {@link EventStreamsNotBundledError}. */
const marshaller = { serialize: unsupported, deserialize: unsupported };

/** The client config's `eventStreamSerdeProvider`: the throwing marshaller. */
export const eventStreamSerdeProvider = (_options?: unknown) => marshaller;

/** The client constructor's config resolver: adds the throwing marshaller. */
export const resolveEventStreamSerdeConfig = <T extends object>(input: T) =>
  Object.assign(input, { eventStreamMarshaller: marshaller });

/** The protocol's event-stream serde (loaded for streaming operations only): throws. */
export class EventStreamSerde {
  constructor(_options?: unknown) {
    unsupported();
  }
}
