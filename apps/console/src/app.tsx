import { useCallback, useMemo, useState } from 'react';
import { AdminClient } from './api.js';
import { FailedBlobsPage } from './pages/failed-blobs.js';
import { ItemDetailPage } from './pages/item-detail.js';
import { ItemsPage } from './pages/items.js';
import { LivePage } from './pages/live.js';
import { LoginPage } from './pages/login.js';
import { OverviewPage } from './pages/overview.js';
import { SourcesPage } from './pages/sources.js';
import { Link, navigate, useLocation } from './router.js';
import { type Session, SessionProvider, storeAdminKey, storedAdminKey } from './session.js';

const NAV = [
  { to: '/', label: 'Overview' },
  { to: '/live', label: 'Live' },
  { to: '/items', label: 'Items' },
  { to: '/blobs/failed', label: 'Failed blobs' },
  { to: '/sources', label: 'Sources & keys' },
] as const;

function isActive(path: string, to: string): boolean {
  return to === '/' ? path === '/' : path === to || path.startsWith(`${to}/`);
}

/** A percent-decoded path segment, or `undefined` when it is not valid percent-encoded UTF-8. */
function decodePart(part: string): string | undefined {
  try {
    return decodeURIComponent(part);
  } catch {
    return undefined;
  }
}

function Page({ path, query }: { path: string; query: URLSearchParams }) {
  if (path === '/') return <OverviewPage />;
  if (path === '/live') return <LivePage />;
  if (path === '/items') return <ItemsPage query={query} />;
  const detail = /^\/items\/([^/]+)\/([^/]+)$/.exec(path);
  const source = detail && decodePart(detail[1]!);
  const id = detail && decodePart(detail[2]!);
  if (source && id) return <ItemDetailPage source={source} id={id} />;
  if (path === '/blobs/failed') return <FailedBlobsPage />;
  if (path === '/sources') return <SourcesPage />;
  return (
    <section>
      <h1>Not found</h1>
      <p>
        There is no page here. <Link to="/">Back to the overview</Link>
      </p>
    </section>
  );
}

/** The console: the login page until an admin key is known, then the pages under a navigation bar. */
export function App() {
  const location = useLocation();
  const [adminKey, setAdminKey] = useState(storedAdminKey);
  const [expired, setExpired] = useState(false);

  const signOut = useCallback((wasExpired = false) => {
    storeAdminKey(undefined);
    setExpired(wasExpired);
    setAdminKey(undefined);
  }, []);
  const session = useMemo<Session | undefined>(
    () => (adminKey === undefined ? undefined : { client: new AdminClient(adminKey), signOut }),
    [adminKey, signOut],
  );

  if (session === undefined) {
    return (
      <LoginPage
        expired={expired}
        onSignedIn={(key) => {
          storeAdminKey(key);
          setExpired(false);
          setAdminKey(key);
          if (location.path === '/login') navigate('/', { replace: true });
        }}
      />
    );
  }
  return (
    <SessionProvider session={session}>
      <header className="topbar">
        <Link to="/" className="brand">
          Sluice
        </Link>
        <nav aria-label="Main">
          {NAV.map((entry) => (
            <Link
              key={entry.to}
              to={entry.to}
              aria-current={isActive(location.path, entry.to) ? 'page' : undefined}
            >
              {entry.label}
            </Link>
          ))}
        </nav>
        <button type="button" className="link-button signout" onClick={() => signOut()}>
          Sign out
        </button>
      </header>
      <main>
        <Page path={location.path} query={location.query} />
      </main>
    </SessionProvider>
  );
}
