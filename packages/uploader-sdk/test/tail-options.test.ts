import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_TAIL_OPTIONS, tailDirectory, tailFile, type Uploader } from '../src/index.js';
import { tempDirectory } from './support/harness.js';

/** Something shaped like an uploader that `createUploader` did not make. */
const foreignUploader = { enqueue: async () => ({ id: 'x' }) } as unknown as Uploader;

describe('tail options', () => {
  it('throws a TypeError naming the bad option and its value', async () => {
    const checkpointDirectory = await tempDirectory('sluice-tail-options-');
    const path = join(checkpointDirectory, 'app.log');
    const base = { uploader: foreignUploader, checkpointDirectory };
    expect(() => tailFile(path, { ...base, type: '' })).toThrow(/`type`/);
    expect(() => tailFile(path, { ...base, maxLineBytes: 1_000_000 })).toThrow(/`maxLineBytes`.*1000000/);
    expect(() => tailFile(path, { ...base, pollIntervalMs: 0 })).toThrow(TypeError);
    expect(() => tailFile(path, { ...base, startPattern: '^x' as unknown as RegExp })).toThrow(
      /`startPattern`/,
    );
    expect(() => tailDirectory(checkpointDirectory, { ...base, include: [''] })).toThrow(/`include`/);
    expect(() => tailDirectory(checkpointDirectory, { ...base, include: '[a' })).toThrow(/Unclosed/);
    expect(() => tailDirectory(checkpointDirectory, { ...base, include: '[z-a].log' })).toThrow(TypeError);
    expect(() => tailFile('', base)).toThrow(/`path`/);
    expect(() => tailFile(path, { uploader: {} as Uploader })).toThrow(/`uploader`/);
  });

  it('needs checkpointDirectory with an uploader not made by createUploader', () => {
    expect(() => tailFile('/tmp/app.log', { uploader: foreignUploader })).toThrow(/`checkpointDirectory`/);
  });

  it('refuses a second tailer of the same target and checkpoints in one process', async () => {
    const checkpointDirectory = await tempDirectory('sluice-tail-options-');
    const path = join(checkpointDirectory, 'app.log');
    const options = { uploader: foreignUploader, checkpointDirectory, keepAlive: false };
    const first = tailFile(path, options);
    expect(() => tailFile(path, options)).toThrow(/already tailed/);
    await first.stop();
    const again = tailFile(path, options);
    await again.stop();
  });

  it('exports its defaults, frozen', () => {
    expect(DEFAULT_TAIL_OPTIONS).toMatchObject({ type: 'log', maxLineBytes: 32_768, rotateWaitMs: 5000 });
    expect(Object.isFrozen(DEFAULT_TAIL_OPTIONS)).toBe(true);
  });
});
