import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/** What {@link ensureChromium} does its work with (real by default; tests pass fakes). */
export interface EnsureChromiumIo {
  exists(path: string): boolean;
  /** Runs `apt-get` with `args`; throws when it fails (with `stderr` when there is one). */
  aptGet(args: readonly string[]): void;
  /** The user id, for the error message. */
  readonly uid: number | undefined;
}

const realIo: EnsureChromiumIo = {
  exists: existsSync,
  aptGet(args) {
    execFileSync('apt-get', args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
      timeout: 600_000,
    });
  },
  uid: process.getuid?.(),
};

/**
 * Makes sure Chromium is at `path`: installs Debian's `chromium` package when it is missing (after
 * `apt-get update` if the first attempt fails). No browser download works offline, so the suite drives
 * the system's Chromium.
 * @throws {Error} naming the reason when it cannot: the suite fails rather than skip the console.
 */
export function ensureChromium(path: string, io: EnsureChromiumIo = realIo): void {
  if (io.exists(path)) return;
  const install = ['install', '-y', '--no-install-recommends', 'chromium'];
  try {
    try {
      io.aptGet(install);
    } catch {
      io.aptGet(['update']);
      io.aptGet(install);
    }
  } catch (error) {
    const stderr = (error as { stderr?: Buffer | string }).stderr?.toString().trim();
    const reason = stderr || (error instanceof Error ? error.message : String(error));
    throw new Error(
      `The console's browser tests need Chromium at ${path}, and \`apt-get install -y chromium\` failed ` +
        `(running as uid ${io.uid ?? 'unknown'}; it needs root and a Debian or Ubuntu package source): ${reason}`,
      { cause: error },
    );
  }
  if (!io.exists(path)) throw new Error(`apt-get installed chromium, but ${path} is still missing`);
}
