import { useState } from 'preact/hooks';
import { call, describeError, session } from '../api';
import type { SessionInfo } from '../app';

/** The admin token (ADMIN_TOKEN; `oms-local-admin` locally), kept for this tab only. */
export function Login({ onSignedIn }: { onSignedIn: (info: SessionInfo) => void }) {
  const [token, setToken] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError('');
    try {
      const info = await call('post', '/console/api/session', {}, token.trim());
      session.save(token.trim());
      onSignedIn(info);
    } catch (failure) {
      setError(describeError(failure));
    } finally {
      setBusy(false);
    }
  };
  return (
    <main id="main" class="login">
      <h1>OMS operations console</h1>
      <form onSubmit={submit}>
        <label for="token">Admin token</label>
        <input
          id="token"
          name="token"
          type="password"
          autoComplete="current-password"
          required
          value={token}
          onInput={(event) => setToken(event.currentTarget.value)}
          aria-describedby="token-help"
        />
        <p id="token-help" class="help">
          The gateway&apos;s <code>ADMIN_TOKEN</code> (locally <code>oms-local-admin</code>). Kept until this
          tab closes.
        </p>
        <button type="submit" disabled={busy}>
          Sign in
        </button>
        {error && (
          <p role="alert" class="error">
            {error}
          </p>
        )}
      </form>
    </main>
  );
}
