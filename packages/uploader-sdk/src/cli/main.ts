#!/usr/bin/env node
import { isUsageError, UsageError } from './common.js';
import { DEAD_LETTERS_USAGE, deadLetters } from './dead-letters.js';
import { SEND_USAGE, send } from './send.js';
import { STATUS_USAGE, status } from './status.js';

const USAGE = `Usage: sluice <command> [options]

${SEND_USAGE}
${STATUS_USAGE}
${DEAD_LETTERS_USAGE}

Common options: --endpoint URL (SLUICE_ENDPOINT), --key KEY (SLUICE_API_KEY), --dir DIR (SLUICE_DIR, default ./.sluice)`;

async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  const interrupt = new AbortController();
  process.once('SIGINT', () => interrupt.abort());
  process.once('SIGTERM', () => interrupt.abort());
  if (
    command === undefined ||
    command === 'help' ||
    command === '--help' ||
    command === '-h' ||
    rest.includes('--help')
  ) {
    process.stdout.write(`${USAGE}\n`);
    return command === undefined ? 2 : 0;
  }
  switch (command) {
    case 'send':
      return send(rest, process.env, interrupt.signal);
    case 'status':
      return status(rest, process.env);
    case 'dead-letters':
      return deadLetters(rest, process.env);
    default:
      throw new UsageError(`unknown command ${JSON.stringify(command)}`);
  }
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  if (isUsageError(error) || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
    process.stderr.write(`sluice: ${(error as Error).message}\n\n${USAGE}\n`);
    process.exitCode = 2;
  } else {
    process.stderr.write(`sluice: ${(error as Error).message}\n`);
    process.exitCode = 1;
  }
}
