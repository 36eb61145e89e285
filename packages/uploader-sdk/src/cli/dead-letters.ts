import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { openDeadLetterStore } from '../dead-letter-store.js';
import { isQueueLockedError } from '../errors.js';
import { COMMON_ARGS, commonOptions, EXIT, UsageError } from './common.js';
import { purgeDirectory } from './purge-directory.js';
import { requeueDirectory } from './requeue-directory.js';

/** Usage text of `sluice dead-letters`. */
export const DEAD_LETTERS_USAGE = `sluice dead-letters [--limit N] [--offset N] [--json] [--dir DIR]
  Lists items that will never be delivered, oldest first, with the reason (\`no dead letters\` when there
  are none; --json: one JSON array, \`[]\` when empty). Takes no lock.
sluice dead-letters --requeue [ID…] [--json] [--dir DIR]
  Puts the dead letters of these ids (all without ids) back in DIR's queue with the same ids and content;
  the next uploader on DIR (e.g. \`sluice send --dir DIR\`) sends them. Stop the uploader owning DIR first.
sluice dead-letters --purge ID… | --purge --yes [--json] [--dir DIR]
  Deletes the dead letters of these ids, and the blob bytes they kept, for good; all of them with --yes
  and no ids. Stop the uploader owning DIR first.
  --requeue and --purge exit 3 when some ids have no dead letter (or, requeue, cannot be requeued).`;

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
 * with `--requeue` puts dead letters back in the queue, or with `--purge` deletes them; returns the
 * process exit code.
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
      purge: { type: 'boolean' },
      yes: { type: 'boolean' },
    },
  });
  const common = await commonOptions(values, env);
  const json = values.json === true;
  if (values.requeue === true || values.purge === true) {
    if (values.requeue === true && values.purge === true) {
      throw new UsageError('--requeue and --purge do opposite things: give one');
    }
    if (values.limit !== undefined || values.offset !== undefined) {
      throw new UsageError('--limit and --offset only page the list; --requeue and --purge take ids');
    }
    if (values.requeue === true) return requeue(common.dir, positionals, json);
    if (positionals.length === 0 && values.yes !== true) {
      throw new UsageError('--purge without ids deletes every dead letter for good: add --yes to do that');
    }
    return purge(common.dir, positionals, json);
  }
  if (positionals.length > 0) throw new UsageError('ids are only taken with --requeue or --purge');
  if (values.yes === true) throw new UsageError('--yes only goes with --purge');
  const limit = count('limit', values.limit);
  const offset = count('offset', values.offset);
  const store = await openDeadLetterStore({ directory: join(common.dir, 'dead-letters'), readOnly: true });
  try {
    const letters = await store.list({
      ...(limit === undefined ? {} : { limit }),
      ...(offset === undefined ? {} : { offset }),
    });
    if (json) process.stdout.write(`${JSON.stringify(letters)}\n`);
    else if (letters.length === 0) {
      process.stdout.write(offset === undefined ? 'no dead letters\n' : `no dead letters past ${offset}\n`);
    } else {
      for (const letter of letters) {
        process.stdout.write(
          `${new Date(letter.deadAt).toISOString()}\t${letter.kind}\t${letter.id}\t${letter.status ?? '-'}\t${letter.reason.code}: ${letter.reason.message}\n`,
        );
      }
    }
  } finally {
    await store.close();
  }
  return EXIT.ok;
}

/** True when `directory` holds an uploader's queue or dead letters (anything else is likely a typo). */
async function holdsUploader(directory: string): Promise<boolean> {
  for (const part of ['records', 'dead-letters']) {
    if ((await stat(join(directory, part)).catch(() => undefined))?.isDirectory()) return true;
  }
  return false;
}

/**
 * Runs a task that needs DIR to itself; a held DIR is an error with advice rather than a stack, and a DIR
 * that holds no uploader is refused before an uploader directory is made there.
 */
async function owning<T>(directory: string, task: () => Promise<T>, advice: string): Promise<T | undefined> {
  if (!(await holdsUploader(directory))) {
    process.stderr.write(
      `sluice: ${directory} holds no uploader directory (no queue, no dead letters): check --dir.\n`,
    );
    return undefined;
  }
  try {
    return await task();
  } catch (error) {
    if (!isQueueLockedError(error)) throw error;
    process.stderr.write(`sluice: ${error.message}. Stop that uploader and run this again${advice}.\n`);
    return undefined;
  }
}

async function requeue(directory: string, ids: readonly string[], json: boolean): Promise<number> {
  const result = await owning(
    directory,
    () => requeueDirectory(directory, ids.length === 0 ? undefined : ids),
    ', or call requeue() in it',
  );
  if (result === undefined) return EXIT.error;
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
  return missing.length + unavailable.length === 0 ? EXIT.ok : EXIT.partial;
}

async function purge(directory: string, ids: readonly string[], json: boolean): Promise<number> {
  const result = await owning(
    directory,
    () => purgeDirectory(directory, ids.length === 0 ? undefined : ids),
    '',
  );
  if (result === undefined) return EXIT.error;
  const { purged, missing } = result;
  if (json) process.stdout.write(`${JSON.stringify(result)}\n`);
  else {
    const lines = [
      ...purged.map((id) => `purged\t${id}`),
      ...missing.map((id) => `missing\t${id}`),
      `${purged.length} purged, ${missing.length} missing`,
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  }
  return missing.length === 0 ? EXIT.ok : EXIT.partial;
}
