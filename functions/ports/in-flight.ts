/**
 * A kind of workflow run that sends orders (a promotion, a paper session) as the crash
 * sweeper sees it (functions/core/use-cases/recover-in-flight.ts). Each order path implements
 * one and hands it to the sweeper's composition root.
 *
 * Contract: {@link InFlightWorkflow.recover} reconciles the run's open orders against the
 * broker by client_order_id, records what it found and closes the run (`workflow_failed`),
 * or leaves it to resume; it never sends an order that opens or adds to a position.
 */
export interface InFlightWorkflow {
  /** Name of the workflow, e.g. `promotion`, `paper_session`. */
  readonly workflow: string;
  /**
   * Ids of runs not in a terminal status that started in `[fromMs, toMs)` (epoch ms).
   *
   * @throws TransientError when storage keeps failing.
   */
  listInFlight(fromMs: number, toMs: number): Promise<readonly string[]>;
  /**
   * Resolves one abandoned run at `nowMs` (epoch ms).
   *
   * @throws NotFoundError for an unknown id; TransientError / BrokerUnavailableError when the
   *   broker or storage keeps failing (the next sweep retries).
   */
  recover(id: string, nowMs: number): Promise<InFlightRecovery>;
}

/** What the sweeper did with one abandoned run. */
export interface InFlightRecovery {
  readonly workflow: string;
  readonly id: string;
  /** `failed`: closed with `workflow_failed`; `untouched`: already terminal when re-read. */
  readonly outcome: 'failed' | 'untouched';
  /** Each order that was not terminal, with what the broker said about it. */
  readonly orders: readonly {
    readonly clientOrderId: string;
    readonly statusBefore: string;
    readonly statusAfter: string;
    /** False when the broker never saw the client_order_id (the crash came before the call). */
    readonly atBroker: boolean;
  }[];
}
