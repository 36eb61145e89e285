// `pnpm bench`: runs every benchmark in order, one process at a time, collects the figures they report
// through @sluice/bench-report (JSON rows appended to the file named by SLUICE_BENCH_RESULTS), prints one
// table (figure, value, ceiling, ratio, target, pass/fail) and writes it as JSON under tooling/bench/results/.
// Sizes are cut so that the whole run takes under 5 minutes; `--full` runs each bench at its own defaults
// (10 s windows, a 1 GiB disk-queue backlog, a 500 MB log for the tail bench; several more minutes).
// Exits 1 if a benchmark failed (exited non-zero); a figure that misses its target is a FAIL row, not an error.
// SDK benches run on the Node running this file (the machine's); the API's benches and the end-to-end ones
// through `with-node --no-skip 24`, as the API's own scripts run.
// Usage: tsx src/run.ts [--full]
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { type FigureRow, formatNumber, RESULTS_ENV } from '@sluice/bench-report';
import { testDatabaseUrl } from '@sluice/ingest-api/testing';
import postgres from 'postgres';

const { values } = parseArgs({ options: { full: { type: 'boolean', default: false } } });
const full = values.full;
const root = fileURLToPath(new URL('../../../', import.meta.url));
const resultsDir = fileURLToPath(new URL('../results/', import.meta.url));

interface Step {
  readonly name: string;
  /** Package directory, relative to the repository root. */
  readonly cwd: string;
  readonly args: readonly string[];
  readonly env?: Record<string, string>;
  /** `24`: through `with-node --no-skip 24`, as the API's own scripts run (the API needs Node 24). */
  readonly node?: '24';
}

const API = 'apps/ingest-api';
const SDK = 'packages/uploader-sdk';
const BENCH = 'tooling/bench';
const steps: Step[] = [
  {
    name: 'ingest',
    cwd: API,
    node: '24',
    args: ['bench/ingest.ts'],
    env: { BENCH_SECONDS: full ? '10' : '5' },
  },
  {
    name: 'blobs (API and worker)',
    cwd: API,
    node: '24',
    args: ['bench/blobs.ts', full ? '10' : '5', '256', '10', '4'],
  },
  {
    name: 'auth flood',
    cwd: API,
    node: '24',
    args: ['bench/auth-flood.ts'],
    env: { BENCH_FLOOD_REQUESTS: full ? '20000' : '10000' },
  },
  {
    name: 'disk queue',
    cwd: SDK,
    args: ['bench/disk-queue.ts', '--seconds', '3', '--backlog-mib', full ? '1024' : '256'],
  },
  {
    name: 'uploader',
    cwd: SDK,
    args: ['bench/uploader.ts', '--seconds', full ? '10' : '5', '--backlog', full ? '100000' : '50000'],
  },
  { name: 'tail', cwd: SDK, args: ['bench/tail.ts', '--mb', full ? '500' : '100'] },
  {
    name: 'SDK vs posthog-node and @segment/analytics-node',
    cwd: BENCH,
    args: ['src/sdk-vs-peers.ts', '--events', full ? '200000' : '100000'],
  },
  {
    name: 'SDK → 1 and 2 API processes → PostgreSQL',
    cwd: BENCH,
    node: '24',
    args: ['src/end-to-end-processes.ts', '--seconds', full ? '10' : '5'],
  },
  {
    name: 'blobs end to end',
    cwd: BENCH,
    node: '24',
    args: ['src/blobs-end-to-end.ts', '--blobs', full ? '48' : '24', '--mib', '4'],
  },
  {
    name: 'embedded start and blob memory',
    cwd: BENCH,
    node: '24',
    args: ['src/embedded-and-blob-memory.ts'],
  },
];

async function postgresVersion(): Promise<string> {
  const sql = postgres(testDatabaseUrl(), { max: 1, connect_timeout: 2, onnotice: () => {} });
  try {
    const [row] = await sql<{ server_version: string }[]>`show server_version`;
    return `PostgreSQL ${row?.server_version ?? '?'} at ${new URL(testDatabaseUrl()).host}`;
  } catch {
    return 'no PostgreSQL answered at TEST_DATABASE_URL (benches fall back to PGlite)';
  } finally {
    await sql.end({ timeout: 1 });
  }
}

const withNode = fileURLToPath(import.meta.resolve('@sluice/with-node/with-node.js'));

