import { describe, expect, it } from './support/fixtures.js';

describe('an endpoint with credentials in its URL', () => {
  it('is refused at once with a TypeError that says why and never shows the password', async ({
    openUploader,
  }) => {
    for (const endpoint of [
      'https://ingest-user:s3cret-pw@ingest.example.com',
      'https://:s3cret-pw@ingest.example.com/prefix',
      'https://ingest-user@ingest.example.com',
    ]) {
      const refused = openUploader({ endpoint }).then(
        () => undefined,
        (error: unknown) => error,
      );
      const error = await refused;
      expect(error, endpoint).toBeInstanceOf(TypeError);
      const { message } = error as TypeError;
      expect(message).toMatch(/`endpoint`/);
      expect(message).toMatch(/credentials/);
      expect(message).toMatch(/apiKey/);
      expect(message).not.toContain('s3cret-pw');
      expect(message).not.toContain('ingest-user');
    }
  });

  it('never shows the password of an endpoint that is refused for another reason', async ({
    openUploader,
  }) => {
    for (const endpoint of [
      'ftp://ingest-user:s3cret-pw@files.example.com',
      'https://ingest-user:s3cret-pw@',
    ]) {
      const error = await openUploader({ endpoint }).then(
        () => undefined,
        (caught: unknown) => caught,
      );
      expect(error, endpoint).toBeInstanceOf(TypeError);
      expect((error as TypeError).message).toMatch(/`endpoint`/);
      expect((error as TypeError).message).not.toContain('s3cret-pw');
    }
  });

  it('still accepts an endpoint with a path prefix and a port', async ({ openUploader }) => {
    const { uploader } = await openUploader({ endpoint: 'http://127.0.0.1:9/prefix/' });
    expect(uploader.stats().queued).toBe(0);
  });
});
