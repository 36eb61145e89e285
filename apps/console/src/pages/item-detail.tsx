import { useState } from 'react';
import { BlobPreview } from '../components/blob-preview.js';
import { LoadStatus, Panel, StateBadge } from '../components/status.js';
import { formatBytes, formatTime, messageOf } from '../format.js';
import { Link } from '../router.js';
import { useLoad, useSession } from '../session.js';

/** JSON as indented text (never markup). */
function JsonBlock({ value, testId }: { value: unknown; testId?: string }) {
  return (
    <pre className="json" data-testid={testId}>
      {JSON.stringify(value, null, 2)}
    </pre>
  );
}

function Field({ label, children }: { label: string; children: React.ReactNode }) {
  return (
    <>
      <dt>{label}</dt>
      <dd>{children}</dd>
    </>
  );
}

/** One item: its fields, its data, and for a blob its state, meta, preview and retry. */
export function ItemDetailPage({ source, id }: { source: string; id: string }) {
  const { client } = useSession();
  const item = useLoad((c) => c.item(source, id), [source, id]);
  const [retryNote, setRetryNote] = useState<string | undefined>();
  const [retrying, setRetrying] = useState(false);
  const data = item.data;

  const retry = async () => {
    setRetrying(true);
    try {
      const result = await client.retryBlobs({ items: [{ source, id }] });
      setRetryNote(result.retried.length > 0 ? 'Queued for upload again.' : 'It was not failed any more.');
      item.reload();
    } catch (error) {
      setRetryNote(`Retry failed: ${messageOf(error)}`);
    } finally {
      setRetrying(false);
    }
  };

  return (
    <>
      <p>
        <Link to={`/items?source=${encodeURIComponent(source)}`}>← Items of {source}</Link>
      </p>
      <h1 className="clip-heading">
        <span className="mono">{id}</span>
      </h1>
      <LoadStatus loading={item.loading} error={item.error} empty={data === undefined} />
      {data && (
        <>
          <Panel title="Item">
            <dl className="fields">
              <Field label="Source">
                <span className="mono">{data.source}</span>
              </Field>
              <Field label="Kind">
                <StateBadge state={data.kind} />
              </Field>
              <Field label="Type">
                <span data-testid="item-type">{data.type}</span>
              </Field>
              <Field label="Timestamp">{formatTime(data.ts)}</Field>
              <Field label="Received">{formatTime(data.receivedAt)}</Field>
              <Field label="Size">{formatBytes(data.size)}</Field>
              <Field label="Hash">
                <span className="mono break">{data.hash}</span>
              </Field>
            </dl>
          </Panel>
          {data.blob && (
            <Panel
              title="Blob"
              actions={
                data.blob.state === 'failed' ? (
                  <button type="button" onClick={retry} disabled={retrying}>
                    Retry upload
                  </button>
                ) : undefined
              }
            >
              {retryNote !== undefined && <p role="status">{retryNote}</p>}
              <dl className="fields">
                <Field label="State">
                  <span data-testid="blob-state">
                    <StateBadge state={data.blob.state} />
                  </span>
                </Field>
                <Field label="Content type">
                  <span className="mono">{data.blob.contentType}</span>
                </Field>
                <Field label="Size">{formatBytes(data.blob.size)}</Field>
                <Field label="SHA-256">
                  <span className="mono break">{data.blob.sha256}</span>
                </Field>
                <Field label="Attempts">{data.blob.attempts}</Field>
                {data.blob.objectKey !== undefined && (
                  <Field label="Object key">
                    <span className="mono break">{data.blob.objectKey}</span>
                  </Field>
                )}
                {data.blob.lastError !== undefined && (
                  <Field label="Last error">
                    <span className="error-text">{data.blob.lastError}</span>
                  </Field>
                )}
              </dl>
              {data.blob.meta !== undefined && (
                <>
                  <h3>Meta</h3>
                  <JsonBlock value={data.blob.meta} />
                </>
              )}
              <h3>Preview</h3>
              <BlobPreview source={data.source} id={data.id} contentType={data.blob.contentType} />
            </Panel>
          )}
          {data.kind === 'record' && (
            <Panel title="Data">
              <JsonBlock value={data.data ?? null} testId="item-data" />
            </Panel>
          )}
        </>
      )}
    </>
  );
}
