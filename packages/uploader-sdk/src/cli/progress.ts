/** Where the CLI writes: a live single-line view on a terminal, plain lines otherwise. */
export interface Progress {
  /** Replaces the live line (terminal) or does nothing (plain output). */
  update(text: string): void;
  /** Prints a permanent line. */
  line(text: string): void;
  /** Ends the live line. */
  done(): void;
}

/** A progress view on `stream`: live when it is a TTY. */
export function createProgress(stream: NodeJS.WriteStream = process.stderr): Progress {
  const live = stream.isTTY === true;
  let shown = false;
  const clear = (): void => {
    if (live && shown) stream.write('\r\x1b[2K');
  };
  return {
    update(text) {
      if (!live) return;
      clear();
      stream.write(text);
      shown = true;
    },
    line(text) {
      clear();
      shown = false;
      process.stdout.write(`${text}\n`);
    },
    done() {
      clear();
      shown = false;
    },
  };
}
