import { describe, expect, it } from 'vitest';
import { DEFAULT_UPLOADER_OPTIONS, resolveOptions } from '../src/options.js';

const required = { endpoint: 'http://127.0.0.1:8080', apiKey: 'k', directory: '/tmp/q' };

describe('uploader options', () => {
  it('fills every default in', () => {
    const resolved = resolveOptions(required);
    expect(resolved).toMatchObject({ ...required, ...DEFAULT_UPLOADER_OPTIONS });
    expect(resolved.durability).toBe('fsync');
    expect(resolved.whenFull).toBe('reject');
    expect(resolved.maxBatchItems).toBe(500);
  });

  it('takes a key with whitespace around it (fetch sends it without), and refuses one past 1024 characters', () => {
    expect(() => resolveOptions({ ...required, apiKey: ' key-with-spaces-around\t' })).not.toThrow();
    expect(() => resolveOptions({ ...required, apiKey: 'k'.repeat(1025) })).toThrow(/`apiKey`.*1024/);
  });

  it('treats an explicit undefined as the default', () => {
    expect(resolveOptions({ ...required, maxConcurrency: undefined }).maxConcurrency).toBe(8);
  });

  it.each([
    [{ endpoint: 'not a url' }, /`endpoint`.*"not a url"/],
    [{ endpoint: 'ftp://x' }, /`endpoint`/],
    [{ apiKey: '' }, /`apiKey`/],
    // Keys fetch cannot send (not a ByteString) or the server never issues: refused at once, not retried.
    [{ apiKey: 'kéy-€-unicode' }, /`apiKey`.*printable ASCII/],
    [{ apiKey: 'my secret key' }, /`apiKey`.*printable ASCII/],
    [{ apiKey: 'tab\tkey' }, /`apiKey`.*printable ASCII/],
    [{ directory: 42 }, /`directory`.*42/],
    [{ durability: 'maybe' }, /`durability`.*"maybe"/],
    [{ whenFull: 'explode' }, /`whenFull`.*"explode"/],
    [{ maxBatchItems: 0 }, /`maxBatchItems`.*0/],
    [{ maxBatchDelayMs: 1.5 }, /`maxBatchDelayMs`.*1\.5/],
    [{ minConcurrency: 4, maxConcurrency: 2 }, /`maxConcurrency`.*2/],
    [{ backoffBaseMs: 500, backoffMaxMs: 100 }, /`backoffMaxMs`.*100/],
    [{ fetch: 'fetch' }, /`fetch`/],
  ])('refuses %j with a TypeError naming the option and value', (bad, message) => {
    expect(() => resolveOptions({ ...required, ...(bad as object) } as never)).toThrow(TypeError);
    expect(() => resolveOptions({ ...required, ...(bad as object) } as never)).toThrow(message);
  });
});
