/**
 * Deepest nesting of arrays and objects accepted in a record's `data` or a blob's `meta`. A value at
 * the top level is at depth 0; `{"a":[1]}` reaches depth 2.
 */
export const MAX_JSON_DEPTH = 64;

/** Nesting {@link canonicalJson} follows before it gives up (a cycle ends there too). */
const CANONICAL_MAX_DEPTH = 1000;

/** How a walk treats what JSON has no single form for. */
export interface WalkRules {
  /**
   * The protocol's rules (see `jsonValueProblem`): plain objects only, no NUL, no holes or `undefined`
   * elements, no prototype-polluting keys. Without them the walk serializes as RFC 8785 and
   * `JSON.stringify` do (`undefined` elements become `null`, any object is its own enumerable keys).
   */
  readonly protocol: boolean;
  readonly maxDepth: number;
  /** Build the text; without it the walk only checks and returns ''. */
  readonly emit: boolean;
}

/** A value that breaks the rules; `describe` words it for the path of the container or value at fault. */
class JsonRuleBreak {
  /** Keys from the root to the container or value at fault, filled in while the walk unwinds. */
  readonly keys: (string | number)[] = [];
  constructor(readonly describe: (path: string) => string) {}
}

const UNPAIRED_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const hasIsWellFormed = typeof (String.prototype as { isWellFormed?: unknown }).isWellFormed === 'function';

function isWellFormed(text: string): boolean {
  return hasIsWellFormed
    ? (text as string & { isWellFormed(): boolean }).isWellFormed()
    : !UNPAIRED_SURROGATE.test(text);
}

function stringProblem(text: string, protocol: boolean): string | undefined {
  if (protocol && text.includes('\0')) return 'contains U+0000 (NUL), which the database cannot store';
  if (!isWellFormed(text)) return 'contains an unpaired UTF-16 surrogate, which is not Unicode text';
  return undefined;
}

/** How a problem message names a value: `data.a[3]`. */
function jsonPath(path: string, key: string | number): string {
  return typeof key === 'number' ? `${path}[${key}]` : `${path}.${key}`;
}

