import type { UploaderOptions } from '@sluice/uploader-sdk';

/**
 * Options every chaos client uses. Timeouts and backoff are shortened so a run of minutes sees many
 * retries and a drain does not sit out a 30 s backoff; everything else is the SDK's default.
 */
export function chaosUploaderOptions(endpoint: string, apiKey: string, directory: string): UploaderOptions {
  return {
    endpoint,
    apiKey,
    directory,
    requestTimeoutMs: 5_000,
    backoffMaxMs: 2_000,
    authRetryMs: 2_000,
  };
}

/** A record request's timeout in the clients; the proxy's latency spikes are longer. */
export const CLIENT_REQUEST_TIMEOUT_MS = 5_000;
/** The SDK's default `minUploadBytesPerSecond`: a blob request's timeout grows by its bytes at this rate. */
export const CLIENT_MIN_UPLOAD_BYTES_PER_SECOND = 65_536;
