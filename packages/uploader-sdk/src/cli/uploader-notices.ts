import { isAuthenticationError } from '../errors.js';
import type { Uploader } from '../uploader-api.js';
import { plural } from './common.js';
import type { Progress } from './progress.js';

/** What a command keeps of the uploader's notices: the retry note, and how it stops on a refused key. */
export interface NoticeHandlers {
  /** The retry note shown now; undefined when none is (a delivery clears it). */
  note(): string | undefined;
  setNote(note: string): void;
  /** A 401 or 403 (`fromApi`: the API's own, a refused key): the command stops. */
  refused(status: number, fromApi: boolean): void;
}

/**
 * Listens for the uploader's `retry` and `error` events: a retry is noted (written once to stderr when
 * the view is not live, until something is delivered); a refused key halts; another error is a line.
 */
export function listenForNotices(
  uploader: Uploader,
  view: Progress<unknown>,
  handlers: NoticeHandlers,
): void {
  uploader.on('retry', (event) => {
    const note = `retrying ${plural(event.ids.length, event.kind)} (${event.reason})`;
    if (!view.live && handlers.note() === undefined) {
      process.stderr.write(`${note}; they stay queued and are retried until delivered\n`);
    }
    handlers.setNote(note);
  });
  uploader.on('error', (error) => {
    if (isAuthenticationError(error)) handlers.refused(error.status, error.fromApi);
    else view.line(`sluice: ${error.message}`, process.stderr);
  });
}
