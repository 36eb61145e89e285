import canonicalize from 'canonicalize';

/**
 * RFC 8785 (JCS) canonical JSON of a JSON value: object keys sorted by UTF-16 code units, no
 * whitespace, numbers in ECMAScript shortest form (`1.0` → `1`, `-0` → `0`, `1e21` → `1e+21`).
 * Object properties whose value is `undefined` are left out, as in JSON.
 * @throws {TypeError} for values JSON cannot represent (NaN, Infinity, a bare `undefined`).
 */
export function canonicalJson(value: unknown): string {
  let text: string | undefined;
  try {
    text = canonicalize(value);
  } catch (error) {
    throw new TypeError(`value has no canonical JSON form: ${(error as Error).message}`, { cause: error });
  }
  if (text === undefined) throw new TypeError('value has no canonical JSON form: undefined');
  return text;
}
