import { createContext, type ReactNode, useCallback, useContext, useEffect, useMemo, useState } from 'react';
import { type AdminClient, isUnauthorized } from './api.js';

const STORAGE_KEY = 'sluice.adminKey';

/** The signed-in admin client and how to sign out. */
export interface Session {
  readonly client: AdminClient;
  /** Forgets the key (sessionStorage too); `expired` says the server refused it. */
  signOut(expired?: boolean): void;
}

const SessionContext = createContext<Session | undefined>(undefined);

/** The admin key kept for this tab only (sessionStorage), or `undefined`. */
export function storedAdminKey(): string | undefined {
  try {
    return sessionStorage.getItem(STORAGE_KEY) ?? undefined;
  } catch {
    return undefined;
  }
}

/** Keeps the admin key for this tab. */
export function storeAdminKey(key: string | undefined): void {
  try {
    if (key === undefined) sessionStorage.removeItem(STORAGE_KEY);
    else sessionStorage.setItem(STORAGE_KEY, key);
  } catch {
    // Storage disabled: the key lives in memory until reload.
  }
}

/** Provides {@link Session} to the pages. */
export function SessionProvider({ session, children }: { session: Session; children: ReactNode }) {
  return <SessionContext.Provider value={session}>{children}</SessionContext.Provider>;
}

/** The current session; pages render only when signed in. */
export function useSession(): Session {
  const session = useContext(SessionContext);
  if (session === undefined) throw new Error('useSession outside SessionProvider');
  return session;
}

/** State of a {@link useLoad} call. */
export interface Loaded<T> {
  readonly data: T | undefined;
  readonly error: string | undefined;
  readonly loading: boolean;
  reload(): void;
}

/**
 * Loads `load(client)` on mount, when `deps` change, on `reload()` and every `refreshMs` when given. A
 * refused admin key signs out.
 */
export function useLoad<T>(
  load: (client: AdminClient) => Promise<T>,
  deps: readonly unknown[],
  refreshMs?: number,
): Loaded<T> {
  const { client, signOut } = useSession();
  const [state, setState] = useState<{ data: T | undefined; error: string | undefined; loading: boolean }>({
    data: undefined,
    error: undefined,
    loading: true,
  });
  const [tick, setTick] = useState(0);
  const reload = useCallback(() => setTick((n) => n + 1), []);
  useEffect(() => {
    let live = true;
    setState((s) => ({ ...s, loading: true }));
    load(client).then(
      (data) => live && setState({ data, error: undefined, loading: false }),
      (error: unknown) => {
        if (!live) return;
        if (isUnauthorized(error)) signOut(true);
        else
          setState((s) => ({
            ...s,
            error: error instanceof Error ? error.message : String(error),
            loading: false,
          }));
      },
    );
    return () => {
      live = false;
    };
  }, [client, signOut, tick, ...deps]);
  useEffect(() => {
    if (refreshMs === undefined) return;
    const timer = setInterval(reload, refreshMs);
    return () => clearInterval(timer);
  }, [refreshMs, reload]);
  return useMemo(() => ({ ...state, reload }), [state, reload]);
}
