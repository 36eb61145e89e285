import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { itemPath } from '@sluice/contracts';
import ky from 'ky';
import { openDeadLetterStore } from '../dead-letter-store.js';
import { openDiskQueue } from '../disk-queue/index.js';
import { isQueueLockedError } from '../errors.js';
import { COMMON_ARGS, commonOptions, requireServer } from './common.js';

/** Usage text of `sluice status`. */
export const STATUS_USAGE = `sluice status [id…] [--dir DIR] [--endpoint URL --key KEY]
  Without ids: what is queued and dead in DIR. With ids: each item's state on the server.`;

/** `sluice status`: local queue state, or items' server state; returns the process exit code. */
export async function status(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: COMMON_ARGS,
  });
  const common = commonOptions(values, env);
  if (positionals.length > 0) {
    const { endpoint, key } = requireServer(common);
    let missing = 0;
    for (const id of positionals) {
      const response = await ky.get(itemPath(id).slice(1), {
        prefixUrl: endpoint,
        headers: { authorization: `Bearer ${key}` },
        throwHttpErrors: false,
      });
      if (response.status === 404) missing += 1;
      process.stdout.write(
        `${id}\t${response.status === 200 ? JSON.stringify(await response.json()) : `HTTP ${response.status}`}\n`,
      );
    }
    return missing === 0 ? 0 : 1;
  }
  const lines: string[] = [`directory\t${common.dir}`];
  for (const name of ['records', 'blobs'] as const) {
    try {
      const queue = await openDiskQueue({ directory: join(common.dir, name) });
      const stats = queue.stats();
      await queue.close();
      const age =
        stats.oldestAppendedAt === undefined
          ? '-'
          : `${Math.round((Date.now() - stats.oldestAppendedAt) / 1000)}s`;
      lines.push(
        `${name}\t${stats.entries} queued\t${stats.bytes} bytes\toldest ${age}\t${stats.corruptSkipped} corrupt skipped`,
      );
    } catch (error) {
      if (!isQueueLockedError(error)) throw error;
      lines.push(
        `${name}\tin use by ${error.ownerPid === undefined ? 'another uploader' : `process ${error.ownerPid}`}`,
      );
    }
  }
  const deadLetters = await openDeadLetterStore({
    directory: join(common.dir, 'dead-letters'),
    readOnly: true,
  });
  try {
    lines.push(`dead letters\t${await deadLetters.count()}`);
  } finally {
    await deadLetters.close();
  }
  process.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}
