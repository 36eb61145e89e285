import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type CheckResult, checkRun } from './check.js';
import { OPEN_FAILED_EXIT_CODE } from './client-exit.js';
import { CLIENTS } from './clients.js';
import { type ChaosDatabase, createChaosDatabase } from './database.js';
import { mountSmallDisk, type SmallDisk } from './disk-full.js';
import { type ChaosProxy, type ProxyFault, startChaosProxy } from './fault-proxy.js';
import { type ChaosObjectStore, startObjectStore } from './object-store.js';
import type { RunOptions } from './options.js';
import { SERVER_MAX_ITEM_DATA_BYTES } from './planted.js';
import { type Child, killAllChildren, lastErrorLine, outputTail, spawnNode } from './processes.js';
import { seededRandom } from './random.js';
import { type FaultKind, faultSchedule, type ScheduledFault } from './schedule.js';
import { freePort, ServerProcess } from './servers.js';

const SOURCE = 'chaos';
const API_KEY = 'chaos-key-0123456789';
const API_COUNT = 2;
const CLIENT_SCRIPT = fileURLToPath(new URL('./client.js', import.meta.url));
const WRITER_SCRIPT = fileURLToPath(new URL('./writer.js', import.meta.url));

/** Everything a run reports; written as JSON and printed as a table. */
export interface RunSummary {
  readonly seed: number;
  readonly durationMs: number;
  readonly wallMs: number;
  readonly passed: boolean;
  readonly failures: string[];
  /** Faults actually injected, by kind (a kill of a process that was already down is not counted). */
  readonly faults: Record<string, number>;
  readonly proxy: Record<ProxyFault, number>;
  readonly notes: string[];
  readonly check: CheckResult | undefined;
  readonly runDirectory: string;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A producing client: one process per incarnation, restarted after each kill while faults run. */
class ProducerClient {
  #child: Child | undefined;
  #incarnation = 0;
  #killing = false;
  #stopped = false;

  constructor(
    readonly name: string,
    readonly directory: string,
    private readonly spawnIncarnation: (incarnation: number) => Child,
    /** Called when a process exits without being killed; it is started again a second later. */
    private readonly onExit: (child: Child, code: number | NodeJS.Signals) => void,
  ) {}

  get running(): boolean {
    return this.#child?.running ?? false;
  }

