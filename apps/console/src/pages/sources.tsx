import { type CreatedKey, SOURCE_NAME_PATTERN } from '@sluice/contracts';
import { type FormEvent, useRef, useState } from 'react';
import { isUnauthorized } from '../api.js';
import { LoadStatus, Panel, StateBadge } from '../components/status.js';
import { formatTime, messageOf } from '../format.js';
import { useLoad, useSession } from '../session.js';

/** The new key, shown once, with a copy button. */
function NewKey({ created, onDone }: { created: CreatedKey; onDone: () => void }) {
  const input = useRef<HTMLInputElement>(null);
  const [copied, setCopied] = useState<string | undefined>();
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(created.key);
      setCopied('Copied.');
    } catch {
      // No clipboard API (plain HTTP off loopback): select the text for the user to copy.
      input.current?.select();
      setCopied('Selected: press Ctrl+C / ⌘C to copy.');
    }
  };
  return (
    <div className="card new-key" role="status">
      <h2>New key for {created.source}</h2>
      <p>
        Copy it now: it is shown only once. Its id is <span className="mono">{created.keyId}</span>.
      </p>
      <div className="key-row">
        <input
          ref={input}
          readOnly
          value={created.key}
          className="mono"
          aria-label="New API key"
          data-testid="new-key"
          onFocus={(event) => event.target.select()}
        />
        <button type="button" onClick={copy}>
          Copy
        </button>
      </div>
      {copied !== undefined && <p className="muted">{copied}</p>}
      <button type="button" className="secondary" onClick={onDone}>
        Done
      </button>
    </div>
  );
}

/** Sources and their keys: create a source or another key, revoke a key. */
export function SourcesPage() {
  const { client, signOut } = useSession();
  const list = useLoad((c) => c.sources(), []);
  const [name, setName] = useState('');
  const [created, setCreated] = useState<CreatedKey | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [confirming, setConfirming] = useState<string | undefined>();
  const [note, setNote] = useState<string | undefined>();
  const valid = SOURCE_NAME_PATTERN.test(name);

  const fail = (err: unknown) => {
    if (isUnauthorized(err)) signOut(true);
    else setError(messageOf(err));
  };

  const create = async (event: FormEvent) => {
    event.preventDefault();
    if (!valid) return;
    setError(undefined);
    try {
      setCreated(await client.createSource(name));
      setName('');
      list.reload();
    } catch (err) {
      fail(err);
    }
  };

  const newKeyFor = async (source: string) => {
    setError(undefined);
    try {
      setCreated(await client.createSource(source));
      list.reload();
    } catch (err) {
      fail(err);
    }
  };

  const revoke = async (keyId: string) => {
    setConfirming(undefined);
    setError(undefined);
    try {
      const revoked = await client.revokeKey(keyId);
      setNote(`Key ${revoked.keyId} of ${revoked.source} revoked.`);
      list.reload();
    } catch (err) {
      fail(err);
    }
  };

  return (
    <>
      <h1>Sources &amp; keys</h1>
      {created && <NewKey created={created} onDone={() => setCreated(undefined)} />}
      <Panel title="Create a source or a key">
        <form className="inline-form" onSubmit={create}>
          <label htmlFor="source-name">Source name</label>
          <input
            id="source-name"
            value={name}
            onChange={(event) => setName(event.target.value)}
            placeholder="e.g. web-app"
            maxLength={64}
            aria-invalid={name !== '' && !valid}
          />
          <button type="submit" disabled={!valid}>
            Create key
          </button>
        </form>
        <p className="muted">
          1–64 characters of letters, digits, <span className="mono">. _ -</span>. An existing source gets one
          more key.
        </p>
      </Panel>
      {error !== undefined && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      {note !== undefined && (
        <p role="status" className="note">
          {note}
        </p>
      )}
      <LoadStatus loading={list.loading} error={list.error} empty={list.data === undefined} />
      {list.data?.sources.length === 0 && <p className="muted">No sources yet.</p>}
      {list.data?.sources.map((source) => (
        <Panel
          key={source.name}
          title={source.name}
          actions={
            <button type="button" className="secondary" onClick={() => newKeyFor(source.name)}>
              New key
            </button>
          }
        >
          <p className="muted">Created {formatTime(source.createdAt)}</p>
          <div className="table-wrap">
            <table className="table">
              <thead>
                <tr>
                  <th>Key id</th>
                  <th>State</th>
                  <th className="hide-narrow">Origin</th>
                  <th className="hide-narrow">Created</th>
                  <th />
                </tr>
              </thead>
              <tbody>
                {source.keys.map((key) => (
                  <tr key={key.keyId} data-key-id={key.keyId}>
                    <td data-label="Key id" className="mono">
                      {key.keyId}
                    </td>
                    <td data-label="State">
                      <StateBadge state={key.state} />
                      {key.revokedAt !== undefined && (
                        <span className="muted small"> {formatTime(key.revokedAt)}</span>
                      )}
                    </td>
                    <td data-label="Origin" className="hide-narrow">
                      {key.origin}
                    </td>
                    <td data-label="Created" className="hide-narrow nowrap">
                      {formatTime(key.createdAt)}
                    </td>
                    <td className="nowrap">
                      {key.state === 'active' &&
                        (confirming === key.keyId ? (
                          <span className="confirm">
                            <button type="button" className="danger" onClick={() => revoke(key.keyId)}>
                              Confirm revoke
                            </button>
                            <button
                              type="button"
                              className="secondary"
                              onClick={() => setConfirming(undefined)}
                            >
                              Cancel
                            </button>
                          </span>
                        ) : (
                          <button
                            type="button"
                            className="danger-outline"
                            onClick={() => setConfirming(key.keyId)}
                          >
                            Revoke
                          </button>
                        ))}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </Panel>
      ))}
    </>
  );
}
