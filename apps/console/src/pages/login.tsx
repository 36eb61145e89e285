import { type FormEvent, useState } from 'react';
import { AdminClient, isUnauthorized } from '../api.js';
import { messageOf } from '../format.js';

/** Asks for the admin key and checks it against the API before keeping it. */
export function LoginPage({ expired, onSignedIn }: { expired: boolean; onSignedIn: (key: string) => void }) {
  const [key, setKey] = useState('');
  const [error, setError] = useState<string | undefined>(
    expired ? 'The admin key was refused. Sign in again.' : undefined,
  );
  const [busy, setBusy] = useState(false);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const trimmed = key.trim();
    if (trimmed === '') return;
    setBusy(true);
    setError(undefined);
    try {
      await new AdminClient(trimmed).sources();
      onSignedIn(trimmed);
    } catch (err) {
      setError(isUnauthorized(err) ? 'That admin key was refused.' : `Could not sign in: ${messageOf(err)}`);
    } finally {
      setBusy(false);
    }
  };

  return (
    <main className="login">
      <form className="card login-card" onSubmit={submit}>
        <h1>Sluice console</h1>
        <p className="muted">Enter the admin key (ADMIN_KEY). It is kept for this tab only.</p>
        <label htmlFor="admin-key">Admin key</label>
        <input
          id="admin-key"
          name="admin-key"
          type="password"
          autoComplete="current-password"
          value={key}
          onChange={(event) => setKey(event.target.value)}
          // biome-ignore lint/a11y/noAutofocus: the only field of the page.
          autoFocus
        />
        {error !== undefined && (
          <p role="alert" className="error">
            {error}
          </p>
        )}
        <button type="submit" disabled={busy || key.trim() === ''}>
          {busy ? 'Checking…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}
