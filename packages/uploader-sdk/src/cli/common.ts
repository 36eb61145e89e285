import { resolve } from 'node:path';

/** Options every command shares. */
export interface CommonOptions {
  readonly endpoint: string | undefined;
  readonly key: string | undefined;
  readonly dir: string;
}

/** The parseArgs definitions of {@link CommonOptions}. */
export const COMMON_ARGS = {
  endpoint: { type: 'string' },
  key: { type: 'string' },
  dir: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** A command was used wrongly; the message says how. */
export class UsageError extends Error {
  override name = 'UsageError' as const;
}

/** True when `error` is a {@link UsageError}. */
export function isUsageError(error: unknown): error is UsageError {
  return error instanceof UsageError && error.name === 'UsageError';
}

/** Common options from flags, falling back to `SLUICE_ENDPOINT`, `SLUICE_API_KEY`, `SLUICE_DIR`, `./.sluice`. */
export function commonOptions(
  values: { endpoint?: string | boolean; key?: string | boolean; dir?: string | boolean },
  env: NodeJS.ProcessEnv,
): CommonOptions {
  const text = (value: string | boolean | undefined): string | undefined =>
    typeof value === 'string' ? value : undefined;
  return {
    endpoint: text(values.endpoint) ?? env.SLUICE_ENDPOINT,
    key: text(values.key) ?? env.SLUICE_API_KEY,
    dir: resolve(text(values.dir) ?? env.SLUICE_DIR ?? '.sluice'),
  };
}

/** The endpoint and key, or a usage error naming what is missing. */
export function requireServer(options: CommonOptions): { endpoint: string; key: string } {
  if (options.endpoint === undefined) throw new UsageError('--endpoint (or SLUICE_ENDPOINT) is required');
  if (options.key === undefined) throw new UsageError('--key (or SLUICE_API_KEY) is required');
  return { endpoint: options.endpoint, key: options.key };
}
