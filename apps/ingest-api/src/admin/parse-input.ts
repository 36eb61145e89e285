import type { z } from 'zod';
import { InvalidRequestError } from '../errors.js';

/**
 * Parses an admin route's query, path parameters or body with its contract schema.
 * @throws {InvalidRequestError} (400 `INVALID_REQUEST`) naming every problem.
 */
export function parseInput<S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => `${issue.path.join('.') || what}: ${issue.message}`);
  throw new InvalidRequestError(`invalid ${what}: ${problems.join('; ')}`.slice(0, 1000), {
    cause: parsed.error,
  });
}
