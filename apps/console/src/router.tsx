import { type AnchorHTMLAttributes, type MouseEvent, useEffect, useState } from 'react';

/** Where the console is served; every client-side route lives under it. */
export const BASE = import.meta.env.BASE_URL.replace(/\/$/, '');

/** The current route: the path under {@link BASE} (always starting with `/`) and the query. */
export interface Location {
  readonly path: string;
  readonly query: URLSearchParams;
}

function current(): Location {
  const { pathname, search } = window.location;
  const path = pathname.startsWith(BASE) ? pathname.slice(BASE.length) : pathname;
  return { path: path === '' ? '/' : path, query: new URLSearchParams(search) };
}

/** Goes to `to` (a path under {@link BASE}, query included) without reloading. */
export function navigate(to: string, options: { replace?: boolean } = {}): void {
  const url = `${BASE}${to}`;
  if (options.replace) window.history.replaceState(null, '', url);
  else window.history.pushState(null, '', url);
  window.dispatchEvent(new PopStateEvent('popstate'));
}

/** The current {@link Location}, updated on navigation. */
export function useLocation(): Location {
  const [location, setLocation] = useState(current);
  useEffect(() => {
    const update = () => setLocation(current());
    window.addEventListener('popstate', update);
    return () => window.removeEventListener('popstate', update);
  }, []);
  return location;
}

/** A link to a client-side route: a real `href` (open in a new tab works), navigation without reload. */
export function Link({ to, onClick, ...rest }: { to: string } & AnchorHTMLAttributes<HTMLAnchorElement>) {
  const handle = (event: MouseEvent<HTMLAnchorElement>) => {
    onClick?.(event);
    if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey)
      return;
    event.preventDefault();
    navigate(to);
  };
  return <a href={`${BASE}${to}`} onClick={handle} {...rest} />;
}
