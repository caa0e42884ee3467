import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { call, describeError, type Answer } from '../api';
import type { SessionInfo } from '../app';
import { clock, duration, money, statusLabel, timeline } from '../format';
import { live, useLive } from '../live';
import { Link, tracesHref } from '../router';
import { ColumnHeads } from './column-heads';

type Detail = Answer<'/console/api/orders/{customerId}/{orderId}'>;
type Action = 'cancel' | 'pay' | 'expire';

/** One order: its steps and the time in each, items, payment, kitchen ticket, traces, actions. */
/** Stand-ins for Stripe's answers, offered only by a development gateway. */
const DEVELOPMENT_ACTIONS: readonly { action: Action; label: string }[] = [
  { action: 'pay', label: 'Pay (development)' },
  { action: 'expire', label: 'Expire (development)' },
];

export function OrderDetail({
  customerId,
  orderId,
  info,
}: {
  customerId: string;
  orderId: string;
  info: SessionInfo;
}) {
  const feed = useLive();
  const [detail, setDetail] = useState<Detail | undefined>();
  const [error, setError] = useState('');
  const [notice, setNotice] = useState('');
  const [now, setNow] = useState(Date.now());
  const params = { customerId, orderId };
  const load = () =>
    call('get', '/console/api/orders/{customerId}/{orderId}', { params }).then(
      (loaded) => {
        setDetail(loaded);
        setError('');
        live.note(loaded.order);
      },
      (failure: unknown) => setError(describeError(failure)),
    );
  // Read again whenever the feed moves this order or its ticket.
  const seen = feed.orders.get(orderId);
  const kitchenMoved = feed.lastKitchen?.orderId === orderId ? feed.kitchenVersion : 0;
  useEffect(() => void load(), [orderId, seen?.updatedAt, kitchenMoved]);
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, []);
  const act = async (action: Action) => {
    setNotice('');
    try {
      if (action === 'cancel')
        live.note(await call('post', '/console/api/orders/{customerId}/{orderId}/cancel', { params }));
      else {
        const sent = await call('post', `/console/api/orders/{customerId}/{orderId}/${action}`, { params });
        setNotice(`Sent ${sent.event} (${sent.eventId}).`);
      }
      await load();
    } catch (failure) {
      setNotice(`${action} failed: ${describeError(failure)}`);
    }
  };
  if (!detail)
    return (
      <section>
        <h1>Order {orderId}</h1>
        {error ? <p class="error">{error}</p> : <p>Loading…</p>}
      </section>
    );
  const { order } = detail;
  const waiting = order.status === 'pending' || order.status === 'awaiting_payment';
  const jaegerLink = info.jaegerUiUrl ? `${info.jaegerUiUrl}/search?${detail.jaegerSearch}` : null;
  return (
    <section aria-labelledby="order-title">
      <div class="title-row">
        <h1 id="order-title">
          Order <code>{order.id}</code>
        </h1>
        <span class={`badge ${order.status}`} data-testid="order-status">
          {statusLabel(order.status)}
        </span>
      </div>
      <p class="meta">
        Customer {order.customerId} · {money(order.totalCents, order.currency)} · created{' '}
        {clock(order.createdAt)}
      </p>
      <div class="actions" role="group" aria-label="Actions">
        <button type="button" disabled={!waiting} onClick={() => void act('cancel')}>
          Cancel order
        </button>
        {info.development &&
          DEVELOPMENT_ACTIONS.map(({ action, label }) => (
            <button
              key={action}
              type="button"
              disabled={order.status !== 'awaiting_payment'}
              onClick={() => void act(action)}
            >
              {label}
            </button>
          ))}
        <Link href={tracesHref(order.id)} class="button-link">
          Traces
        </Link>
        {jaegerLink && (
          <a href={jaegerLink} class="button-link" target="_blank" rel="noreferrer">
            Open in Jaeger
          </a>
        )}
      </div>
      {notice && <p role="status">{notice}</p>}
      {error && <p class="error">{error}</p>}
      <div class="detail-grid">
        <Steps history={order.history} now={now} />
        <Items order={order} />
        <Payment detail={detail} />
        <Tickets detail={detail} />
      </div>
    </section>
  );
}

