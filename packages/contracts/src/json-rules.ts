import { z } from 'zod';
import { MAX_JSON_DEPTH, protocolRules, walkJson } from './canonical-json.js';
import type { ItemErrorCode } from './error-codes.js';
import { nodeBuiltin } from './node-builtin.js';

/** Why an item cannot be accepted, in the words of its per-item result. */
export interface ItemProblem {
  readonly code: ItemErrorCode;
  readonly message: string;
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
  const result = walkJson(value, path, protocolRules(maxDepth, false));
  return 'problem' in result ? result.problem : undefined;
}

/** A record's `data` that passed {@link checkRecordData}: its canonical JSON and that text's UTF-8 size. */
export interface CheckedData {
  readonly canonical: string;
  readonly bytes: number;
}

/**
 * `Buffer.byteLength` where the runtime has `node:buffer` without an import (Node ≥ 20.16, Deno, Bun):
 * native counting, a few percent of what enqueueing a record costs in JavaScript.
 */
const nativeUtf8Length: ((text: string) => number) | undefined = (() => {
  const buffer = nodeBuiltin<{ Buffer: { byteLength(text: string, encoding: 'utf8'): number } }>(
    'node:buffer',
  );
  return buffer === undefined ? undefined : (text) => buffer.Buffer.byteLength(text, 'utf8');
})();

/** UTF-8 length of well-formed text (no unpaired surrogates), counted without encoding it. */
function utf8Length(text: string): number {
  return nativeUtf8Length === undefined ? portableUtf8Length(text) : nativeUtf8Length(text);
}

/** {@link utf8Length} in plain JavaScript, for runtimes without `node:buffer`. */
export function portableUtf8Length(text: string): number {
  let bytes = text.length;
  for (let index = 0; index < text.length; index++) {
    const unit = text.charCodeAt(index);
    if (unit < 0x80) continue;
    // Two bytes below U+0800; a surrogate pair is four (two per half); the rest of the BMP three.
    bytes += unit < 0x800 || (unit >= 0xd800 && unit <= 0xdfff) ? 1 : 2;
  }
  return bytes;
}

const DATA_RULES = protocolRules(MAX_JSON_DEPTH, true);

/**
 * Checks a record's `data` by {@link jsonValueProblem} and measures it as the UTF-8 bytes of its
 * canonical JSON (RFC 8785), the text that is hashed. The SDK and the server measure the same way.
 * @returns the canonical text and its size, or the problem (`INVALID_ITEM`, or `ITEM_TOO_LARGE` over
 * `maxBytes`).
 */
export function checkRecordData(data: unknown, maxBytes: number): CheckedData | ItemProblem {
  // One walk checks the rules and writes the canonical text.
  const result = walkJson(data, 'data', DATA_RULES);
  if ('problem' in result) return { code: 'INVALID_ITEM', message: result.problem };
  const canonical = result.text;
  const bytes = utf8Length(canonical);
  if (bytes > maxBytes) {
    return { code: 'ITEM_TOO_LARGE', message: `data is ${bytes} bytes; the limit is ${maxBytes}` };
  }
  return { canonical, bytes };
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
  const result = walkJson(meta, 'meta', DATA_RULES);
  if ('problem' in result) return { code: 'INVALID_ITEM', message: result.problem };
  const bytes = utf8Length(result.text);
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
