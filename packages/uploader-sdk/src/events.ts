/** Whether an item is a record (`enqueue`) or a blob (`enqueueBlob`). */
export type ItemKind = 'record' | 'blob';

/** Items the server acknowledged in one response. */
export interface DeliveredEvent {
  readonly kind: ItemKind;
  readonly items: readonly { readonly id: string; readonly status: 'stored' | 'duplicate' }[];
}

/** Items that will never be delivered; they are in the dead-letter store with the reason. */
export interface DeadEvent {
  readonly kind: ItemKind;
  readonly items: readonly {
    readonly id: string;
    readonly status: string;
    readonly reason: { readonly code: string; readonly message: string };
  }[];
}

/** Items that will be sent again after `delayMs`. */
export interface RetryEvent {
  readonly kind: ItemKind;
  readonly ids: readonly string[];
  readonly delayMs: number;
  /** A code such as `NETWORK_ERROR`, `RATE_LIMITED`, `UNAVAILABLE`, `TEMPORARY_FAILURE`. */
  readonly reason: string;
}

/** The uploader's events and their payloads. */
export interface UploaderEvents {
  /** Items the server stored or already had. */
  delivered: DeliveredEvent;
  /** Items refused for good (conflict, rejected), now in the dead-letter store. */
  dead: DeadEvent;
  /** Items whose request or result was transient; they are retried, never given up on. */
  retry: RetryEvent;
  /** Something needs attention (e.g. `AuthenticationError`: sending paused until `setApiKey`). No data is lost. */
  error: Error;
  /** The queues are empty and nothing is in flight. */
  drained: undefined;
}

/** A listener of event `E`. */
export type UploaderListener<E extends keyof UploaderEvents> = (payload: UploaderEvents[E]) => void;

/**
 * A small typed event emitter. Unlike node's `EventEmitter`, an `error` without listeners does not throw
 * (the uploader keeps working and logs it); a listener that throws is reported as an uncaught exception
 * rather than breaking the delivery loop.
 */
export class TypedEmitter<Events extends object> {
  readonly #listeners = new Map<keyof Events, Set<(payload: never) => void>>();

  /** Adds a listener; returns a function that removes it. */
  on<E extends keyof Events>(event: E, listener: (payload: Events[E]) => void): () => void {
    let set = this.#listeners.get(event);
    if (set === undefined) {
      set = new Set();
      this.#listeners.set(event, set);
    }
    set.add(listener as (payload: never) => void);
    return () => this.off(event, listener);
  }

  /** Adds a listener that runs once. */
  once<E extends keyof Events>(event: E, listener: (payload: Events[E]) => void): () => void {
    const off = this.on(event, (payload) => {
      off();
      listener(payload);
    });
    return off;
  }

  /** Removes a listener. */
  off<E extends keyof Events>(event: E, listener: (payload: Events[E]) => void): void {
    this.#listeners.get(event)?.delete(listener as (payload: never) => void);
  }

  /** Number of listeners of `event`. */
  listenerCount(event: keyof Events): number {
    return this.#listeners.get(event)?.size ?? 0;
  }

  /** Calls every listener of `event` with `payload`. */
  emit<E extends keyof Events>(event: E, payload: Events[E]): void {
    const set = this.#listeners.get(event);
    if (set === undefined) return;
    for (const listener of [...set]) {
      try {
        (listener as (payload: Events[E]) => void)(payload);
      } catch (error) {
        queueMicrotask(() => {
          throw error;
        });
      }
    }
  }
}
