import { useState } from 'react';
import { ItemCells, ItemHeaderCells } from '../components/item-cells.js';
import { LIVE_LIMIT, useLiveStream } from '../live-stream.js';
import { useSession } from '../session.js';

const STATE_TEXT = {
  connecting: 'Connecting…',
  open: 'Live',
  reconnecting: 'Reconnecting…',
  paused: 'Paused',
} as const;

/** Items as they are stored (sampled by the server), newest first. */
export function LivePage() {
  const { client, signOut } = useSession();
  const [running, setRunning] = useState(true);
  const { events, state, clear } = useLiveStream(client, running, () => signOut(true));

  return (
    <>
      <div className="page-head">
        <h1>Live</h1>
        <span className={`live-state live-${state}`} data-testid="live-state">
          {STATE_TEXT[state]}
        </span>
        <div className="actions">
          <button type="button" onClick={() => setRunning((r) => !r)}>
            {running ? 'Pause' : 'Resume'}
          </button>
          <button type="button" className="secondary" onClick={clear}>
            Clear
          </button>
        </div>
      </div>
      <p className="muted">
        Items as they are stored, sampled by the server (Skipped counts those left out); the newest{' '}
        {LIVE_LIMIT} are kept.
      </p>
      {events.length === 0 ? (
        <p className="muted">Waiting for items…</p>
      ) : (
        <div className="table-wrap">
          <table className="table" data-testid="live-table">
            <thead>
              <tr>
                <ItemHeaderCells />
                <th className="num hide-narrow">Skipped</th>
              </tr>
            </thead>
            <tbody>
              {events.map((event) => (
                <tr key={`${event.source}/${event.id}`}>
                  <ItemCells item={event} />
                  <td data-label="Skipped" className="num hide-narrow">
                    {event.skipped}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}
