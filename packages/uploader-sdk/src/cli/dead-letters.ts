import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { openDeadLetterStore } from '../dead-letter-store.js';
import { COMMON_ARGS, commonOptions, UsageError } from './common.js';

/** Usage text of `sluice dead-letters`. */
export const DEAD_LETTERS_USAGE = `sluice dead-letters [--limit N] [--offset N] [--json] [--dir DIR]
  Lists items that will never be delivered, oldest first, with the reason.`;

function count(name: string, value: string | boolean | undefined): number | undefined {
  if (value === undefined) return undefined;
  const number = Number(value);
  if (typeof value !== 'string' || !Number.isSafeInteger(number) || number < 0) {
    throw new UsageError(`--${name} must be a non-negative integer, got ${String(value)}`);
  }
  return number;
}

/** `sluice dead-letters`: lists the dead-letter store (readable while an uploader owns the directory). */
export async function deadLetters(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      ...COMMON_ARGS,
      limit: { type: 'string' },
      offset: { type: 'string' },
      json: { type: 'boolean' },
    },
  });
  const common = commonOptions(values, env);
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
