import type { AdminItemSummary } from '@sluice/contracts';
import { formatBytes, formatTime } from '../format.js';
import { Link } from '../router.js';
import { StateBadge } from './status.js';

/** The header cells of {@link ItemCells}, for a table of items or live events. */
export function ItemHeaderCells() {
  return (
    <>
      <th>Received</th>
      <th>Source</th>
      <th>Kind</th>
      <th>Type</th>
      <th>Id</th>
      <th className="num hide-narrow">Size</th>
    </>
  );
}

/** One item's cells (received, source, kind, type, linked id, size); every value is shown as text. */
export function ItemCells({
  item,
}: {
  item: Pick<AdminItemSummary, 'receivedAt' | 'source' | 'kind' | 'type' | 'id' | 'size'>;
}) {
  return (
    <>
      <td data-label="Received" className="nowrap">
        {formatTime(item.receivedAt)}
      </td>
      <td data-label="Source" className="mono">
        {item.source}
      </td>
      <td data-label="Kind">
        <StateBadge state={item.kind} />
      </td>
      <td data-label="Type" className="clip">
        {item.type}
      </td>
      <td data-label="Id" className="mono clip">
        <Link to={`/items/${encodeURIComponent(item.source)}/${encodeURIComponent(item.id)}`}>{item.id}</Link>
      </td>
      <td data-label="Size" className="num hide-narrow">
        {formatBytes(item.size)}
      </td>
    </>
  );
}
