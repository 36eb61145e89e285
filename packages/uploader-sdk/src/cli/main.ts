#!/usr/bin/env node
import { COMMON_USAGE, EXIT, EXIT_USAGE, isUsageError, UsageError } from './common.js';
import { DEAD_LETTERS_USAGE, deadLetters } from './dead-letters.js';
import { SEND_USAGE, send } from './send.js';
import { STATUS_USAGE, status } from './status.js';
import { TAIL_USAGE, tail } from './tail.js';

/** What a command gets besides its arguments. */
export interface CommandContext {
  readonly env: NodeJS.ProcessEnv;
  /**
   * Aborts on SIGINT or SIGTERM, or when stdout or stderr fails (its reader gone), with the exit status to
   * end with as its reason.
   */
  readonly signal: AbortSignal;
}

/** One `sluice` command: its usage text and what it runs; `run` returns the exit status. */
interface Command {
  readonly usage: string;
  /**
   * True when the command ends cleanly on its own after SIGINT/SIGTERM (through `context.signal`);
   * otherwise those signals end the process at once, as they do by default.
   */
  readonly handlesSignals: boolean;
  run(argv: readonly string[], context: CommandContext): Promise<number>;
}

const COMMANDS: Readonly<Record<string, Command>> = {
  send: { usage: SEND_USAGE, handlesSignals: true, run: (argv, { env, signal }) => send(argv, env, signal) },
  tail: { usage: TAIL_USAGE, handlesSignals: true, run: (argv, { env, signal }) => tail(argv, env, signal) },
  status: { usage: STATUS_USAGE, handlesSignals: false, run: (argv, { env }) => status(argv, env) },
  'dead-letters': {
    usage: DEAD_LETTERS_USAGE,
    handlesSignals: false,
    run: (argv, { env }) => deadLetters(argv, env),
  },
};

const USAGE = `Usage: sluice <command> [options]   (sluice <command> -h: help of one command)

${Object.values(COMMANDS)
  .map((command) => command.usage)
  .join('\n\n')}

${COMMON_USAGE}

${EXIT_USAGE}`;

/** True when `-h` or `--help` comes before any `--`. */
function asksForHelp(argv: readonly string[]): boolean {
  const end = argv.indexOf('--');
  return (end === -1 ? argv : argv.slice(0, end)).some((arg) => arg === '-h' || arg === '--help');
}

async function main(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined) {
    process.stderr.write(`${USAGE}\n`);
    return EXIT.usage;
  }
  if (name === 'help' || name === '-h' || name === '--help') {
    const command = commandNamed(rest[0]);
    process.stdout.write(`${command === undefined ? USAGE : commandHelp(command)}\n`);
    return EXIT.ok;
  }
  const command = commandNamed(name);
  if (command === undefined) throw new UsageError(`unknown command ${JSON.stringify(name)}`);
  if (asksForHelp(rest)) {
    process.stdout.write(`${commandHelp(command)}\n`);
    return EXIT.ok;
  }
  const interrupt = new AbortController();
  if (command.handlesSignals) {
    let signalled = false;
    const onSignal = (name: NodeJS.Signals): void => {
      const code = name === 'SIGINT' ? EXIT.interrupted : EXIT.terminated;
      // A second signal, of either kind, ends the process at once, should the clean stop take too long.
      if (signalled) {
        process.stderr.write('sluice: a second signal: ended at once\n');
        process.exit(code);
      }
      signalled = true;
      interrupt.abort(code);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    // A closed output stops it as a signal does; other commands end at once, as on SIGPIPE.
    stopOnOutputFailure = (code) => interrupt.abort(code);
  }
  return command.run(rest, { env: process.env, signal: interrupt.signal });
}

/** What a failing stdout or stderr does while a command runs; by default it ends the process at once. */
let stopOnOutputFailure = (code: number): void => process.exit(code);
/** True once `main` has returned (or thrown). */
let finished = false;
let outputFailed = false;

/**
 * A failure of stdout or stderr is never a crash (the stream's later writes are dropped): it stops the run
 * with {@link EXIT.outputClosed} when the reader is gone (EPIPE: \`sluice … | head\`), {@link EXIT.error}
 * for another write error. Once the command has finished, it only turns a success into that status.
 */
function onOutputError(error: NodeJS.ErrnoException): void {
  const code = error.code === 'EPIPE' ? EXIT.outputClosed : EXIT.error;
  if (finished) {
    if (process.exitCode === EXIT.ok) process.exitCode = code;
    return;
  }
  if (outputFailed) return;
  outputFailed = true;
  stopOnOutputFailure(code);
}

function commandNamed(name: string | undefined): Command | undefined {
  return name !== undefined && Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
}

function commandHelp(command: Command): string {
  return `Usage: ${command.usage}\n\n${COMMON_USAGE}\n\n${EXIT_USAGE}`;
}

process.stdout.on('error', onOutputError);
process.stderr.on('error', onOutputError);
const argv = process.argv.slice(2);
try {
  process.exitCode = await main(argv);
} catch (error) {
  if (isUsageError(error) || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
    const help = commandNamed(argv[0]) === undefined ? 'sluice -h' : `sluice ${argv[0]} -h`;
    process.stderr.write(`sluice: ${(error as Error).message}\n(${help} for help)\n`);
    process.exitCode = EXIT.usage;
  } else {
    process.stderr.write(`sluice: ${(error as Error).message}\n`);
    process.exitCode = EXIT.error;
  }
} finally {
  finished = true;
}
