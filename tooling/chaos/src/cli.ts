// `chaos [--duration 60s] [--seed N]`: one seeded fault-injection run of the whole system; exits 1 on any
// loss, duplicate or unexpected dead letter and prints the seed that replays it.
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { postgresAnswers } from './database.js';
import { parseRunOptions, USAGE } from './options.js';
import { killAllChildren } from './processes.js';
import { cleanUpActiveRun, runChaos } from './run.js';
import { formatSummary } from './summary.js';

async function main(): Promise<number> {
  let options: ReturnType<typeof parseRunOptions>;
  try {
    options = parseRunOptions(process.argv.slice(2), process.env);
  } catch (error) {
    process.stderr.write(`chaos: ${(error as Error).message}\n${USAGE}\n`);
    return 2;
  }
  if (options === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const say = (line: string) =>
    process.stdout.write(`[chaos ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
  if (!(await postgresAnswers(options.adminDatabaseUrl))) {
    const message = `PostgreSQL does not answer at ${options.adminDatabaseUrl}; the chaos run needs it (several processes share one database)`;
    if (process.env.CI === 'true') {
      process.stderr.write(`chaos: ${message}\n`);
      return 1;
    }
    say(`!!! SKIPPED: ${message}`);
    return 0;
  }
  say(
    `seed ${options.seed}, faults for ${options.durationMs / 1000} s (replay: --seed ${options.seed} --duration ${options.durationMs / 1000}s)`,
  );
  const summary = await runChaos(options, say);
  const outPath = options.outPath ?? join(tmpdir(), `sluice-chaos-${options.seed}-${Date.now()}.json`);
  writeFileSync(outPath, `${JSON.stringify(summary, null, 2)}\n`);
  process.stdout.write(`\n${formatSummary(summary)}\n\n`);
  say(`summary JSON: ${outPath}`);
  if (!summary.passed)
    say(
      `FAILED; replay with --seed ${summary.seed} --duration ${summary.durationMs / 1000}s; files kept in ${summary.runDirectory}`,
    );
  return summary.passed ? 0 : 1;
}

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  // `on`, not `once`: Ctrl-C reaches pnpm, with-node and us, and with-node forwards it again; a second
  // signal must not kill us halfway through the clean-up.
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    // Children run in their own process groups and would outlive us; the database and tmpfs too.
    void cleanUpActiveRun()
      .then(killAllChildren)
      .finally(() => process.exit(130));
  });
}

// Exits once the run and its clean-up are done rather than waiting for the event loop to empty: on Node 24
// the process was seen spinning at full CPU in its environment clean-up after printing a passing summary,
// which would hold the test command until its time limit.
main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
