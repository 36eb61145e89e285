const UNPAIRED_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function unstorableString(text: string): boolean {
  return text.includes('\0') || UNPAIRED_SURROGATE.test(text);
}

/**
 * Why PostgreSQL's `jsonb` cannot store a JSON value, or `undefined` when it can. `jsonb` refuses
 * the NUL character and unpaired UTF-16 surrogates in strings and keys; such an item is rejected
 * on its own instead of failing its whole batch.
 */
export function unstorableJsonReason(value: unknown): string | undefined {
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const current = stack.pop();
    if (typeof current === 'string') {
      if (unstorableString(current)) return 'a string contains U+0000 or an unpaired surrogate';
    } else if (Array.isArray(current)) {
      stack.push(...current);
    } else if (current !== null && typeof current === 'object') {
      for (const [key, entry] of Object.entries(current)) {
        if (unstorableString(key)) return 'a key contains U+0000 or an unpaired surrogate';
        stack.push(entry);
      }
    }
  }
  return undefined;
}