/** The version `with-node 24` runs. */
function nodeVersion24(): string {
  const result = spawnSync(process.execPath, [withNode, '--no-skip', '24', 'node', '--version'], {
    encoding: 'utf8',
  });
  return result.stdout.trim();
}

const startedAt = new Date();
mkdirSync(resultsDir, { recursive: true });
const stamp = startedAt.toISOString().replace(/[:.]/g, '-');
const rowsFile = join(resultsDir, `bench-${stamp}.jsonl`);
const jsonFile = join(resultsDir, `bench-${stamp}.json`);
const cpuList = cpus();
const machine = {
  cpus: cpuList.length,
  cpuModel: cpuList[0]?.model ?? 'unknown',
  memoryGiB: Number((totalmem() / 2 ** 30).toFixed(1)),
  os: `${process.platform} ${release()}`,
  /** SDK benches run on this (the machine's) Node; API and end-to-end benches on with-node's Node 24. */
  node: process.version,
  apiNode: nodeVersion24(),
  database: await postgresVersion(),
  loadAverageAtStart: loadavg().map((load) => Number(load.toFixed(2))),
};
function describeMachine(): string {
  return `${machine.cpus} × ${machine.cpuModel}, ${machine.memoryGiB} GiB, ${machine.os}; SDK benches on Node ${machine.node}, API and end-to-end benches on Node ${machine.apiNode}; ${machine.database}`;
}
console.log(
  `pnpm bench${full ? ' --full' : ''}: ${describeMachine()}; load ${machine.loadAverageAtStart.join(' ')}`,
);

const ran: { name: string; command: string; exitCode: number | null; seconds: number }[] = [];
for (const step of steps) {
  const command = `${step.node === '24' ? 'with-node --no-skip 24 ' : ''}tsx ${step.args.join(' ')}`;
  const node = step.node === '24' ? [withNode, '--no-skip', '24', 'node'] : [];
  console.log(`\n## ${step.name} (${step.cwd}: ${command})`);
  const started = performance.now();
  const result = spawnSync(process.execPath, [...node, '--import', 'tsx', ...step.args], {
    cwd: join(root, step.cwd),
    stdio: 'inherit',
    env: { ...process.env, ...step.env, [RESULTS_ENV]: rowsFile },
  });
  const seconds = (performance.now() - started) / 1000;
  ran.push({ name: step.name, command: `${step.cwd}: ${command}`, exitCode: result.status, seconds });
  console.log(
    `## ${step.name}: ${result.status === 0 ? 'done' : `FAILED (exit ${result.status ?? result.signal})`} in ${seconds.toFixed(0)} s`,
  );
}

const rows: FigureRow[] = existsSync(rowsFile)
  ? readFileSync(rowsFile, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as FigureRow)
  : [];
rmSync(rowsFile, { force: true });
const finishedAt = new Date();
const totalSeconds = (finishedAt.getTime() - startedAt.getTime()) / 1000;

const cell = (text: string) => text.replace(/\|/g, '\\|');
const table = [
  '| figure | value | ceiling | ratio | target | pass/fail |',
  '|---|---|---|---|---|---|',
  ...rows.map((row) =>
    [
      '',
      cell(row.figure),
      `${formatNumber(row.value)} ${row.unit}`,
      row.ceiling === null
        ? '-'
        : cell(`${formatNumber(row.ceiling)} ${row.unit} (${row.ceilingLabel ?? ''})`),
      row.ratio === null ? '-' : row.ratio.toFixed(2),
      row.target ?? '-',
      row.pass === null ? '-' : row.pass ? 'pass' : 'FAIL',
      '',
    ]
      .join(' | ')
      .trim(),
  ),
].join('\n');

const failedSteps = ran.filter((step) => step.exitCode !== 0);
writeFileSync(
  jsonFile,
  `${JSON.stringify({ startedAt, finishedAt, totalSeconds, full, machine, steps: ran, rows }, null, 2)}\n`,
);
console.log(`\n# pnpm bench: ${rows.length} figures in ${totalSeconds.toFixed(0)} s\n`);
console.log(table);
console.log(`\n${describeMachine()}`);
for (const step of ran)
  console.log(
    `  ${step.name}: ${step.seconds.toFixed(0)} s${step.exitCode === 0 ? '' : ` (exit ${step.exitCode})`}`,
  );
console.log(`JSON: ${jsonFile}`);
if (failedSteps.length > 0) {
  console.log(`failed: ${failedSteps.map((step) => step.name).join(', ')}`);
  process.exitCode = 1;
}
