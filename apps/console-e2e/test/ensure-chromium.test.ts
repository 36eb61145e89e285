import { describe, expect, it } from 'vitest';
import { type EnsureChromiumIo, ensureChromium } from './support/ensure-chromium.js';

/** Fake I/O: `installs` says whether an install puts the browser in place; `failures` fail apt-get runs. */
function fakeIo(options: { present?: boolean; failures?: number; installs?: boolean; stderr?: string }) {
  let present = options.present ?? false;
  let failures = options.failures ?? 0;
  const runs: string[] = [];
  const io: EnsureChromiumIo = {
    exists: () => present,
    aptGet(args) {
      runs.push(args.join(' '));
      if (failures > 0) {
        failures -= 1;
        throw Object.assign(new Error('Command failed: apt-get'), { stderr: options.stderr ?? '' });
      }
      if (args[0] === 'install' && (options.installs ?? true)) present = true;
    },
    uid: 1000,
  };
  return { io, runs };
}

describe('the Chromium the browser tests need', () => {
  it('is used as it is when present', () => {
    const { io, runs } = fakeIo({ present: true });
    ensureChromium('/usr/bin/chromium', io);
    expect(runs).toEqual([]);
  });

  it('is installed with apt-get when missing, after apt-get update when the first install fails', () => {
    const { io, runs } = fakeIo({ failures: 1 });
    ensureChromium('/usr/bin/chromium', io);
    expect(runs).toEqual([
      'install -y --no-install-recommends chromium',
      'update',
      'install -y --no-install-recommends chromium',
    ]);
  });

  it('fails loudly with apt-get’s reason when it cannot be installed', () => {
    const { io } = fakeIo({
      failures: 3,
      stderr: 'E: Could not open lock file - open (13: Permission denied)',
    });
    expect(() => ensureChromium('/usr/bin/chromium', io)).toThrow(
      /need Chromium at \/usr\/bin\/chromium.*uid 1000.*Permission denied/,
    );
  });

  it('fails when the package did not put the browser where it is expected', () => {
    const { io } = fakeIo({ installs: false });
    expect(() => ensureChromium('/usr/bin/chromium', io)).toThrow(/still missing/);
  });
});
