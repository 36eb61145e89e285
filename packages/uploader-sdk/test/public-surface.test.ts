import { describe, expect, it } from 'vitest';
import * as sdk from '../src/index.js';

describe('the public surface', () => {
  it('exports the uploader, the tailers, their defaults, error classes and their guards; no queue internals', () => {
    expect(Object.keys(sdk).sort()).toEqual([
      'AuthenticationError',
      'DEFAULT_TAIL_OPTIONS',
      'DEFAULT_UPLOADER_OPTIONS',
      'EndpointError',
      'QueueFullError',
      'QueueLockedError',
      'QueueWriteError',
      'UploaderClosedError',
      'createUploader',
      'isAuthenticationError',
      'isEndpointError',
      'isQueueFullError',
      'isQueueLockedError',
      'isQueueWriteError',
      'isUploaderClosedError',
      'tailDirectory',
      'tailFile',
    ]);
  });
});
