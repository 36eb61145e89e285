import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { isSendableKey, MAX_API_KEY_LENGTH } from '@sluice/contracts';

/** Exit statuses of every command; the help and the README list them. */
export const EXIT = {
  ok: 0,
  /** Nothing, or not everything, could be done: DIR in use, an unreadable input or missing `tail` path, an I/O error. */
  error: 1,
  /** The command was used wrongly (unknown command or option, missing endpoint or key). */
  usage: 2,
  /** Done, but some items failed: dead-lettered, refused, bad input lines, ids not found. */
  partial: 3,
  /** `send` (key refused, `--timeout`) or `tail` (key refused) stopped with items still queued in DIR; they go out next time. */
  queued: 4,
  /** Interrupted by SIGINT (128 + 2). */
  interrupted: 130,
  /** Stopped because stdout or stderr was closed by its reader (EPIPE), as SIGPIPE would (128 + 13). */
  outputClosed: 141,
  /** Interrupted by SIGTERM (128 + 15). */
  terminated: 143,
} as const;

/** The exit statuses as the help shows them. */
export const EXIT_USAGE = `Exit status:
  0    success
  1    error: nothing or not everything could be done (DIR in use, unreadable input, a tail path
       that does not exist, I/O error)
  2    usage error (unknown command or option, missing --endpoint or API key)
  3    done, but some items failed: dead-lettered or refused (send), bad lines (send --records),
       ids not found (status ID…, dead-letters --requeue/--purge)
  4    send stopped with items still queued in DIR (the server refused the API key, or --timeout
       passed), or tail stopped because the server refused the API key; they go out with the next
       \`sluice send\` (or \`sluice tail\`) on DIR
  130  interrupted by SIGINT (143: SIGTERM); what was not delivered stays queued in DIR (the normal end
       of tail); a second signal ends send or tail at once (130 or 143 by that signal)
  141  stdout or stderr was closed by its reader (\`sluice … | head\`): send and tail stopped as on
       SIGTERM, nothing lost; other commands ended at once`;

/** The options every command takes, as the help shows them. */
export const COMMON_USAGE = `Options of every command:
  --dir DIR          the uploader directory (or SLUICE_DIR; default ./.sluice)
  --endpoint URL     the ingest API (or SLUICE_ENDPOINT)
  --key-file PATH    read the API key from PATH (its first line); or set SLUICE_API_KEY
  --key KEY          the API key itself; avoid it: other users see it in \`ps\` and it stays in your
                     shell history
  -h, --help         this help`;

/** Options every command shares. */
export interface CommonOptions {
  readonly endpoint: string | undefined;
  readonly key: string | undefined;
  /** Where the key came from (`--key`, `--key-file PATH`, `SLUICE_API_KEY`), for messages. */
  readonly keyFrom: string;
  readonly dir: string;
}

