/** The tailer's events and their payloads. */
export interface TailEvents {
  /** A file is being read: new (offset 0) or resumed from its checkpoint. */
  opened: {
    readonly path: string;
    readonly fingerprint: string;
    readonly generation: number;
    readonly offset: number;
  };
  /**
   * The followed path now names another file (`renamed`), or no file (`deleted`); or `path` is the copy
   * of a file truncated in place (`copied`, copytruncate in `tailDirectory`: `fingerprint` is the
   * truncated file's), read on under the old ids from where reading of it stood. The old file (the copy)
   * is read to its end and let go (`released`) once it stayed `rotateWaitMs` without growing.
   */
  rotated: {
    readonly path: string;
    readonly fingerprint: string | undefined;
    readonly reason: 'renamed' | 'deleted' | 'copied';
  };
  /**
   * A file shrank (copytruncate), its first line changed (rewritten in place), or its checkpoint does not fit
   * it: it is read again from its start, as a new generation (new record ids).
   */
  truncated: {
    readonly path: string;
    readonly fingerprint: string;
    readonly generation: number;
    readonly reason?: 'truncated' | 'rewritten';
  };
  /** A rotated-away or vanished file was read to its end and closed for good. */
  released: { readonly path: string; readonly fingerprint: string | undefined };
  /** A line was dead-lettered (not JSON under `json: true`, or refused by the uploader) with the reason. */
  dead: {
    readonly id: string;
    readonly file: string;
    readonly offset: number;
    readonly reason: { readonly code: string; readonly message: string };
  };
  /** Something odd that the tailer worked around (a garbled checkpoint file, a watcher that failed…). */
  warning: { readonly message: string; readonly path?: string; readonly cause?: unknown };
  /** A failure; reading goes on at the next poll unless the uploader was closed (then the tailer stops). */
  error: Error;
}

/** A listener of event `E`. */
export type TailListener<E extends keyof TailEvents> = (payload: TailEvents[E]) => void;
