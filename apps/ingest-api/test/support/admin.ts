import { TEST_ADMIN_KEY } from '../../src/testing.js';
import { type Sent, sent } from './http.js';

/** Calls an admin route with the test admin key unless `key` says otherwise (`null`: no header). */
export async function admin<T = unknown>(
  url: string,
  path: string,
  options: { method?: 'GET' | 'POST'; body?: unknown; key?: string | null } = {},
): Promise<Sent<T>> {
  const headers: Record<string, string> = {};
  const key = options.key === undefined ? TEST_ADMIN_KEY : options.key;
  if (key !== null) headers.authorization = `Bearer ${key}`;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(`${url}${path}`, {
    method: options.method ?? (options.body === undefined ? 'GET' : 'POST'),
    headers,
    ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
  });
  return sent<T>(response);
}
