import { closeSync, createReadStream, existsSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { createGunzip } from 'node:zlib';

/**
 * The embedded database template: a PGlite data directory, initialised and migrated at build time, that
 * a first start copies into an empty embedded directory instead of running `initdb` (seconds of
 * WebAssembly work on every fresh `DATA_DIR`). Written into `dist/` by the package build.
 */
export const EMBEDDED_TEMPLATE_FILE = 'embedded-template.tar.gz';
/** What the build knows about the template, beside it in `dist/`. */
export const EMBEDDED_TEMPLATE_MANIFEST = 'embedded-template.json';

/** The manifest written beside the template. */
export interface EmbeddedTemplateManifest {
  /** `pg_control_system().system_identifier` of the template: every database made from it shares it. */
  readonly systemIdentifier: string;
  /** Version of `@electric-sql/pglite` that made it. */
  readonly pglite: string;
  /** Migrations applied to it (later ones are applied at start, as on any existing database). */
  readonly migrations: number;
}

/**
 * The template's path: beside the bundled module (`dist/`) or one directory up (`dist/cli/`).
 * Undefined when running from sources, which have no build output to find.
 */
export function embeddedTemplatePath(moduleUrl: string = import.meta.url): string | undefined {
  const here = dirname(fileURLToPath(moduleUrl));
  for (const dir of [here, dirname(here)]) {
    const candidate = join(dir, EMBEDDED_TEMPLATE_FILE);
    if (existsSync(candidate)) return candidate;
  }
  return undefined;
}

const BLOCK = 512;

function field(header: Buffer, offset: number, length: number): string {
  const bytes = header.subarray(offset, offset + length);
  const end = bytes.indexOf(0);
  return (end === -1 ? bytes : bytes.subarray(0, end)).toString('utf8');
}

interface Header {
  readonly name: string;
  readonly kind: 'file' | 'directory';
  readonly size: number;
}

/** A ustar header as the build writes them: regular files and directories with relative paths, or throws. */
function parseHeader(header: Buffer): Header {
  let sum = 0;
  for (let i = 0; i < BLOCK; i += 1) sum += i >= 148 && i < 156 ? 0x20 : (header[i] ?? 0);
  if (Number.parseInt(field(header, 148, 8).trim(), 8) !== sum)
    throw new Error('tar header checksum mismatch');
  const prefix = field(header, 345, 155);
  const name = (prefix === '' ? '' : `${prefix}/`) + field(header, 0, 100).replace(/\/$/, '');
  if (name === '' || name.startsWith('/') || name.split('/').includes('..'))
    throw new Error(`tar entry with an unsafe path: ${JSON.stringify(name)}`);
  const type = String.fromCharCode(header[156] ?? 0);
  if (type === '5') return { name, kind: 'directory', size: 0 };
  if (type !== '0' && type !== '\0')
    throw new Error(`tar entry ${name} of unsupported type ${JSON.stringify(type)}`);
  const size = Number.parseInt(field(header, 124, 12).trim() || '0', 8);
  if (!Number.isSafeInteger(size) || size < 0) throw new Error(`tar entry ${name} with a bad size`);
  return { name, kind: 'file', size };
}

/** Bytes received but not consumed yet. */
class ByteQueue {
  private chunks: Buffer[] = [];
  length = 0;

  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.length += chunk.length;
  }

  /** Up to `max` bytes from the front (fewer when the first chunk is shorter): no copy. */
  takeSome(max: number): Buffer {
    const first = this.chunks[0];
    if (first === undefined) return Buffer.alloc(0);
    const piece = first.subarray(0, max);
    if (piece.length === first.length) this.chunks.shift();
    else this.chunks[0] = first.subarray(piece.length);
    this.length -= piece.length;
    return piece;
  }

  /** Exactly `count` bytes from the front; the caller checked {@link ByteQueue.length}. */
  take(count: number): Buffer {
    const parts: Buffer[] = [];
    for (let left = count; left > 0; ) {
      const piece = this.takeSome(left);
      parts.push(piece);
      left -= piece.length;
    }
    return parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts);
  }
}

/**
 * Writes the template at `path` into `dir`, streaming: the 40 MB the data directory unpacks to never
 * sits in memory at once (as garbage it would stay in the server's resident size until a collection).
 * PG_VERSION, which PostgreSQL takes as the mark of an initialised directory and the build puts last,
 * is written only once the whole archive has arrived intact (tar checksums, gzip CRC): a damaged
 * template leaves no directory PostgreSQL would open. The caller marks `dir` as being created before
 * (`startCreating`), so that the next start recognises a copy a crash interrupted and starts it over.
 * Throws on a damaged template, having written only files the caller may remove.
 */
export async function copyEmbeddedTemplate(path: string, dir: string): Promise<void> {
  const queue = new ByteQueue();
  let ended = false;
  let entry: { header: Header; fd: number | undefined; left: number; padding: number } | undefined;
  let version: Buffer[] | undefined;
  try {
    // 1 MiB pieces: at zlib's default 16 KiB, the 2,500 round trips to the thread pool took most of a second.
    const gunzip = createGunzip({ chunkSize: 1 << 20 });
    await pipeline(createReadStream(path), gunzip, async (source: AsyncIterable<Buffer>) => {
      for await (const chunk of source) {
        if (ended) continue;
        queue.push(chunk);
        for (;;) {
          if (entry === undefined) {
            if (queue.length < BLOCK) break;
            const block = queue.take(BLOCK);
            if (block.every((byte) => byte === 0)) {
              ended = true;
              break;
            }
            const header = parseHeader(block);
            const target = join(dir, ...header.name.split('/'));
            if (header.kind === 'directory') {
              mkdirSync(target, { recursive: true, mode: 0o700 });
              continue;
            }
            let fd: number | undefined;
            if (header.name === 'PG_VERSION') version = [];
            else {
              mkdirSync(dirname(target), { recursive: true, mode: 0o700 });
              fd = openSync(target, 'w', 0o600);
            }
            entry = { header, fd, left: header.size, padding: (BLOCK - (header.size % BLOCK)) % BLOCK };
          } else if (entry.left > 0) {
            if (queue.length === 0) break;
            const piece = queue.takeSome(entry.left);
            if (entry.fd === undefined) version?.push(Buffer.from(piece));
            else writeSync(entry.fd, piece);
            entry.left -= piece.length;
          } else {
            if (queue.length < entry.padding) break;
            queue.take(entry.padding);
            if (entry.fd !== undefined) closeSync(entry.fd);
            entry = undefined;
          }
        }
      }
    });
  } finally {
    if (entry?.fd !== undefined) closeSync(entry.fd);
  }
  if (!ended) throw new Error('the template ends before its end-of-archive marker');
  if (version === undefined) throw new Error('the template has no PG_VERSION');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const fd = openSync(join(dir, 'PG_VERSION'), 'w', 0o600);
  try {
    writeSync(fd, Buffer.concat(version));
  } finally {
    closeSync(fd);
  }
}
