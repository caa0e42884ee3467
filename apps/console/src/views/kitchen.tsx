import { useEffect, useState } from 'preact/hooks';
import { call, describeError, type Answer } from '../api';
import { clock, duration, shortId } from '../format';
import { useLive } from '../live';

type Ticket = Answer<'/v1/kitchen/tickets'>['tickets'][number];

const COLUMNS = [
  { status: 'queued', title: 'Queued' },
  { status: 'preparing', title: 'Preparing' },
  { status: 'ready', title: 'Ready' },
] as const;
const READY_SHOWN = 20;

/** The kitchen's tickets, read again each time the feed says one moved (no polling). */
export function Kitchen() {
  const feed = useLive();
  const [tickets, setTickets] = useState<Ticket[]>([]);
  const [error, setError] = useState('');
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    // Several tickets often move at once: one read for a burst of messages.
    const timer = setTimeout(() => {
      call('get', '/v1/kitchen/tickets').then(
        (answer) => {
          setTickets(answer.tickets);
          setError('');
        },
        (failure: unknown) => setError(describeError(failure)),
      );
    }, 100);
    return () => clearTimeout(timer);
  }, [feed.kitchenVersion]);
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, []);
  return (
    <section aria-labelledby="kitchen-title">
      <h1 id="kitchen-title">Kitchen</h1>
      {error && <p class="error">{error}</p>}
      <div class="board three">
        {COLUMNS.map(({ status, title }) => {
          const column = tickets
            .filter((ticket) => ticket.status === status)
            .sort((a, b) =>
              status === 'ready'
                ? (b.readyAt ?? '').localeCompare(a.readyAt ?? '')
                : a.createdAt.localeCompare(b.createdAt),
            );
          return (
            <section class="column" key={status} aria-labelledby={`kitchen-${status}`}>
              <h2 id={`kitchen-${status}`}>
                {title} <span class="count">{column.length}</span>
              </h2>
              <ul>
                {column.slice(0, status === 'ready' ? READY_SHOWN : undefined).map((ticket) => (
                  <li
                    key={ticket.id}
                    class="card"
                    data-ticket-order={ticket.orderId}
                    data-status={ticket.status}
                  >
                    <strong>Order {shortId(ticket.orderId)}</strong>
                    <span class="meta">
                      {ticket.items.map((item) => `${item.quantity} × ${item.name}`).join(', ')}
                    </span>
                    <span class="meta">{waited(ticket, now)}</span>
                  </li>
                ))}
              </ul>
            </section>
          );
        })}
      </div>
    </section>
  );
}

function waited(ticket: Ticket, now: number): string {
  if (ticket.readyAt)
    return `ready at ${clock(ticket.readyAt)}, ${duration(Date.parse(ticket.readyAt) - Date.parse(ticket.createdAt))} after it was queued`;
  if (ticket.startedAt) return `preparing for ${duration(now - Date.parse(ticket.startedAt))}`;
  return `waiting for ${duration(now - Date.parse(ticket.createdAt))}`;
}
