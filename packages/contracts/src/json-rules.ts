import { z } from 'zod';
import { canonicalJson } from './canonical-json.js';
import type { ItemErrorCode } from './error-codes.js';

/**
 * Deepest nesting of arrays and objects accepted in a record's `data` or a blob's `meta`. A value at
 * the top level is at depth 0; `{"a":[1]}` reaches depth 2.
 */
export const MAX_JSON_DEPTH = 64;

/** Why an item cannot be accepted, in the words of its per-item result. */
export interface ItemProblem {
  readonly code: ItemErrorCode;
  readonly message: string;
}

const UNPAIRED_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function stringProblem(text: string): string | undefined {
  if (text.includes('\0')) return 'contains U+0000 (NUL), which the database cannot store';
  if (UNPAIRED_SURROGATE.test(text))
    return 'contains an unpaired UTF-16 surrogate, which is not Unicode text';
  return undefined;
}

function describe(value: object): string {
  const name = (Object.getPrototypeOf(value) as { constructor?: { name?: unknown } } | null)?.constructor
    ?.name;
  return typeof name === 'string' && name !== '' ? `a ${name}` : 'an object with a custom prototype';
}

function isPlainObject(value: object): boolean {
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** `{"constructor":{"prototype":…}}`, which servers' JSON parsers (secure-json-parse) refuse. */
function hasPrototypeKey(value: object): boolean {
  const constructorValue: unknown = (value as Record<string, unknown>).constructor;
  return (
    typeof constructorValue === 'object' &&
    constructorValue !== null &&
    Object.hasOwn(constructorValue, 'prototype')
  );
}

function at(path: string, key: string | number): string {
  return typeof key === 'number' ? `${path}[${key}]` : `${path}.${key}`;
}

function problemAt(value: unknown, path: string, depth: number, maxDepth: number): string | undefined {
  switch (typeof value) {
    case 'string': {
      const problem = stringProblem(value);
      return problem === undefined ? undefined : `${path} ${problem}`;
    }
    case 'number':
      return Number.isFinite(value) ? undefined : `${path} is ${value}, which JSON cannot represent`;
    case 'boolean':
      return undefined;
    case 'object':
      break;
    default:
      return `${path} is a ${typeof value}, which is not a JSON value`;
  }
  if (value === null) return undefined;
  const toJSON = (value as { toJSON?: unknown }).toJSON;
  if (typeof toJSON === 'function') {
    return problemAt((toJSON as () => unknown).call(value), path, depth, maxDepth);
  }
  if (depth >= maxDepth) return `${path} nests arrays and objects deeper than ${maxDepth} levels`;
  if (Array.isArray(value)) {
    for (let index = 0; index < value.length; index++) {
      // A hole has no JSON form that round-trips, and canonicalization would skip it.
      if (!(index in value)) return `${at(path, index)} is a hole in a sparse array, which is not JSON`;
      const element: unknown = value[index];
      if (element === undefined) return `${at(path, index)} is undefined, which is not a JSON value`;
      const problem = problemAt(element, at(path, index), depth + 1, maxDepth);
      if (problem !== undefined) return problem;
    }
    return undefined;
  }
  if (!isPlainObject(value)) {
    return `${path} is ${describe(value)}, not a plain object; convert it to JSON data first`;
  }
  for (const key of Object.keys(value)) {
    const keyProblem = stringProblem(key);
    if (keyProblem !== undefined) return `a key of ${path} ${keyProblem}`;
    if (key === '__proto__' || (key === 'constructor' && hasPrototypeKey(value))) {
      return `${at(path, key)} is a key that JSON parsers refuse as prototype pollution`;
    }
    const entry: unknown = (value as Record<string, unknown>)[key];
    // As in JSON, a property whose value is undefined is left out.
    if (entry === undefined) continue;
    const problem = problemAt(entry, at(path, key), depth + 1, maxDepth);
    if (problem !== undefined) return problem;
  }
  return undefined;
}

/**
 * Why `value` is not a JSON value the protocol accepts, or `undefined` when it is. The one rule both
 * the SDK (at `enqueue`) and the server (per item) apply:
 * - `null`, booleans, finite numbers, strings, dense arrays and plain objects (prototype `Object` or
 *   `null`); a value with a `toJSON()` method (a `Date`) is checked as what `toJSON()` returns;
 * - strings and keys hold Unicode text without U+0000 (PostgreSQL `jsonb` refuses both NUL and
 *   unpaired surrogates);
 * - arrays and objects nest at most `maxDepth` levels;
 * - no key `__proto__`, and no `constructor` key holding a `prototype` key (prototype pollution, which
 *   the server's JSON parser refuses);
 * - a property whose value is `undefined` is left out, as JSON leaves it out; an `undefined` array
 *   element, a hole in a sparse array, `NaN`, `Infinity`, a bigint, a function, a symbol, a `Map`, a
 *   `Set` or any other non-plain object is refused.
 * @param path how the message names the value, e.g. `data`.
 */
export function jsonValueProblem(
  value: unknown,
  path = 'value',
  maxDepth = MAX_JSON_DEPTH,
): string | undefined {
  if (value === undefined) return `${path} is undefined, which is not a JSON value`;
  return problemAt(value, path, 0, maxDepth);
}

/** A record's `data` that passed {@link checkRecordData}: its canonical JSON and that text's UTF-8 size. */
export interface CheckedData {
  readonly canonical: string;
  readonly bytes: number;
}

function utf8Length(text: string): number {
  return new TextEncoder().encode(text).byteLength;
}

/**
 * Checks a record's `data` by {@link jsonValueProblem} and measures it as the UTF-8 bytes of its
 * canonical JSON (RFC 8785), the text that is hashed. The SDK and the server measure the same way.
 * @returns the canonical text and its size, or the problem (`INVALID_ITEM`, or `ITEM_TOO_LARGE` over
 * `maxBytes`).
 */
export function checkRecordData(data: unknown, maxBytes: number): CheckedData | ItemProblem {
  const problem = jsonValueProblem(data, 'data');
  if (problem !== undefined) return { code: 'INVALID_ITEM', message: problem };
  const canonical = canonicalJson(data);
  // Cheap bound first: a UTF-8 byte is at least one UTF-16 unit and at most three.
  const bytes = canonical.length * 3 <= maxBytes ? -1 : utf8Length(canonical);
  if (bytes > maxBytes) {
    return { code: 'ITEM_TOO_LARGE', message: `data is ${bytes} bytes; the limit is ${maxBytes}` };
  }
  return { canonical, bytes: bytes === -1 ? utf8Length(canonical) : bytes };
}

/**
 * Checks a blob's `meta`: a plain JSON object by {@link jsonValueProblem}, at most `maxBytes` as the UTF-8
 * bytes of its canonical JSON. An absent `meta` passes.
 */
export function checkBlobMeta(meta: unknown, maxBytes: number): ItemProblem | undefined {
  if (meta === undefined) return undefined;
  if (typeof meta !== 'object' || meta === null || Array.isArray(meta)) {
    return { code: 'INVALID_ITEM', message: 'meta must be a JSON object' };
  }
  const problem = jsonValueProblem(meta, 'meta');
  if (problem !== undefined) return { code: 'INVALID_ITEM', message: problem };
  const bytes = utf8Length(canonicalJson(meta));
  if (bytes > maxBytes) {
    return { code: 'ITEM_TOO_LARGE', message: `meta is ${bytes} bytes; the limit is ${maxBytes}` };
  }
  return undefined;
}

/** True for the problem branch of {@link checkRecordData}. */
export function isItemProblem(value: CheckedData | ItemProblem): value is ItemProblem {
  return 'code' in value;
}

/** A JSON value: what `JSON.parse` returns. */
export type JsonValue = z.core.util.JSONType;

/**
 * Any JSON value that {@link jsonValueProblem} accepts (depth, NUL, unpaired surrogates), checked
 * without recursion in zod, so hostile nesting cannot overflow the stack. Describes as any JSON value.
 */
export const JsonValueSchema = z
  .custom<JsonValue>(() => true)
  .superRefine((value, context) => {
    const problem = jsonValueProblem(value);
    if (problem !== undefined) context.addIssue({ code: 'custom', message: problem });
  });

/** A JSON object whose values pass {@link JsonValueSchema}, as a blob's `meta`. */
export const JsonObjectSchema = z
  .custom<Record<string, JsonValue>>(
    (value) => typeof value === 'object' && value !== null && !Array.isArray(value),
    'must be a JSON object',
  )
  .superRefine((value, context) => {
    const problem = jsonValueProblem(value);
    if (problem !== undefined) context.addIssue({ code: 'custom', message: problem });
  });
