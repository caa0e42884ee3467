import { useEffect, useState } from 'preact/hooks';
import { call, describeError, type Answer } from '../api';

type Listing = Answer<'/v1/admin/dead-letters'>;
type Queue = Listing['queues'][number];

/** Dead letters per queue: why each failed and how often, with a replay of the whole queue. */
export function DeadLetters() {
  const [listing, setListing] = useState<Listing | undefined>();
  const [error, setError] = useState('');
  const [notice, setNotice] = useState('');
  const load = () =>
    call('get', '/v1/admin/dead-letters', { query: { limit: 20 } }).then(
      (answer) => {
        setListing(answer);
        setError('');
      },
      (failure: unknown) => setError(describeError(failure)),
    );
  useEffect(() => void load(), []);
  const replay = async (queue: string) => {
    setNotice('');
    try {
      const result = await call('post', '/v1/admin/dead-letters/{queue}/replay', { params: { queue } });
      setNotice(`Replayed ${result.replayed} message(s) of ${result.queue} (${result.services.join(', ')}).`);
      await load();
    } catch (failure) {
      setNotice(`Replay of ${queue} failed: ${describeError(failure)}`);
    }
  };
  const queues = listing?.queues ?? [];
  const withLetters = queues.filter((queue) => queue.count > 0);
  return (
    <section aria-labelledby="dead-title">
      <div class="title-row">
        <h1 id="dead-title">Dead letters</h1>
        <button type="button" class="quiet" onClick={() => void load()}>
          Refresh
        </button>
      </div>
      {notice && <p role="status">{notice}</p>}
      {error && <p class="error">{error}</p>}
      {listing && listing.unreachable.length > 0 && (
        <p class="error">
          Not asked: {listing.unreachable.map((entry) => `${entry.service} (${entry.code})`).join(', ')}
        </p>
      )}
      {listing && (
        <p class="help">
          {withLetters.length} of {queues.length} queues hold dead letters.
        </p>
      )}
      {withLetters.map((queue) => (
        <QueueLetters key={queue.queue} queue={queue} onReplay={replay} />
      ))}
    </section>
  );
}

function QueueLetters({ queue, onReplay }: { queue: Queue; onReplay: (queue: string) => Promise<void> }) {
  return (
    <section class="panel" aria-label={`Queue ${queue.queue}`} data-queue={queue.queue}>
      <div class="title-row">
        <h2>
          <code>{queue.queue}</code> <span class="count">{queue.count}</span>
        </h2>
        <button type="button" onClick={() => void onReplay(queue.queue)}>
          Replay {queue.count} from {queue.queue}
        </button>
      </div>
      <p class="meta">consumed by {queue.service}</p>
      <ul class="letters">
        {queue.newest.map((letter) => (
          <li key={letter.eventId}>
            <details>
              <summary>
                {letter.type} · {letter.attempts} attempt{letter.attempts === 1 ? '' : 's'} ·{' '}
                <span class="reason">{letter.lastError || 'no reason recorded'}</span>
              </summary>
              <dl>
                <dt>Event</dt>
                <dd>
                  <code>{letter.eventId}</code>
                </dd>
                <dt>Type</dt>
                <dd>{letter.type}</dd>
                <dt>Attempts</dt>
                <dd>{letter.attempts}</dd>
                <dt>Last error</dt>
                <dd>
                  <pre>{letter.lastError}</pre>
                </dd>
                <dt>Trace</dt>
                <dd>{letter.traceId ? <code>{letter.traceId}</code> : '–'}</dd>
              </dl>
            </details>
          </li>
        ))}
      </ul>
      {queue.count > queue.newest.length && (
        <p class="help">
          The newest {queue.newest.length} of {queue.count} are shown.
        </p>
      )}
    </section>
  );
}
