/**
 * A Node built-in module where the runtime offers it without an import (`process.getBuiltinModule`: Node ≥
 * 20.16, Deno, Bun); `undefined` in a browser or another runtime, where the portable code is used. The
 * contracts import nothing from Node, so that they load everywhere.
 */
export function nodeBuiltin<T>(id: string): T | undefined {
  const runtime = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  return runtime?.getBuiltinModule?.(id) as T | undefined;
}
