import type { TransportResult } from '../../src/transport.js';

/** A transport outcome for decision tests: no response unless `overrides` say otherwise. */
export function transportResult(overrides: Partial<TransportResult>, path = '/v1/batch'): TransportResult {
  return {
    method: 'POST',
    url: `http://ingest.example${path}`,
    status: undefined,
    headers: undefined,
    code: undefined,
    response: undefined,
    error: undefined,
    timedOut: false,
    latencyMs: 5,
    ...overrides,
  };
}
