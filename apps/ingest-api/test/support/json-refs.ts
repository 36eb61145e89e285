/** Every `$ref` in `document` that does not point at a value inside it (local `#/…` pointers only resolve). */
export function unresolvedRefs(document: unknown): string[] {
  const refs: string[] = [];
  const collect = (value: unknown): void => {
    if (Array.isArray(value)) value.forEach(collect);
    else if (typeof value === 'object' && value !== null) {
      for (const [key, child] of Object.entries(value)) {
        if (key === '$ref' && typeof child === 'string') refs.push(child);
        else collect(child);
      }
    }
  };
  collect(document);
  return refs.filter((ref) => {
    if (!ref.startsWith('#/')) return true;
    let target: unknown = document;
    for (const token of ref.slice(2).split('/')) {
      const key = token.replaceAll('~1', '/').replaceAll('~0', '~');
      if (typeof target !== 'object' || target === null || !Object.hasOwn(target, key)) return true;
      target = (target as Record<string, unknown>)[key];
    }
    return false;
  });
}
