import { basename, extname } from 'node:path';
import { parseArgs } from 'node:util';
import { createUploader } from '../uploader.js';
import { COMMON_ARGS, commonOptions, requireServer, UsageError } from './common.js';
import { createProgress } from './progress.js';

const CONTENT_TYPES: Record<string, string> = {
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.pdf': 'application/pdf',
  '.json': 'application/json',
  '.txt': 'text/plain',
  '.log': 'text/plain',
  '.csv': 'text/csv',
  '.mp4': 'video/mp4',
  '.zip': 'application/zip',
  '.gz': 'application/gzip',
};

/** Usage text of `sluice send`. */
export const SEND_USAGE = `sluice send <file…> [--type file] [--content-type TYPE] --endpoint URL --key KEY [--dir DIR]
  Queues each file as a blob (copied into DIR first) and waits until every one is delivered or dead-lettered.`;

/** `sluice send`: uploads files as blobs; returns the process exit code. */
export async function send(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  signal: AbortSignal,
): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: { ...COMMON_ARGS, type: { type: 'string' }, 'content-type': { type: 'string' } },
  });
  if (positionals.length === 0) throw new UsageError('sluice send needs at least one file');
  const common = commonOptions(values, env);
  const { endpoint, key } = requireServer(common);
  const uploader = await createUploader({ endpoint, apiKey: key, directory: common.dir });
  const progress = createProgress();
  let delivered = 0;
  let dead = 0;
  const names = new Map<string, string>();
  uploader.on('delivered', (event) => {
    for (const item of event.items) {
      if (event.kind !== 'blob') continue;
      delivered += 1;
      progress.line(`${item.status}\t${item.id}\t${names.get(item.id) ?? ''}`);
    }
  });
  uploader.on('dead', (event) => {
    for (const item of event.items) {
      dead += 1;
      progress.line(
        `dead\t${item.id}\t${names.get(item.id) ?? ''}\t${item.reason.code}: ${item.reason.message}`,
      );
    }
  });
  uploader.on('retry', (event) =>
    progress.update(`retrying ${event.ids.length} (${event.reason}) in ${event.delayMs} ms…`),
  );
  uploader.on('error', (error) => progress.line(`error\t${error.message}`));
  const timer = setInterval(() => {
    const stats = uploader.stats();
    progress.update(
      `${delivered}/${names.size} delivered, ${stats.inFlight} in flight, ${stats.queued} queued`,
    );
  }, 200);
  timer.unref();
  try {
    for (const file of positionals) {
      const contentType =
        (typeof values['content-type'] === 'string' ? values['content-type'] : undefined) ??
        CONTENT_TYPES[extname(file).toLowerCase()] ??
        'application/octet-stream';
      const { id } = await uploader.enqueueBlob({
        type: typeof values.type === 'string' ? values.type : 'file',
        body: file,
        contentType,
        meta: { name: basename(file) },
      });
      names.set(id, file);
    }
    const flushed = uploader.flush();
    await Promise.race([
      flushed,
      new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true })),
    ]);
    if (signal.aborted) {
      progress.line(
        `interrupted: ${uploader.stats().queued} item(s) stay queued in ${common.dir} and go out next time`,
      );
      return 130;
    }
    await flushed;
  } finally {
    clearInterval(timer);
    progress.done();
    await uploader.close();
  }
  progress.line(`${delivered} delivered, ${dead} dead`);
  return dead === 0 ? 0 : 1;
}
