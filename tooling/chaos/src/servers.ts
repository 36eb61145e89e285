import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Child, lastErrorLine, outputTail, spawnNode } from './processes.js';

/** The built ingest API (`apps/ingest-api/dist/server.js`), found through the package's export. */
export function ingestServerScript(): string {
  return join(dirname(fileURLToPath(import.meta.resolve('@sluice/ingest-api'))), 'server.js');
}

/** A port free on 127.0.0.1 right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Waits until `GET url` answers 200, or throws after `timeoutMs`. */
export async function waitForOk(url: string, timeoutMs: number, exited?: Promise<unknown>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let gone = false;
  void exited?.then(() => {
    gone = true;
  });
  for (;;) {
    try {
      const answer = await fetch(url, { signal: AbortSignal.timeout(2000) });
      if (answer.ok) return;
    } catch {
      // Not up yet.
    }
    if (gone) throw new Error(`the process behind ${url} exited before it was ready`);
    if (Date.now() > deadline) throw new Error(`${url} did not answer 200 within ${timeoutMs} ms`);
    await sleep(100);
  }
}

/**
 * An ingest API process (`ROLE=api` or `worker`) that can be SIGKILLed and started again on its port.
 * Like a supervisor (systemd, Kubernetes), it starts the process again when it exits on its own, and
 * reports that: a server crash loses no data but is a bug worth a look.
 */
export class ServerProcess {
  #child: Child | undefined;
  #killing = false;
  #stopped = false;

  constructor(
    readonly name: string,
    readonly port: number,
    readonly readyPath: string,
    readonly env: Readonly<Record<string, string>>,
    readonly outputPath: string,
    /** Called when the process exits without being killed: `crashed` after it was ready, else while starting. */
    private readonly onExit: (what: string, crashed: boolean) => void,
  ) {}

  get pid(): number | undefined {
    return this.#child?.running ? this.#child.pid : undefined;
  }

  get running(): boolean {
    return this.#child?.running ?? false;
  }

  /**
   * Spawns the process and waits until it answers its ready path. A process that exits before it is
   * ready (e.g. its migrations meet a terminated connection) is started again, for up to `timeoutMs`.
   */
  async start(timeoutMs = 60_000): Promise<void> {
    // A fault that wakes after the teardown must not start a process nothing would stop.
    if (this.#stopped) throw new Error(`${this.name} was stopped`);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const child = spawnNode(
        this.name,
        ingestServerScript(),
        [],
        { ...this.env, PORT: String(this.port) },
        this.outputPath,
      );
      this.#child = child;
      let ready = false;
      void child.exited.then((code) => {
        if (!ready || this.#killing || this.#stopped || this.#child !== child) return;
        this.onExit(
          `${this.name} (pid ${child.pid}) exited on its own with ${code} (${this.#lastError()}); restarted`,
          true,
        );
        setTimeout(() => {
          if (!this.#stopped && this.#child === child) void this.start().catch(() => {});
        }, 1000);
      });
      try {
        await waitForOk(
          `http://127.0.0.1:${this.port}${this.readyPath}`,
          Math.max(1, deadline - Date.now()),
          child.exited,
        );
        ready = true;
        return;
      } catch (error) {
        if (child.running || Date.now() > deadline || this.#stopped) throw error;
        this.onExit(
          `${this.name} (pid ${child.pid}) exited while starting (${this.#lastError()}); starting again`,
          false,
        );
        await sleep(1000);
      }
    }
  }

  #lastError(): string {
    return lastErrorLine(outputTail(this.outputPath, 4000));
  }

  async kill(): Promise<void> {
    this.#killing = true;
    try {
      await this.#child?.kill();
    } finally {
      this.#killing = false;
    }
  }

  /** Kills it for good: no restart. */
  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#child?.kill();
  }
}