/** The parseArgs definitions of {@link CommonOptions}. */
export const COMMON_ARGS = {
  endpoint: { type: 'string' },
  key: { type: 'string' },
  'key-file': { type: 'string' },
  dir: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** A command was used wrongly; the message says how. */
export class UsageError extends Error {
  override name = 'UsageError' as const;
}

/** True when `error` is a {@link UsageError}. */
export function isUsageError(error: unknown): error is UsageError {
  return error instanceof UsageError && error.name === 'UsageError';
}

type ArgValue = string | boolean | undefined;

const text = (value: ArgValue): string | undefined => (typeof value === 'string' ? value : undefined);

/**
 * Common options from flags, falling back to `SLUICE_ENDPOINT`, `SLUICE_API_KEY`, `SLUICE_DIR`, `./.sluice`.
 * The key comes from `--key`, else the first line of `--key-file`, else `SLUICE_API_KEY`.
 * @throws {UsageError} for both `--key` and `--key-file`, or a key file that cannot be read or is empty.
 */
export async function commonOptions(
  values: { endpoint?: ArgValue; key?: ArgValue; 'key-file'?: ArgValue; dir?: ArgValue },
  env: NodeJS.ProcessEnv,
): Promise<CommonOptions> {
  const keyFile = text(values['key-file']);
  if (keyFile !== undefined && text(values.key) !== undefined) {
    throw new UsageError('give the API key with one of --key and --key-file, not both');
  }
  const [key, keyFrom] =
    text(values.key) !== undefined
      ? [text(values.key)?.trim(), '--key']
      : keyFile !== undefined
        ? [await readKeyFile(keyFile), `--key-file ${keyFile}`]
        : [env.SLUICE_API_KEY?.trim(), 'SLUICE_API_KEY'];
  return {
    endpoint: text(values.endpoint) ?? env.SLUICE_ENDPOINT,
    key,
    keyFrom,
    dir: resolve(text(values.dir) ?? env.SLUICE_DIR ?? '.sluice'),
  };
}

async function readKeyFile(path: string): Promise<string> {
  let content: string;
  try {
    content = await readFile(path, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read --key-file ${path}: ${(error as Error).message}`, { cause: error });
  }
  const key = content.split(/\r?\n/, 1)[0]?.trim() ?? '';
  if (key === '') throw new UsageError(`--key-file ${path} is empty: put the API key on its first line`);
  return key;
}

/** The endpoint and key, or a usage error naming what is missing. */
export function requireServer(options: CommonOptions): { endpoint: string; key: string } {
  if (options.endpoint === undefined) throw new UsageError('--endpoint (or SLUICE_ENDPOINT) is required');
  const url = URL.canParse(options.endpoint) ? new URL(options.endpoint) : undefined;
  if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    throw new UsageError(
      `--endpoint must be an http:// or https:// URL, got ${JSON.stringify(options.endpoint)}`,
    );
  }
  if (url.username !== '' || url.password !== '') {
    throw new UsageError(
      '--endpoint must not carry credentials (user:password@): fetch refuses such URLs, and the API key goes in SLUICE_API_KEY or --key-file',
    );
  }
  if (options.key === undefined || options.key === '') {
    throw new UsageError('an API key is required: set SLUICE_API_KEY or pass --key-file PATH');
  }
  // Refused here, not by fetch at the first request (where it would look like a network error).
  if (!isSendableKey(options.key)) {
    throw new UsageError(
      `the key in ${options.keyFrom} is not up to ${MAX_API_KEY_LENGTH} printable ASCII characters without spaces, so no request could carry it: check that it is the key the server issued`,
    );
  }
  return { endpoint: options.endpoint, key: options.key };
}

type OptionsConfig = NonNullable<ParseArgsConfig['options']>;

/** What {@link parseServerArgs} returns: parseArgs' values and positionals, the directory, endpoint and key. */
type ServerArgs<T extends OptionsConfig> = Pick<
  ReturnType<typeof parseArgs<{ args: string[]; allowPositionals: true; options: typeof COMMON_ARGS & T }>>,
  'values' | 'positionals'
> & { readonly dir: string; readonly endpoint: string; readonly key: string };

/**
 * Parses the arguments of a command that sends to the server (positionals allowed): {@link COMMON_ARGS}
 * and its own `options`; then the common options, of which the endpoint and key are required.
 * @throws {UsageError} as {@link commonOptions} and {@link requireServer} do.
 */
export async function parseServerArgs<const T extends OptionsConfig>(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  options: T,
): Promise<ServerArgs<T>> {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: { ...COMMON_ARGS, ...options },
  });
  const common = await commonOptions(values as Parameters<typeof commonOptions>[0], env);
  const { endpoint, key } = requireServer(common);
  return { values, positionals, dir: common.dir, endpoint, key };
}

/**
 * What to tell a CLI user after a 401/403 (HTTP `status`): a refused key when the answer was the API's own
 * (`fromApi`), otherwise that something in front of the API refused the request.
 */
export function refusedKeyMessage(status: number, fromApi: boolean): string {
  if (!fromApi) {
    return (
      `HTTP ${status} came from something that is not the Sluice ingest API (a proxy or gateway ` +
      'refusing the request?): check --endpoint and what sits in front of the API'
    );
  }
  return (
    `the server refused the API key (HTTP ${status}). Check the key: the one in SLUICE_API_KEY or ` +
    'in the --key-file (or --key) you gave must be a current key of the source you send to'
  );
}

/** Why a run stopped early, from the exit status it ends with: `interrupted`, `stdout was closed`… */
export function stopCause(exitCode: number): string {
  switch (exitCode) {
    case EXIT.outputClosed:
      return 'stdout was closed';
    case EXIT.error:
      return 'its output could not be written';
    default:
      return 'interrupted';
  }
}

/** `count` as `1 file` / `2 files`. */
export function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

/** Why a path could not be read or followed, in words: ENOENT and EACCES named, other errors by message. */
export function unreadableReason(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  return code === 'ENOENT'
    ? 'no such file or directory'
    : code === 'EACCES'
      ? 'permission denied'
      : (error as Error).message;
}
