import type { ReactNode } from 'react';

/** A loading line, an error line, the empty message when there is nothing to show, or nothing. */
export function LoadStatus({
  loading,
  error,
  empty,
  emptyMessage,
}: {
  loading: boolean;
  error?: string | undefined;
  empty?: boolean;
  /** Shown once loading ended without error and `empty` holds. */
  emptyMessage?: string;
}) {
  if (error !== undefined) {
    return (
      <p role="alert" className="error">
        {error}
      </p>
    );
  }
  if (!empty) return null;
  if (loading) return <p className="muted">Loading…</p>;
  return emptyMessage === undefined ? null : <p className="muted">{emptyMessage}</p>;
}

/** A coloured label for a blob or key state. */
export function StateBadge({ state }: { state: string }) {
  return <span className={`badge badge-${state.replace(/[^a-z]/g, '')}`}>{state}</span>;
}

/** A titled block of the page. */
export function Panel({
  title,
  actions,
  children,
}: {
  title: string;
  actions?: ReactNode;
  children: ReactNode;
}) {
  return (
    <section className="card">
      <div className="card-head">
        <h2>{title}</h2>
        {actions}
      </div>
      {children}
    </section>
  );
}
