import type { AdminItemSummary } from '@sluice/contracts';
import { type FormEvent, useEffect, useState } from 'react';
import { isUnauthorized } from '../api.js';
import { ItemCells, ItemHeaderCells } from '../components/item-cells.js';
import { LoadStatus, StateBadge } from '../components/status.js';
import { messageOf, parseLocalDateTime, toLocalDateTime } from '../format.js';
import { navigate } from '../router.js';
import { useLoad, useSession } from '../session.js';

const FILTERS = ['source', 'kind', 'type', 'from', 'to'] as const;
type Filters = Record<(typeof FILTERS)[number], string>;

function filtersOf(query: URLSearchParams): Filters {
  return {
    source: query.get('source') ?? '',
    kind: query.get('kind') ?? '',
    type: query.get('type') ?? '',
    from: query.get('from') ?? '',
    to: query.get('to') ?? '',
  };
}

function apiQuery(filters: Filters): Record<string, string | number | undefined> {
  const orUndefined = (value: string) => (value === '' ? undefined : value);
  return {
    source: orUndefined(filters.source),
    kind: orUndefined(filters.kind),
    type: orUndefined(filters.type),
    from: orUndefined(filters.from),
    to: orUndefined(filters.to),
    limit: 50,
  };
}

/** Item search: filters in the URL, newest first, keyset "load more". */
export function ItemsPage({ query }: { query: URLSearchParams }) {
  const { client, signOut } = useSession();
  const filters = filtersOf(query);
  const key = JSON.stringify(filters);
  const sources = useLoad((c) => c.sources(), []);
  const [form, setForm] = useState({
    ...filters,
    from: filters.from === '' ? '' : toLocalDateTime(Number(filters.from)),
    to: filters.to === '' ? '' : toLocalDateTime(Number(filters.to)),
  });
  const [items, setItems] = useState<AdminItemSummary[]>([]);
  const [cursor, setCursor] = useState<string | undefined>();
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<string | undefined>();

  const fetchPage = async (after: string | undefined, replace: boolean) => {
    setLoading(true);
    setError(undefined);
    try {
      const page = await client.items({ ...apiQuery(filters), cursor: after });
      setItems((list) => (replace ? page.items : [...list, ...page.items]));
      setCursor(page.nextCursor);
    } catch (err) {
      if (isUnauthorized(err)) signOut(true);
      else setError(messageOf(err));
    } finally {
      setLoading(false);
    }
  };

  useEffect(() => {
    setItems([]);
    setCursor(undefined);
    void fetchPage(undefined, true);
  }, [key, client]);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const params = new URLSearchParams();
    const from = parseLocalDateTime(form.from);
    const to = parseLocalDateTime(form.to);
    if (form.source !== '') params.set('source', form.source);
    if (form.kind !== '') params.set('kind', form.kind);
    if (form.type.trim() !== '') params.set('type', form.type.trim());
    if (from !== undefined) params.set('from', String(from));
    if (to !== undefined) params.set('to', String(to));
    const text = params.toString();
    navigate(`/items${text === '' ? '' : `?${text}`}`);
  };
  const set = (name: keyof Filters) => (event: { target: { value: string } }) =>
    setForm((f) => ({ ...f, [name]: event.target.value }));

  return (
    <>
      <h1>Items</h1>
      <form className="card filters" onSubmit={submit} aria-label="Filters">
        <label>
          Source
          <select value={form.source} onChange={set('source')} name="source">
            <option value="">All</option>
            {sources.data?.sources.map((s) => (
              <option key={s.name} value={s.name}>
                {s.name}
              </option>
            ))}
            {form.source !== '' && !sources.data?.sources.some((s) => s.name === form.source) && (
              <option value={form.source}>{form.source}</option>
            )}
          </select>
        </label>
        <label>
          Kind
          <select value={form.kind} onChange={set('kind')} name="kind">
            <option value="">All</option>
            <option value="record">record</option>
            <option value="blob">blob</option>
          </select>
        </label>
        <label>
          Type
          <input
            value={form.type}
            onChange={set('type')}
            name="type"
            placeholder="exact type"
            maxLength={128}
          />
        </label>
        <label>
          From
          <input type="datetime-local" step={1} value={form.from} onChange={set('from')} name="from" />
        </label>
        <label>
          To
          <input type="datetime-local" step={1} value={form.to} onChange={set('to')} name="to" />
        </label>
        <div className="filter-actions">
          <button type="submit">Search</button>
          <button
            type="button"
            className="secondary"
            onClick={() => {
              setForm({ source: '', kind: '', type: '', from: '', to: '' });
              navigate('/items');
            }}
          >
            Reset
          </button>
        </div>
      </form>

      <LoadStatus loading={loading} error={error} empty={items.length === 0} emptyMessage="No items match." />
      {items.length > 0 && (
        <div className="table-wrap">
          <table className="table" data-testid="items-table">
            <thead>
              <tr>
                <ItemHeaderCells />
                <th className="hide-narrow">Blob</th>
              </tr>
            </thead>
            <tbody>
              {items.map((item) => (
                <tr key={`${item.source}/${item.id}`}>
                  <ItemCells item={item} />
                  <td data-label="Blob" className="hide-narrow">
                    {item.blobState && <StateBadge state={item.blobState} />}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {cursor !== undefined && (
        <button
          type="button"
          className="load-more"
          disabled={loading}
          onClick={() => fetchPage(cursor, false)}
        >
          {loading ? 'Loading…' : 'Load more'}
        </button>
      )}
    </>
  );
}
