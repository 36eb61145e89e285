import type { RecordInput } from '../item-input.js';

const FIELDS = new Set(['type', 'data', 'id', 'ts']);

/**
 * One line of a `sluice send --records` input as a record: a JSON object with `type` and `data`, and
 * optionally `id` and `ts` (the fields of `RecordInput`; nothing else, so a misspelt `timestamp` is caught
 * rather than dropped). Returns the problem as text otherwise. The field values are checked by `enqueue`,
 * by the same rules as the server's.
 */
export function parseRecordLine(line: string): RecordInput | { readonly problem: string } {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (error) {
    return { problem: `not JSON (${(error as Error).message})` };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { problem: 'expected a JSON object {"type", "data", "id"?, "ts"?}' };
  }
  const unknown = Object.keys(value).filter((key) => !FIELDS.has(key));
  if (unknown.length > 0) {
    return {
      problem: `unknown field ${unknown.map((key) => JSON.stringify(key)).join(', ')} (a record has type, data, id, ts)`,
    };
  }
  const record = value as { type?: unknown; data?: unknown; id?: unknown; ts?: unknown };
  if (record.type === undefined) return { problem: 'missing "type"' };
  if (!('data' in record)) return { problem: 'missing "data" (use null for none)' };
  return record as RecordInput;
}
