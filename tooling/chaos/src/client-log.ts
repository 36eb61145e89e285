import { closeSync, openSync, readdirSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';

/**
 * One line of a client's log. A client writes `resolved` only after `enqueue` resolved, so the checker
 * knows what must be delivered; the other kinds feed the summary.
 */
export type ClientLogEntry =
  /** `enqueue`/`enqueueBlob` resolved: the item must be in the database exactly once, with this hash. */
  | {
      readonly kind: 'resolved';
      readonly id: string;
      readonly itemKind: 'record' | 'blob';
      readonly hash: string;
      readonly sha256?: string;
    }
  /** A planted bad item: it must end as a dead letter with this code. */
  | { readonly kind: 'expect-dead'; readonly id: string; readonly code: string }
  /** A `delivered` event answered `duplicate`: a resend the server absorbed. */
  | { readonly kind: 'duplicate'; readonly id: string }
  /** A `dead` event. */
  | { readonly kind: 'dead'; readonly id: string; readonly code: string }
  /** `enqueue` threw (e.g. the queue's disk is full): nothing to deliver. */
  | { readonly kind: 'refused'; readonly error: string };

function format(entry: ClientLogEntry): string {
  switch (entry.kind) {
    case 'resolved':
      return `R ${entry.itemKind} ${entry.id} ${entry.hash}${entry.sha256 === undefined ? '' : ` ${entry.sha256}`}`;
    case 'expect-dead':
      return `E ${entry.id} ${entry.code}`;
    case 'duplicate':
      return `D ${entry.id}`;
    case 'dead':
      return `X ${entry.id} ${entry.code}`;
    case 'refused':
      return `F ${entry.error.replace(/\s+/g, '_')}`;
  }
}

function parse(line: string): ClientLogEntry | undefined {
  const [tag, a, b, c, d] = line.split(' ');
  if (tag === 'R' && (a === 'record' || a === 'blob') && b !== undefined && c !== undefined) {
    return d === undefined
      ? { kind: 'resolved', itemKind: a, id: b, hash: c }
      : { kind: 'resolved', itemKind: a, id: b, hash: c, sha256: d };
  }
  if (tag === 'E' && a !== undefined && b !== undefined) return { kind: 'expect-dead', id: a, code: b };
  if (tag === 'D' && a !== undefined) return { kind: 'duplicate', id: a };
  if (tag === 'X' && a !== undefined && b !== undefined) return { kind: 'dead', id: a, code: b };
  if (tag === 'F' && a !== undefined) return { kind: 'refused', error: a };
  return undefined;
}

/**
 * An append-only log file opened with O_APPEND; each entry is one `write(2)` of a whole line. A SIGKILL
 * can only leave the last line unterminated, and {@link readClientLogs} ignores such a line, so an entry
 * counts only once it was written whole. (The page cache survives a killed process; the run simulates
 * crashes, not power loss, so no fsync is needed.)
 */
export class ClientLog {
  readonly #fd: number;

  constructor(path: string) {
    this.#fd = openSync(path, 'a');
  }

  write(entry: ClientLogEntry): void {
    writeSync(this.#fd, `${format(entry)}\n`);
  }

  close(): void {
    closeSync(this.#fd);
  }
}

/** Every complete entry of every `*.log` file in `directory`, with the file it came from. */
export function readClientLogs(directory: string): { file: string; entry: ClientLogEntry }[] {
  const entries: { file: string; entry: ClientLogEntry }[] = [];
  for (const file of readdirSync(directory).sort()) {
    if (!file.endsWith('.log')) continue;
    const text = readFileSync(join(directory, file), 'utf8');
    const complete = text.slice(0, text.lastIndexOf('\n') + 1);
    for (const line of complete.split('\n')) {
      if (line === '') continue;
      const entry = parse(line);
      if (entry === undefined) throw new Error(`unreadable line in ${file}: ${JSON.stringify(line)}`);
      entries.push({ file, entry });
    }
  }
  return entries;
}
