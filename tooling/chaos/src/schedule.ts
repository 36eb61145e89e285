import type { Random } from './random.js';

/** One fault of the schedule, at `atMs` after the fault phase began. */
export type ScheduledFault =
  | { readonly kind: 'kill-client'; readonly atMs: number; readonly client: string; readonly downMs: number }
  | { readonly kind: 'kill-api'; readonly atMs: number; readonly api: number; readonly downMs: number }
  | { readonly kind: 'kill-worker'; readonly atMs: number; readonly downMs: number }
  | { readonly kind: 'terminate-db-backends'; readonly atMs: number; readonly forMs: number }
  | { readonly kind: 'object-store-down'; readonly atMs: number; readonly forMs: number }
  | { readonly kind: 'disk-full'; readonly atMs: number; readonly forMs: number }
  | { readonly kind: 'plant-bad-items'; readonly atMs: number };

export type FaultKind = ScheduledFault['kind'];

const clamp = (value: number, min: number, max: number) => Math.min(max, Math.max(min, value));

/**
 * The faults of a run of `durationMs`, drawn from `random`: counts grow with the duration (a 60 s run
 * gets the minimum of each; a 10 min run about ten times the client kills), times fall in the middle
 * 90 % of the run, so the last fault has ended before the drain.
 */
export function faultSchedule(
  random: Random,
  durationMs: number,
  clients: readonly string[],
  apiCount: number,
): ScheduledFault[] {
  const minutes = durationMs / 60_000;
  const at = () => Math.round(random.between(0.05, 0.85) * durationMs);
  const faults: ScheduledFault[] = [];
  for (const client of clients) {
    const kills = Math.max(3, Math.round(minutes * 3));
    for (let i = 0; i < kills; i++)
      faults.push({ kind: 'kill-client', atMs: at(), client, downMs: random.int(100, 2000) });
  }
  const apiKills = Math.max(1, Math.round(minutes / 2));
  for (let i = 0; i < apiKills; i++)
    faults.push({ kind: 'kill-api', atMs: at(), api: i % apiCount, downMs: random.int(1000, 4000) });
  for (let i = 0; i < Math.max(1, Math.round(minutes / 2)); i++)
    faults.push({ kind: 'kill-worker', atMs: at(), downMs: random.int(500, 3000) });
  for (let i = 0; i < Math.max(2, Math.round(minutes)); i++) {
    faults.push({ kind: 'terminate-db-backends', atMs: at(), forMs: random.int(2000, 5000) });
  }
  const storeDownMs = clamp(durationMs * 0.05, 5_000, 30_000);
  for (let i = 0; i < Math.max(1, Math.round(minutes / 10)); i++)
    faults.push({ kind: 'object-store-down', atMs: at(), forMs: storeDownMs });
  const diskFullMs = clamp(durationMs * 0.1, 5_000, 30_000);
  for (let i = 0; i < Math.max(1, Math.round(minutes / 5)); i++)
    faults.push({ kind: 'disk-full', atMs: at(), forMs: diskFullMs });
  faults.push({ kind: 'plant-bad-items', atMs: Math.round(random.between(0.1, 0.4) * durationMs) });
  return faults.sort((a, b) => a.atMs - b.atMs);
}
