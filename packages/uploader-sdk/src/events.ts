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
 * rather than breaking the delivery loop. Listeners are keyed by the function passed in, so `off(fn)`
 * removes `fn` whether it was added with `on` or `once`, and a listener removed during an emit (by an
 * earlier listener) is not called by that emit.
 */
export class TypedEmitter<Events extends object> {
  // Value: whether the listener runs once. Adding a listener again only updates that flag.
  readonly #listeners = new Map<keyof Events, Map<(payload: never) => void, { readonly once: boolean }>>();

  /** Adds a listener; returns a function that removes it. */
  on<E extends keyof Events>(event: E, listener: (payload: Events[E]) => void): () => void {
    return this.#add(event, listener, false);
  }

  /** Adds a listener that runs once; `off` with the same function removes it before it ran. */
  once<E extends keyof Events>(event: E, listener: (payload: Events[E]) => void): () => void {
    return this.#add(event, listener, true);
  }

  /** Removes a listener added with `on` or `once`. */
  off<E extends keyof Events>(event: E, listener: (payload: Events[E]) => void): void {
    const listeners = this.#listeners.get(event);
    listeners?.delete(listener as (payload: never) => void);
    if (listeners?.size === 0) this.#listeners.delete(event);
  }

  /** Number of listeners of `event`. */
  listenerCount(event: keyof Events): number {
    return this.#listeners.get(event)?.size ?? 0;
  }

  /** Calls every listener of `event` with `payload`. */
  emit<E extends keyof Events>(event: E, payload: Events[E]): void {
    const listeners = this.#listeners.get(event);
    if (listeners === undefined) return;
    for (const [listener, registration] of [...listeners]) {
      // Removed by an earlier listener of this emit (or re-added with other options): skip this one.
      if (listeners.get(listener) !== registration) continue;
      if (registration.once) this.off(event, listener as (payload: Events[E]) => void);
      try {
        (listener as (payload: Events[E]) => void)(payload);
      } catch (error) {
        queueMicrotask(() => {
          throw error;
        });
      }
    }
  }

  #add<E extends keyof Events>(event: E, listener: (payload: Events[E]) => void, once: boolean): () => void {
    let listeners = this.#listeners.get(event);
    if (listeners === undefined) {
      listeners = new Map();
      this.#listeners.set(event, listeners);
    }
    const registration = { once };
    listeners.set(listener as (payload: never) => void, registration);
    return () => {
      // Removes only this registration: a later `on`/`once` of the same function stays.
      if (this.#listeners.get(event)?.get(listener as (payload: never) => void) === registration) {
        this.off(event, listener);
      }
    };
  }
}