function describeObject(value: object): string {
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

/** Whether a property or element with this value is left out (objects) or written `null` (arrays). */
function isAbsent(value: unknown): boolean {
  return value === undefined || typeof value === 'function' || typeof value === 'symbol';
}

/**
 * What JSON.stringify writes for `value` under `key`: what its `toJSON(key)` returns when it has one (a
 * `Date`), called once, else the value itself.
 */
function jsonValueOf(value: unknown, key: string): unknown {
  if (value === null || typeof value !== 'object') return value;
  const toJSON = (value as { toJSON?: unknown }).toJSON;
  return typeof toJSON === 'function' ? (toJSON as (key: string) => unknown).call(value, key) : value;
}

/** Walks a property or element whose `toJSON()` the caller already applied ({@link jsonValueOf}). */
function walkChild(value: unknown, key: string | number, depth: number, rules: WalkRules): string {
  try {
    return walk(value, depth, rules, true);
  } catch (error) {
    if (error instanceof JsonRuleBreak) error.keys.unshift(key);
    throw error;
  }
}

function walkArray(value: readonly unknown[], depth: number, rules: WalkRules): string {
  let text = '[';
  for (let index = 0; index < value.length; index++) {
    // A hole has no JSON form that round-trips, and canonicalization would skip it.
    if (rules.protocol && !(index in value)) {
      throw new JsonRuleBreak(
        (path) => `${jsonPath(path, index)} is a hole in a sparse array, which is not JSON`,
      );
    }
    const element = jsonValueOf(value[index], String(index));
    if (rules.protocol && element === undefined) {
      throw new JsonRuleBreak((path) => `${jsonPath(path, index)} is undefined, which is not a JSON value`);
    }
    // Without the protocol's rules an element JSON cannot hold is written null, as JSON.stringify does;
    // with them a function or symbol is refused by the walk.
    const written =
      !rules.protocol && isAbsent(element) ? 'null' : walkChild(element, index, depth + 1, rules);
    if (rules.emit) text += index === 0 ? written : `,${written}`;
  }
  return rules.emit ? `${text}]` : '';
}

/**
 * Object keys checked and quoted before: records of one application repeat the same few keys millions of
 * times, and checking and quoting each again was a good part of the walk. Bounded; short keys only.
 */
const QUOTED_KEYS = new Map<string, string>();
const QUOTED_KEYS_MAX = 4096;

/** True when `keys` are already in the order `Array.prototype.sort` gives them (UTF-16 code units). */
function inCodeUnitOrder(keys: readonly string[]): boolean {
  for (let index = 1; index < keys.length; index++) {
    if (keys[index - 1]! > keys[index]!) return false;
  }
  return true;
}

function walkObject(value: object, depth: number, rules: WalkRules): string {
  if (rules.protocol && !isPlainObject(value)) {
    throw new JsonRuleBreak(
      (path) => `${path} is ${describeObject(value)}, not a plain object; convert it to JSON data first`,
    );
  }
  const keys = Object.keys(value);
  // Objects built in key order (the SDK's own records are) are not sorted again: sorting allocates.
  if (!inCodeUnitOrder(keys)) keys.sort();
  let text = '{';
  let first = true;
  for (const key of keys) {
    let quoted = QUOTED_KEYS.get(key);
    if (quoted === undefined) {
      const keyProblem = stringProblem(key, rules.protocol);
      if (keyProblem !== undefined) throw new JsonRuleBreak((path) => `a key of ${path} ${keyProblem}`);
      quoted = JSON.stringify(key);
      // Only keys that pass the protocol's own checks, so that a cached key is good under any rules. Full,
      // it starts over: keys a hostile client makes up cannot keep an application's own out for good.
      if (key.length <= 64 && stringProblem(key, true) === undefined) {
        if (QUOTED_KEYS.size >= QUOTED_KEYS_MAX) QUOTED_KEYS.clear();
        QUOTED_KEYS.set(key, quoted);
      }
    }
    if (rules.protocol && (key === '__proto__' || (key === 'constructor' && hasPrototypeKey(value)))) {
      throw new JsonRuleBreak(
        (path) => `${jsonPath(path, key)} is a key that JSON parsers refuse as prototype pollution`,
      );
    }
    const entry = jsonValueOf((value as Record<string, unknown>)[key], key);
    // As in JSON, a property whose value (or whose toJSON()'s) is undefined is left out.
    if (entry === undefined || (!rules.protocol && isAbsent(entry))) continue;
    const written = walkChild(entry, key, depth + 1, rules);
    if (rules.emit) {
      text += `${first ? '' : ','}${quoted}:${written}`;
      first = false;
    }
  }
  return rules.emit ? `${text}}` : '';
}

/**
 * Checks one value (and writes it when `rules.emit`). `resolved`: its `toJSON()` was already applied, so
 * what it is is written as it is even if it has a `toJSON()` of its own, as JSON.stringify does.
 */
function walk(input: unknown, depth: number, rules: WalkRules, resolved = false): string {
  const value = resolved ? input : jsonValueOf(input, '');
  switch (typeof value) {
    case 'string': {
      const problem = stringProblem(value, rules.protocol);
      if (problem !== undefined) throw new JsonRuleBreak((path) => `${path} ${problem}`);
      return rules.emit ? JSON.stringify(value) : '';
    }
    case 'number':
      if (!Number.isFinite(value)) {
        throw new JsonRuleBreak((path) => `${path} is ${value}, which JSON cannot represent`);
      }
      // ECMAScript's shortest round-trip form, which RFC 8785 prescribes (-0 is written 0).
      return rules.emit ? JSON.stringify(value) : '';
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object':
      break;
    default:
      throw new JsonRuleBreak((path) => `${path} is a ${typeof value}, which is not a JSON value`);
  }
  if (value === null) return 'null';
  if (depth >= rules.maxDepth) {
    throw new JsonRuleBreak(
      (path) => `${path} nests arrays and objects deeper than ${rules.maxDepth} levels`,
    );
  }
  return Array.isArray(value) ? walkArray(value, depth, rules) : walkObject(value, depth, rules);
}

/**
 * Walks `value` once: its canonical JSON (RFC 8785) when `emit`, or what breaks `rules`, worded for
 * `path`, e.g. `data.a[3] is NaN, which JSON cannot represent`.
 */
export function walkJson(
  value: unknown,
  path: string,
  rules: WalkRules,
): { readonly text: string } | { readonly problem: string } {
  if (value === undefined) return { problem: `${path} is undefined, which is not a JSON value` };
  try {
    return { text: walk(value, 0, rules) };
  } catch (error) {
    if (!(error instanceof JsonRuleBreak)) throw error;
    return { problem: error.describe(error.keys.reduce<string>(jsonPath, path)) };
  }
}

/** The rules of the protocol (`data` and `meta`), at `maxDepth`. */
export function protocolRules(maxDepth: number, emit: boolean): WalkRules {
  return { protocol: true, maxDepth, emit };
}

const CANONICAL_RULES: WalkRules = { protocol: false, maxDepth: CANONICAL_MAX_DEPTH, emit: true };

/**
 * RFC 8785 (JCS) canonical JSON of a JSON value: object keys sorted by UTF-16 code units, no
 * whitespace, numbers in ECMAScript shortest form (`1.0` → `1`, `-0` → `0`, `1e21` → `1e+21`).
 * A value's `toJSON()` is honoured; object properties whose value is `undefined` (or a function or a
 * symbol) are left out and such array elements are written `null`, as in JSON.
 * @throws {TypeError} for values JSON cannot represent (NaN, Infinity, a bigint, a bare `undefined`, an
 * unpaired surrogate) and for nesting deeper than 1,000 levels (which a cycle reaches).
 */
export function canonicalJson(value: unknown): string {
  const result = walkJson(value, 'value', CANONICAL_RULES);
  if ('problem' in result) throw new TypeError(`value has no canonical JSON form: ${result.problem}`);
  return result.text;
}
