// The ingest API as `pnpm start` runs it: `node apps/ingest-api/dist/server.js` in its own process (on the
// Node running this file, Node 24 under `with-node 24`), so that its RSS and start time are its own.
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The Node flags of the API's `start` script (package.json), which the server runs with here too. */
export const SERVER_NODE_FLAGS = ['--max-semi-space-size=16'];

/** `apps/ingest-api/dist/server.js`, found through the package. */
export const SERVER_JS = join(dirname(fileURLToPath(import.meta.resolve('@sluice/ingest-api'))), 'server.js');

/** A free TCP port on 127.0.0.1. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/** Resident set size of `pid` in bytes, from /proc (Linux). */
export function rssBytes(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(match?.[1] ?? 0) * 1024;
}

/** Peak resident set size of `pid` since it started, in bytes (VmHWM). */
export function peakRssBytes(pid: number): number {
  const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(match?.[1] ?? 0) * 1024;
}

export interface ApiProcess {
  readonly url: string;
  readonly pid: number;
  /** Milliseconds from spawn to the first `GET /readyz` answered 200. */
  readonly readyMs: number;
  stop(): Promise<void>;
}

/**
 * Spawns the server with `env` (plus PORT) and waits for `/readyz` to answer 200, polling every 10 ms.
 * Its output is kept and printed only if it fails to become ready within `timeoutMs`.
 */
export async function startApiProcess(env: Record<string, string>, timeoutMs = 60_000): Promise<ApiProcess> {
  const port = await freePort();
  const started = performance.now();
  const child: ChildProcess = spawn(process.execPath, [...SERVER_NODE_FLAGS, SERVER_JS], {
    env: { PATH: process.env.PATH ?? '', HOST: '127.0.0.1', ...env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: Buffer[] = [];
  child.stdout?.on('data', (chunk: Buffer) => output.push(chunk));
  child.stderr?.on('data', (chunk: Buffer) => output.push(chunk));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  for (;;) {
    if (child.exitCode !== null) {
      throw new Error(`server exited ${child.exitCode}:\n${Buffer.concat(output).toString('utf8')}`);
    }
    if (performance.now() - started > timeoutMs) {
      child.kill('SIGKILL');
      throw new Error(`server not ready in ${timeoutMs} ms:\n${Buffer.concat(output).toString('utf8')}`);
    }
    try {
      const response = await fetch(`${url}/readyz`);
      await response.arrayBuffer();
      if (response.status === 200) break;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  const readyMs = performance.now() - started;
  return {
    url,
    pid: child.pid ?? 0,
    readyMs,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Samples the RSS of `pid` every `everyMs` until stopped; returns the peak in bytes. */
export function sampleRss(pid: number, everyMs = 10): { stop(): number } {
  let peak = rssBytes(pid);
  const timer = setInterval(() => {
    try {
      peak = Math.max(peak, rssBytes(pid));
    } catch {
      // the process is gone
    }
  }, everyMs);
  return {
    stop() {
      clearInterval(timer);
      return Math.max(peak, rssBytes(pid));
    },
  };
}

/** Waits until `GET /v1/items/:id` says every blob in `ids` is `uploaded`; throws on `failed`. */
export async function waitUploaded(url: string, apiKey: string, ids: readonly string[]): Promise<void> {
  const waiting = new Set(ids);
  while (waiting.size > 0) {
    for (const id of [...waiting]) {
      const response = await fetch(`${url}/v1/items/${encodeURIComponent(id)}`, {
        headers: { authorization: `Bearer ${apiKey}` },
      });
      const body = (await response.json()) as { blob?: { state: string } };
      if (response.status !== 200) throw new Error(`GET item ${id}: ${response.status}`);
      if (body.blob?.state === 'uploaded') waiting.delete(id);
      else if (body.blob?.state === 'failed') throw new Error(`blob ${id} failed`);
    }
    if (waiting.size > 0) await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
