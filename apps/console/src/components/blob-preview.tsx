import { isInlineImage, mediaType } from '@sluice/contracts';
import { useEffect, useState } from 'react';
import { messageOf } from '../format.js';
import { useSession } from '../session.js';

/**
 * Shows an image blob inline: its bytes fetched with the admin key and shown through a blob object URL
 * typed from the allow-list (PNG, JPEG, GIF, WebP), whatever the server or client claimed.
 */
export function BlobPreview({
  source,
  id,
  contentType,
}: {
  source: string;
  id: string;
  contentType: string;
}) {
  const { client } = useSession();
  const [url, setUrl] = useState<string | undefined>();
  const [error, setError] = useState<string | undefined>();
  const previewable = isInlineImage(contentType);

  useEffect(() => {
    if (!previewable) return;
    const controller = new AbortController();
    let objectUrl: string | undefined;
    client.itemBytes(source, id, mediaType(contentType), controller.signal).then(
      (blob) => {
        objectUrl = URL.createObjectURL(blob);
        setUrl(objectUrl);
      },
      (err: unknown) => {
        if (!controller.signal.aborted) setError(messageOf(err));
      },
    );
    return () => {
      controller.abort();
      if (objectUrl !== undefined) URL.revokeObjectURL(objectUrl);
      setUrl(undefined);
    };
  }, [client, source, id, contentType, previewable]);

  if (!previewable) return <p className="muted">No preview for this content type.</p>;
  if (error !== undefined) return <p className="error">Could not load the bytes: {error}</p>;
  if (url === undefined) return <p className="muted">Loading preview…</p>;
  return (
    <figure className="preview">
      <img src={url} alt={`Blob ${id}`} data-testid="blob-preview" />
    </figure>
  );
}