function Steps({ history, now }: { history: Detail['order']['history']; now: number }) {
  return (
    <section class="panel" aria-labelledby="steps-title">
      <h2 id="steps-title">History</h2>
      <ol class="timeline">
        {timeline(history, now).map((step) => (
          <li key={`${step.status}-${step.at}`} data-step={step.status}>
            <span class={`badge ${step.status}`}>{statusLabel(step.status)}</span>
            <time dateTime={step.at}>{clock(step.at)}</time>
            <span class="spent">
              {step.current
                ? `for ${duration(step.spentMs)} so far`
                : step.spentMs > 0
                  ? duration(step.spentMs)
                  : ''}
            </span>
          </li>
        ))}
      </ol>
    </section>
  );
}

function Items({ order }: { order: Detail['order'] }) {
  return (
    <section class="panel" aria-labelledby="items-title">
      <h2 id="items-title">Items</h2>
      <table>
        <ColumnHeads names={['Item', 'Quantity', 'Unit price', 'Total']} />
        <tbody>
          {order.items.map((line) => (
            <tr key={line.itemId}>
              <td>{line.name}</td>
              <td class="number">{line.quantity}</td>
              <td class="number">{money(line.unitPriceCents, order.currency)}</td>
              <td class="number">{money(line.lineTotalCents, order.currency)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

/** The panels of the detail page that show what another service answered. */
const PANELS = {
  payment: { id: 'payment-title', title: 'Payment', emptyText: 'No payment yet.' },
  tickets: {
    id: 'ticket-title',
    title: 'Kitchen ticket',
    emptyText: 'No ticket yet (one is made once the order is paid).',
  },
} as const;

/** A panel of the detail page: what its service answered, why it could not, or that it is empty. */
function Panel({
  of: { id, title, emptyText },
  error,
  isEmpty,
  children,
}: {
  of: (typeof PANELS)[keyof typeof PANELS];
  error: string | null;
  isEmpty: boolean;
  children: ComponentChildren;
}) {
  return (
    <section class="panel" aria-labelledby={id}>
      <h2 id={id}>{title}</h2>
      {error && <p class="error">Could not be read: {error}</p>}
      {isEmpty && !error && <p>{emptyText}</p>}
      {children}
    </section>
  );
}

function Payment({ detail }: { detail: Detail }) {
  const { payment, paymentError } = detail;
  return (
    <Panel of={PANELS.payment} error={paymentError} isEmpty={!payment}>
      {payment && (
        <dl>
          <dt>Status</dt>
          <dd>
            <span class={`badge ${payment.status}`}>{statusLabel(payment.status)}</span>
          </dd>
          <dt>Amount</dt>
          <dd>{money(payment.amountCents, payment.currency)}</dd>
          <dt>Checkout Session</dt>
          <dd>
            <code>{payment.checkoutSessionId || '–'}</code>
          </dd>
          <dt>Payment page</dt>
          <dd>
            {payment.paymentUrl ? (
              <a href={payment.paymentUrl} rel="noreferrer">
                {payment.paymentUrl}
              </a>
            ) : (
              '–'
            )}
          </dd>
        </dl>
      )}
    </Panel>
  );
}

function Tickets({ detail }: { detail: Detail }) {
  const { tickets, ticketsError } = detail;
  return (
    <Panel of={PANELS.tickets} error={ticketsError} isEmpty={tickets.length === 0}>
      {tickets.map((ticket) => (
        <dl key={ticket.id} data-ticket-status={ticket.status}>
          <dt>Ticket</dt>
          <dd>
            <code>{ticket.id}</code>
          </dd>
          <dt>Status</dt>
          <dd>
            <span class={`badge ${ticket.status}`}>{ticket.status}</span>
          </dd>
          <dt>Queued</dt>
          <dd>{clock(ticket.createdAt)}</dd>
          <dt>Started</dt>
          <dd>{ticket.startedAt ? clock(ticket.startedAt) : '–'}</dd>
          <dt>Ready</dt>
          <dd>{ticket.readyAt ? clock(ticket.readyAt) : '–'}</dd>
          <dt>Items</dt>
          <dd>{ticket.items.map((item) => `${item.quantity} × ${item.name}`).join(', ')}</dd>
        </dl>
      ))}
    </Panel>
  );
}
