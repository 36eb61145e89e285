import type { FailedBlob } from '@sluice/contracts';
import { useCallback, useEffect, useState } from 'react';
import { isUnauthorized } from '../api.js';
import { LoadStatus } from '../components/status.js';
import { formatBytes, formatTime, messageOf } from '../format.js';
import { Link } from '../router.js';
import { useSession } from '../session.js';

const keyOf = (blob: { source: string; id: string }) => `${blob.source}/${blob.id}`;

/** Blobs whose upload failed for good, oldest failure first, each with a retry button; and retry all. */
export function FailedBlobsPage() {
  const { client, signOut } = useSession();
  const [blobs, setBlobs] = useState<FailedBlob[]>([]);
  const [cursor, setCursor] = useState<string | undefined>();
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<string | undefined>();
  const [note, setNote] = useState<string | undefined>();
  const [confirmAll, setConfirmAll] = useState(false);
  const [busy, setBusy] = useState<ReadonlySet<string>>(new Set());

  const fail = useCallback(
    (err: unknown) => {
      if (isUnauthorized(err)) signOut(true);
      else setError(messageOf(err));
    },
    [signOut],
  );

  const load = useCallback(
    async (after: string | undefined) => {
      setLoading(true);
      setError(undefined);
      try {
        const page = await client.failedBlobs(after);
        setBlobs((list) => (after === undefined ? page.blobs : [...list, ...page.blobs]));
        setCursor(page.nextCursor);
      } catch (err) {
        fail(err);
      } finally {
        setLoading(false);
      }
    },
    [client, fail],
  );

  useEffect(() => {
    void load(undefined);
  }, [load]);

  const retryOne = async (blob: FailedBlob) => {
    const key = keyOf(blob);
    setBusy((s) => new Set(s).add(key));
    try {
      const result = await client.retryBlobs({ items: [{ source: blob.source, id: blob.id }] });
      setBlobs((list) => list.filter((b) => keyOf(b) !== key));
      setNote(
        result.retried.length > 0
          ? `Blob ${blob.id} queued for upload again.`
          : `Blob ${blob.id} was not failed any more.`,
      );
    } catch (err) {
      fail(err);
    } finally {
      setBusy((s) => {
        const next = new Set(s);
        next.delete(key);
        return next;
      });
    }
  };

  const retryAll = async () => {
    setConfirmAll(false);
    setLoading(true);
    try {
      const result = await client.retryBlobs({ all: true });
      setNote(`${result.count} blob${result.count === 1 ? '' : 's'} queued for upload again.`);
      await load(undefined);
    } catch (err) {
      fail(err);
      setLoading(false);
    }
  };

  return (
    <>
      <div className="page-head">
        <h1>Failed blobs</h1>
        <div className="actions">
          <button type="button" className="secondary" onClick={() => load(undefined)} disabled={loading}>
            Refresh
          </button>
          {confirmAll ? (
            <span className="confirm">
              Retry every failed blob?
              <button type="button" className="danger" onClick={retryAll}>
                Yes, retry all
              </button>
              <button type="button" className="secondary" onClick={() => setConfirmAll(false)}>
                Cancel
              </button>
            </span>
          ) : (
            <button type="button" onClick={() => setConfirmAll(true)} disabled={blobs.length === 0}>
              Retry all
            </button>
          )}
        </div>
      </div>
      {note !== undefined && (
        <p role="status" className="note">
          {note}
        </p>
      )}
      <LoadStatus
        loading={loading}
        error={error}
        empty={blobs.length === 0}
        emptyMessage="No failed blobs."
      />
      {blobs.length > 0 && (
        <div className="table-wrap">
          <table className="table" data-testid="failed-table">
            <thead>
              <tr>
                <th>Received</th>
                <th>Source</th>
                <th>Id</th>
                <th className="hide-narrow">Type</th>
                <th className="num hide-narrow">Size</th>
                <th className="num">Attempts</th>
                <th>Last error</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {blobs.map((blob) => (
                <tr key={keyOf(blob)}>
                  <td data-label="Received" className="nowrap">
                    {formatTime(blob.receivedAt)}
                  </td>
                  <td data-label="Source" className="mono">
                    {blob.source}
                  </td>
                  <td data-label="Id" className="mono clip">
                    <Link to={`/items/${encodeURIComponent(blob.source)}/${encodeURIComponent(blob.id)}`}>
                      {blob.id}
                    </Link>
                  </td>
                  <td data-label="Type" className="clip hide-narrow">
                    {blob.type}
                  </td>
                  <td data-label="Size" className="num hide-narrow">
                    {formatBytes(blob.size)} <span className="muted mono">{blob.contentType}</span>
                  </td>
                  <td data-label="Attempts" className="num">
                    {blob.attempts}
                  </td>
                  <td data-label="Last error" className="clip error-text" title={blob.lastError}>
                    {blob.lastError}
                  </td>
                  <td>
                    <button
                      type="button"
                      onClick={() => retryOne(blob)}
                      disabled={busy.has(keyOf(blob))}
                      aria-label={`Retry ${blob.id}`}
                    >
                      Retry
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {cursor !== undefined && (
        <button type="button" className="load-more" disabled={loading} onClick={() => load(cursor)}>
          Load more
        </button>
      )}
    </>
  );
}