  start(): void {
    if (this.#stopped) return;
    const child = this.spawnIncarnation(this.#incarnation++);
    this.#child = child;
    void child.exited.then((code) => {
      if (this.#killing || this.#stopped || this.#child !== child) return;
      this.onExit(child, code);
      setTimeout(() => this.start(), 1000);
    });
  }

  async kill(): Promise<void> {
    this.#killing = true;
    try {
      await this.#child?.kill();
    } finally {
      this.#killing = false;
    }
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#child?.kill();
  }
}

let activeCleanUp: (() => Promise<void>) | undefined;

/**
 * Tears down the run in progress (children, tmpfs, s3rver, database), for a signal handler: the run's
 * own `finally` never runs when the process exits on a signal.
 */
export async function cleanUpActiveRun(): Promise<void> {
  await activeCleanUp?.();
}

/** Runs one seeded chaos run; never throws for a failed check (the summary says), only for broken setup. */
export async function runChaos(options: RunOptions, say: (line: string) => void): Promise<RunSummary> {
  const started = Date.now();
  const runDirectory = mkdtempSync(join(tmpdir(), `sluice-chaos-${options.seed}-`));
  const logDirectory = join(runDirectory, 'client-logs');
  const outputDirectory = join(runDirectory, 'process-output');
  const appLogDirectory = join(runDirectory, 'app-logs');
  const writerSummaryPath = join(runDirectory, 'writer-summary.json');
  mkdirSync(logDirectory);
  mkdirSync(appLogDirectory);
  mkdirSync(outputDirectory);
  const failures: string[] = [];
  const notes: string[] = [];
  const faults: Record<string, number> = {};
  const count = (kind: string, by = 1) => {
    faults[kind] = (faults[kind] ?? 0) + by;
  };
  const cleanups: (() => Promise<void> | void)[] = [];
  let cleaning: Promise<void> | undefined;
  // Runs once, from the `finally` below or from a signal handler (via cleanUpActiveRun).
  const cleanUp = (): Promise<void> => {
    cleaning ??= (async () => {
      for (const cleanup of cleanups.reverse()) {
        try {
          await cleanup();
        } catch (error) {
          failures.push(`cleanup: ${(error as Error).message}`);
        }
      }
    })();
    return cleaning;
  };
  activeCleanUp = cleanUp;
  let proxy: ChaosProxy | undefined;
  let check: CheckResult | undefined;

  try {
    say(`run directory ${runDirectory}`);
    const db: ChaosDatabase = await createChaosDatabase(options.adminDatabaseUrl);
    cleanups.push(() => db.drop());
    say(`database ${db.name}`);
    const store: ChaosObjectStore = await startObjectStore(join(runDirectory, 's3'));
    cleanups.push(() => store.close());

    const apiPorts = await Promise.all(Array.from({ length: API_COUNT }, () => freePort()));
    const workerPort = await freePort();
    const serverEnv = (name: string, role: 'api' | 'worker') => ({
      ROLE: role,
      HOST: '127.0.0.1',
      DATABASE_URL: db.url,
      DATA_DIR: join(runDirectory, name),
      API_KEYS: `${SOURCE}:${API_KEY}`,
      LOG_LEVEL: 'warn',
      MAX_ITEM_DATA_BYTES: String(SERVER_MAX_ITEM_DATA_BYTES),
      DB_ACQUIRE_TIMEOUT_MS: '2000',
      WORKER_CONCURRENCY: '4',
      WORKER_POLL_INTERVAL_MS: '200',
      WORKER_LEASE_MS: '10000',
      WORKER_BACKOFF_BASE_MS: '200',
      ...store.env,
    });
    const serverCrashed = (what: string, crashed: boolean) => {
      count(crashed ? 'unexpected-server-exit' : 'server-start-failed');
      notes.push(crashed ? `SERVER CRASH: ${what}` : what);
      if (crashed) say(`!!! ${what}`);
    };
    const apis = apiPorts.map(
      (port, i) =>
        new ServerProcess(
          `api-${i}`,
          port,
          '/readyz',
          serverEnv(`api-${i}`, 'api'),
          join(outputDirectory, `api-${i}.out`),
          serverCrashed,
        ),
    );
    const worker = new ServerProcess(
      'worker',
      workerPort,
      '/healthz',
      serverEnv('worker', 'worker'),
      join(outputDirectory, 'worker.out'),
      serverCrashed,
    );
    cleanups.push(async () => {
      await Promise.all([...apis, worker].map((server) => server.stop()));
      await killAllChildren();
    });
    // The first start runs the migrations; the others start once the schema is there.
    await apis[0]?.start();
    await Promise.all([...apis.slice(1).map((api) => api.start()), worker.start()]);
    say(`APIs on ${apiPorts.join(', ')}, worker on ${workerPort}`);

    proxy = await startChaosProxy(apiPorts, seededRandom(options.seed, 'proxy'));
    const liveProxy = proxy;
    cleanups.push(() => liveProxy.close());

    const scheduleRandom = seededRandom(options.seed, 'schedule');
    const schedule = faultSchedule(
      scheduleRandom,
      options.durationMs,
      CLIENTS.map((client) => client.name),
      API_COUNT,
    );
    const diskClient = scheduleRandom.pick(CLIENTS).name;
    let disk: SmallDisk | undefined;
    const mounted = mountSmallDisk(join(runDirectory, 'small-disk'), 128);
    if ('skipped' in mounted) {
      notes.push(`FULL-DISK FAULT SKIPPED: ${mounted.skipped}`);
      say(`!!! full-disk fault skipped: ${mounted.skipped}`);
    } else {
      disk = mounted;
      cleanups.push(() => mounted.unmount());
      notes.push(`client ${diskClient}'s queue is on a 128 MiB tmpfs that fills up during disk-full`);
    }

    const clientArgs = (directory: string, log: string) => [
      '--dir',
      directory,
      '--log',
      log,
      '--endpoint',
      liveProxy.url,
      '--key',
      API_KEY,
      '--seed',
      String(options.seed),
      '--app-logs',
      appLogDirectory,
    ];
    let faultPhase = true;
    // The log writer: its own process, appending to and rotating the files the `log` client tails. It
    // runs through the whole fault phase (it is the application whose log is shipped, not a client).
    const startWriter = () => {
      const child = spawnNode(
        'writer',
        WRITER_SCRIPT,
        ['--dir', appLogDirectory, '--seed', String(options.seed), '--summary', writerSummaryPath],
        {},
        join(outputDirectory, 'writer.out'),
      );
      void child.exited.then((code) => {
        if (faultPhase) failures.push(`log writer exited during the fault phase with ${code}`);
      });
      return child;
    };
    const producers = CLIENTS.map((client) => {
      const directory =
        disk !== undefined && client.name === diskClient
          ? join(disk.mountPoint, client.name)
          : join(runDirectory, 'queues', client.name);
      return new ProducerClient(
        client.name,
        directory,
        (incarnation) =>
          spawnNode(
            `${client.name}#${incarnation}`,
            CLIENT_SCRIPT,
            [
              'produce',
              client.name,
              ...clientArgs(directory, join(logDirectory, `${client.name}.${incarnation}.log`)),
              '--incarnation',
              String(incarnation),
            ],
            {},
            join(outputDirectory, `${client.name}.out`),
          ),
        (child, code) => {
          if (code === OPEN_FAILED_EXIT_CODE) {
            const problem = lastErrorLine(outputTail(join(outputDirectory, `${client.name}.out`), 3000));
            count('client-open-failed');
            notes.push(
              `client ${client.name} (pid ${child.pid}) could not open its queue (${problem}); started again`,
            );
            return;
          }
          count('unexpected-client-exit');
          const what = `client ${client.name} (pid ${child.pid}) exited on its own with ${code}`;
          notes.push(what);
          say(`!!! ${what}`);
        },
      );
    });

    // Stopped first on teardown, so their kills are not reported as exits of their own.
    cleanups.push(async () => {
      await Promise.all(producers.map((producer) => producer.stop()));
    });

    /** Runs a one-shot client process to its end; its exit code must be 0. */
    const runOnce = async (
      name: string,
      mode: string,
      directory: string,
      extra: string[] = [],
      timeoutMs = 180_000,
    ) => {
      const child = spawnNode(
        name,
        CLIENT_SCRIPT,
        [mode, ...clientArgs(directory, join(logDirectory, `${name}.log`)), ...extra],
        {},
        join(outputDirectory, `${name}.out`),
      );
      const timer = setTimeout(() => void child.kill(), timeoutMs);
      const code = await child.exited;
      clearTimeout(timer);
      if (code !== 0) {
        throw new Error(
          `${name} exited with ${code}${code === 'SIGKILL' ? ` (timed out after ${timeoutMs} ms)` : ''}:\n${outputTail(join(outputDirectory, `${name}.out`))}`,
        );
      }
    };

    const plantDirectories = [
      join(runDirectory, 'queues', 'plant-originals'),
      join(runDirectory, 'queues', 'plant-conflicts'),
    ];
    const inject = async (fault: ScheduledFault): Promise<void> => {
      switch (fault.kind) {
        case 'kill-client': {
          const producer = producers.find((candidate) => candidate.name === fault.client);
          if (producer === undefined || !producer.running) return;
          await producer.kill();
          count(fault.kind);
          await sleep(fault.downMs);
          producer.start();
          return;
        }
        case 'kill-api': {
          const api = apis[fault.api];
          if (api === undefined || !api.running) return;
          await api.kill();
          count(fault.kind);
          await sleep(fault.downMs);
          await api.start().catch((error: Error) => failures.push(`api restart: ${error.message}`));
          return;
        }
        case 'kill-worker': {
          if (!worker.running) return;
          // Wait for a blob this worker holds a lease on, so the kill lands mid-upload.
          const deadline = Date.now() + 10_000;
          let midUpload = false;
          while (!midUpload && Date.now() < deadline) {
            const rows = await db.sql`
              select 1 from blobs where state = 'uploading' and lease_owner like ${`%:${worker.pid}:%`} limit 1`.catch(
              () => [],
            );
            midUpload = rows.length > 0;
            if (!midUpload) await sleep(20);
          }
          await worker.kill();
          count(midUpload ? 'kill-worker-mid-upload' : 'kill-worker-idle');
          await sleep(fault.downMs);
          await worker.start().catch((error: Error) => failures.push(`worker restart: ${error.message}`));
          return;
        }
        case 'terminate-db-backends': {
          count(fault.kind);
          const until = Date.now() + fault.forMs;
          while (Date.now() < until) {
            count('db-backends-terminated', await db.terminateBackends().catch(() => 0));
            await sleep(200);
          }
          return;
        }
        case 'object-store-down': {
          count(fault.kind);
          await store.stop();
          await sleep(fault.forMs);
          await store.start();
          return;
        }
        case 'disk-full': {
          if (disk === undefined) return;
          count(fault.kind);
          disk.fill();
          await sleep(fault.forMs);
          disk.free();
          return;
        }
        case 'plant-bad-items': {
          count(fault.kind);
          await runOnce('plant-originals', 'plant-originals', plantDirectories[0] ?? '');
          await runOnce('plant-conflicts', 'plant-conflicts', plantDirectories[1] ?? '');
          return;
        }
      }
    };

    say(`faults for ${options.durationMs / 1000} s: ${describeSchedule(schedule)}`);
    const phaseStart = Date.now();
    const writer = startWriter();
    for (const producer of producers) producer.start();
    const injected = schedule.map(async (fault) => {
      await sleep(fault.atMs - (Date.now() - phaseStart));
      try {
        await inject(fault);
      } catch (error) {
        failures.push(`${fault.kind} at ${fault.atMs} ms: ${(error as Error).message}`);
      }
    });
    await sleep(options.durationMs);
    await Promise.all(injected);
    faultPhase = false;
    await stopWriter(writer, failures);
    await Promise.all(producers.map((producer) => producer.stop()));
    say(
      `fault phase over after ${Math.round((Date.now() - phaseStart) / 1000)} s; draining every queue in a fresh process`,
    );

    // Make sure every server is up for the drain (a failed restart was already reported).
    for (const server of [...apis, worker]) if (!server.running) await server.start();

    const deadLetterFiles = new Map<string, string>();
    const drainStart = Date.now();
    const drains = [
      ...producers.map((producer) => ({
        directory: producer.directory,
        client: ['--client', producer.name],
      })),
      ...plantDirectories.map((directory) => ({ directory, client: [] })),
    ];
    await Promise.all(
      drains.map(async ({ directory, client }, i) => {
        const file = join(runDirectory, `dead-letters-${i}.json`);
        try {
          await runOnce(
            `drain-${i}`,
            'drain',
            directory,
            ['--dead-letters', file, ...client],
            120_000 + options.durationMs / 2,
          );
          deadLetterFiles.set(directory, file);
        } catch (error) {
          failures.push(`drain of ${directory}: ${(error as Error).message}`);
        }
      }),
    );
    say(
      `drained in ${Math.round((Date.now() - drainStart) / 1000)} s; waiting for the worker to upload every blob`,
    );
    await waitForBlobs(db, 120_000).catch((error: Error) => failures.push(error.message));

    check = await checkRun(logDirectory, deadLetterFiles, db, store, SOURCE, {
      seed: options.seed,
      directory: appLogDirectory,
      writerSummaryPath,
    });
    if (check.lost.length > 0)
      failures.push(`${check.lost.length} lost: ${check.lost.slice(0, 10).join(', ')}`);
    if (check.wrongContent.length > 0)
      failures.push(`wrong content: ${check.wrongContent.slice(0, 10).join('; ')}`);
    if (check.duplicateRows.length > 0)
      failures.push(`duplicate rows: ${check.duplicateRows.slice(0, 10).join('; ')}`);
    if (check.blobProblems.length > 0) failures.push(`blobs: ${check.blobProblems.slice(0, 10).join('; ')}`);
    if (check.deadLetters.missing.length > 0)
      failures.push(`planted dead letters: ${check.deadLetters.missing.join('; ')}`);
    if (check.deadLetters.unexpected.length > 0)
      failures.push(`unexpected dead letters: ${check.deadLetters.unexpected.join('; ')}`);
    const tail = check.tail;
    if (tail.problems.length > 0) failures.push(`log: ${tail.problems.slice(0, 10).join('; ')}`);
    if (tail.lost.length > 0)
      failures.push(`${tail.lost.length} log lines lost: ${tail.lost.slice(0, 10).join(', ')}`);
    if (tail.duplicated.length > 0)
      failures.push(`log lines stored more than once: ${tail.duplicated.slice(0, 10).join('; ')}`);
    if (tail.foreign.length > 0)
      failures.push(`log lines the writer never wrote: ${tail.foreign.slice(0, 10).join('; ')}`);
    // A run that exercised nothing proves nothing: each kind of client must have produced, and the
    // planted bad items must have been planted.
    if (check.enqueued.records === 0) failures.push('no record was enqueued');
    if (check.enqueued.blobs === 0) failures.push('no blob was enqueued');
    if (tail.written === 0) failures.push('the log writer wrote nothing');
    if (check.deadLetters.expected.length === 0) failures.push('no bad item was planted');
    if (faultPhase) failures.push('internal: fault phase did not end');
  } catch (error) {
    failures.push(`run aborted: ${(error as Error).stack ?? String(error)}`);
  } finally {
    await cleanUp();
  }
  if ((faults['unexpected-client-exit'] ?? 0) > 0) failures.push('a client exited on its own (see notes)');
  const passed = failures.length === 0;
  if (passed && !options.keep) rmSync(runDirectory, { recursive: true, force: true });
  return {
    seed: options.seed,
    durationMs: options.durationMs,
    wallMs: Date.now() - started,
    passed,
    failures,
    faults,
    proxy: proxy?.counts ?? {
      forward: 0,
      'drop-response': 0,
      'reset-before': 0,
      'reset-during': 0,
      'latency-spike': 0,
    },
    notes,
    check,
    runDirectory,
  };
}

/** Stops the log writer with SIGTERM; it saves what it wrote and must exit 0 within 10 s. */
async function stopWriter(writer: Child | undefined, failures: string[]): Promise<void> {
  if (writer === undefined || !writer.running) return;
  process.kill(writer.pid, 'SIGTERM');
  const timer = setTimeout(() => void writer.kill(), 10_000);
  const code = await writer.exited;
  clearTimeout(timer);
  if (code !== 0) failures.push(`log writer ended with ${code} when stopped`);
}

async function waitForBlobs(db: ChaosDatabase, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const rows = await db.sql<{ state: string; count: string }[]>`
      select state, count(*) from blobs where state <> 'uploaded' group by state`;
    if (rows.length === 0) return;
    if (rows.some((row) => row.state === 'failed') || Date.now() > deadline) {
      throw new Error(`blobs not uploaded: ${rows.map((row) => `${row.count} ${row.state}`).join(', ')}`);
    }
    await sleep(250);
  }
}

function describeSchedule(schedule: readonly ScheduledFault[]): string {
  const byKind = new Map<FaultKind, number>();
  for (const fault of schedule) byKind.set(fault.kind, (byKind.get(fault.kind) ?? 0) + 1);
  return [...byKind].map(([kind, n]) => `${n} ${kind}`).join(', ');
}
