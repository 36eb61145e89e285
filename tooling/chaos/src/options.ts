/** What one chaos run does; parsed from flags and environment by {@link parseRunOptions}. */
export interface RunOptions {
  /** Seeds the fault schedule, the proxy's decisions and the clients' payloads. */
  readonly seed: number;
  /** How long faults are injected, in ms (setup and drain come on top). */
  readonly durationMs: number;
  /** Where the JSON summary is written. */
  readonly outPath: string | undefined;
  /** PostgreSQL server to create the run's database on (any database of it). */
  readonly adminDatabaseUrl: string;
  /** Keep the run directory (logs, queues) even when the run passed. */
  readonly keep: boolean;
}

export const USAGE = `usage: chaos [--duration 60s] [--seed N] [--out summary.json] [--keep]

  --duration D   how long faults are injected: 90s, 10m, 1500ms (env CHAOS_DURATION; default 60s)
  --seed N       seed of the fault schedule, proxy decisions and payloads (env CHAOS_SEED; default random)
  --out PATH     where to write the JSON summary (env CHAOS_OUT; default a file in the OS temp directory)
  --keep         keep the run directory (client logs, queues, server logs) even when the run passed

PostgreSQL: CHAOS_DATABASE_URL, else TEST_DATABASE_URL, else postgres://postgres@127.0.0.1:5432/test
(a fresh database is created on that server and dropped after the run).`;

/** Parses `90s`, `10m`, `1500ms` or a plain number of seconds. */
export function parseDuration(text: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (match === null)
    throw new TypeError(`Expected a duration like 60s, 10m or 1500ms, got ${JSON.stringify(text)}`);
  const value = Number(match[1]);
  const unit = match[2] ?? 's';
  const factor = unit === 'ms' ? 1 : unit === 's' ? 1000 : unit === 'm' ? 60_000 : 3_600_000;
  const ms = Math.round(value * factor);
  if (ms < 10_000) throw new RangeError(`--duration must be at least 10s, got ${JSON.stringify(text)}`);
  return ms;
}

function parseSeed(text: string): number {
  const seed = Number(text);
  if (!Number.isSafeInteger(seed) || seed < 0 || seed > 0xffff_ffff) {
    throw new TypeError(`Expected --seed to be an integer in [0, 4294967295], got ${JSON.stringify(text)}`);
  }
  return seed;
}

/**
 * Flags win over the environment.
 * @throws {TypeError} for an unknown flag or a bad value.
 */
export function parseRunOptions(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): RunOptions | 'help' {
  let duration = env.CHAOS_DURATION;
  let seed = env.CHAOS_SEED;
  let out = env.CHAOS_OUT;
  let keep = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    const [flag, inline] = arg.startsWith('--') && arg.includes('=') ? arg.split('=', 2) : [arg, undefined];
    const value = (): string => {
      const next = inline ?? argv[++i];
      if (next === undefined) throw new TypeError(`${flag} needs a value`);
      return next;
    };
    if (flag === '--duration') duration = value();
    else if (flag === '--seed') seed = value();
    else if (flag === '--out') out = value();
    else if (flag === '--keep') keep = true;
    else if (flag === '--help' || flag === '-h') return 'help';
    else throw new TypeError(`unknown argument ${JSON.stringify(arg)}`);
  }
  return {
    seed: seed === undefined || seed === '' ? Math.floor(Math.random() * 0xffff_ffff) : parseSeed(seed),
    durationMs: duration === undefined || duration === '' ? 60_000 : parseDuration(duration),
    outPath: out === undefined || out === '' ? undefined : out,
    adminDatabaseUrl:
      env.CHAOS_DATABASE_URL || env.TEST_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test',
    keep,
  };
}
