import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { openDeadLetterStore } from '../dead-letter-store.js';
import { isQueueLockedError } from '../errors.js';
import { COMMON_ARGS, commonOptions, UsageError } from './common.js';
import { requeueDirectory } from './requeue-directory.js';

/** Usage text of `sluice dead-letters`. */
export const DEAD_LETTERS_USAGE = `sluice dead-letters [--limit N] [--offset N] [--json] [--dir DIR]
  Lists items that will never be delivered, oldest first, with the reason.
sluice dead-letters --requeue [id…] [--json] [--dir DIR]
  Puts the dead letters of these ids (all without ids) back in DIR's queue with the same ids and content;
  the next uploader on DIR sends them. Stop the uploader owning DIR first (or call requeue() in it).
  Exit status: 0 all requeued, 1 error (e.g. DIR in use), 2 usage, 3 some ids missing or unavailable.`;

function count(name: string, value: string | boolean | undefined): number | undefined {
  if (value === undefined) return undefined;
  const number = Number(value);
  if (typeof value !== 'string' || !Number.isSafeInteger(number) || number < 0) {
    throw new UsageError(`--${name} must be a non-negative integer, got ${String(value)}`);
  }
  return number;
}

/**
 * `sluice dead-letters`: lists the dead-letter store (readable while an uploader owns the directory), or
 * with `--requeue` puts dead letters back in the queue; returns the process exit code.
 */
export async function deadLetters(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      ...COMMON_ARGS,
      limit: { type: 'string' },
      offset: { type: 'string' },
      json: { type: 'boolean' },
      requeue: { type: 'boolean' },
    },
  });
  const common = commonOptions(values, env);
  if (values.requeue === true) {
    if (values.limit !== undefined || values.offset !== undefined) {
      throw new UsageError('--limit and --offset only page the list; --requeue takes ids');
    }
    return requeue(common.dir, positionals, values.json === true);
  }
  if (positionals.length > 0) throw new UsageError('ids are only taken with --requeue');
  const limit = count('limit', values.limit);
  const offset = count('offset', values.offset);
  const store = await openDeadLetterStore({ directory: join(common.dir, 'dead-letters'), readOnly: true });
  try {
    const letters = await store.list({
      ...(limit === undefined ? {} : { limit }),
      ...(offset === undefined ? {} : { offset }),
    });
    for (const letter of letters) {
      process.stdout.write(
        values.json === true
          ? `${JSON.stringify(letter)}\n`
          : `${new Date(letter.deadAt).toISOString()}\t${letter.kind}\t${letter.id}\t${letter.status ?? '-'}\t${letter.reason.code}: ${letter.reason.message}\n`,
      );
    }
  } finally {
    await store.close();
  }
  return 0;
}

async function requeue(directory: string, ids: readonly string[], json: boolean): Promise<number> {
  let result: Awaited<ReturnType<typeof requeueDirectory>>;
  try {
    result = await requeueDirectory(directory, ids.length === 0 ? undefined : ids);
  } catch (error) {
    if (!isQueueLockedError(error)) throw error;
    process.stderr.write(
      `sluice: ${error.message}. Stop that uploader and run this again, or call requeue() in it.\n`,
    );
    return 1;
  }
  const { requeued, missing, unavailable } = result;
  if (json) process.stdout.write(`${JSON.stringify(result)}\n`);
  else {
    const lines = [
      ...requeued.map((id) => `requeued\t${id}`),
      ...missing.map((id) => `missing\t${id}`),
      ...unavailable.map((id) => `unavailable\t${id}`),
      `${requeued.length} requeued, ${missing.length} missing, ${unavailable.length} unavailable${requeued.length > 0 ? `; the next uploader on ${directory} sends them` : ''}`,
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  }
  return missing.length + unavailable.length === 0 ? 0 : 3;
}
