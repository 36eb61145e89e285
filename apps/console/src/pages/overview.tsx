import { BLOB_STATES } from '@sluice/contracts';
import { Sparkline } from '../components/sparkline.js';
import { LoadStatus, Panel, StateBadge } from '../components/status.js';
import { formatBytes, formatDuration } from '../format.js';
import { Link } from '../router.js';
import { useLoad } from '../session.js';

const REFRESH_MS = 5000;

/** Throughput per source over the last hour, blob states, backlog age and failed blobs. */
export function OverviewPage() {
  const rates = useLoad((client) => client.rates(), [], REFRESH_MS);
  const blobs = useLoad((client) => client.blobs(), [], REFRESH_MS);
  const counts = blobs.data?.counts;

  return (
    <>
      <h1>Overview</h1>
      <div className="stats">
        <div className="stat">
          <span className="stat-label">Backlog age</span>
          <span className="stat-value" data-testid="backlog-age">
            {blobs.data ? formatDuration(blobs.data.backlogAgeMs) : '–'}
          </span>
        </div>
        <div className={`stat${counts && counts.failed > 0 ? ' stat-alert' : ''}`}>
          <span className="stat-label">Failed blobs</span>
          <span className="stat-value" data-testid="failed-count">
            {counts ? counts.failed : '–'}
          </span>
          {counts && counts.failed > 0 && <Link to="/blobs/failed">Review and retry</Link>}
        </div>
        {BLOB_STATES.filter((state) => state !== 'failed').map((state) => (
          <div className="stat" key={state}>
            <span className="stat-label">
              <StateBadge state={state} /> blobs
            </span>
            <span className="stat-value" data-testid={`blobs-${state}`}>
              {counts ? counts[state] : '–'}
            </span>
          </div>
        ))}
      </div>
      <LoadStatus loading={blobs.loading} error={blobs.error} />

      <Panel title="Throughput per source (last hour, per minute)">
        <LoadStatus loading={rates.loading} error={rates.error} empty={rates.data === undefined} />
        {rates.data && rates.data.sources.length === 0 && (
          <p className="muted">Nothing stored in the last hour.</p>
        )}
        {rates.data && rates.data.sources.length > 0 && (
          <ul className="rates">
            {rates.data.sources.map((row) => {
              const items = row.items.reduce((a, b) => a + b, 0);
              const bytes = row.bytes.reduce((a, b) => a + b, 0);
              return (
                <li key={row.source} className="rate-row">
                  <div className="rate-text">
                    <Link to={`/items?source=${encodeURIComponent(row.source)}`} className="mono">
                      {row.source}
                    </Link>
                    <span className="muted">
                      {items} {items === 1 ? 'item' : 'items'} · {formatBytes(bytes)} in the hour
                    </span>
                  </div>
                  <Sparkline
                    values={row.items}
                    fromMs={rates.data!.from}
                    bucketMs={rates.data!.bucketMs}
                    label={`Items per minute stored for ${row.source}`}
                  />
                </li>
              );
            })}
          </ul>
        )}
      </Panel>
    </>
  );
}
