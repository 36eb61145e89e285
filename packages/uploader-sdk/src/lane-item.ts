/** One queued item as a lane handles it. */
export interface LaneItem {
  readonly seq: number;
  readonly id: string;
}

/** Why an item is dead-lettered. */
export interface DeadReason {
  readonly code: string;
  readonly message: string;
}

/** An item refused for good, with the server's status (or `unsendable`) and reason. */
export interface DeadItem<T extends LaneItem> {
  readonly item: T;
  readonly status: string;
  readonly reason: DeadReason;
}
