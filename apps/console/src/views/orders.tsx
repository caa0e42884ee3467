import { useEffect, useState } from 'preact/hooks';
import { call, describeError, type Order, type OrderStatus } from '../api';
import { clock, money, shortId, statusLabel } from '../format';
import { live, useLive } from '../live';
import { Link, orderHref } from '../router';

const COLUMNS: { title: string; statuses: OrderStatus[] }[] = [
  { title: 'Pending', statuses: ['pending'] },
  { title: 'Awaiting payment', statuses: ['awaiting_payment'] },
  { title: 'Paid', statuses: ['paid'] },
  { title: 'Preparing', statuses: ['preparing'] },
  { title: 'Ready', statuses: ['ready'] },
  { title: 'Cancelled or failed', statuses: ['cancelled', 'failed'] },
];
const STATUSES: OrderStatus[] = COLUMNS.flatMap((column) => column.statuses);
const PER_COLUMN = 30;

/** The latest orders by status, moved by the live feed as the events arrive. */
export function OrdersBoard() {
  const feed = useLive();
  const [customer, setCustomer] = useState('');
  const [status, setStatus] = useState<OrderStatus | ''>('');
  const [loadError, setLoadError] = useState('');
  // A customer's older orders are not on the live board: read them once when filtering.
  useEffect(() => {
    const customerId = customer.trim();
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(customerId)) return;
    const timer = setTimeout(() => {
      call('get', '/v1/customers/{customerId}/orders', { params: { customerId }, query: { limit: 50 } }).then(
        ({ orders }) => {
          setLoadError('');
          for (const order of orders) live.note(order);
        },
        (error: unknown) => setLoadError(describeError(error)),
      );
    }, 300);
    return () => clearTimeout(timer);
  }, [customer]);
  const shown = [...feed.orders.values()]
    .filter((order) => !customer.trim() || order.customerId === customer.trim())
    .filter((order) => !status || order.status === status)
    .sort((a, b) => b.updatedAt.localeCompare(a.updatedAt));
  return (
    <section aria-labelledby="orders-title">
      <div class="title-row">
        <h1 id="orders-title">Orders</h1>
        <p class={`connection ${feed.connection}`} role="status" aria-live="polite">
          {feed.connection === 'live'
            ? 'Live'
            : feed.connection === 'connecting'
              ? 'Connecting…'
              : 'Reconnecting…'}
        </p>
      </div>
      <form class="filters" onSubmit={(event) => event.preventDefault()}>
        <label for="filter-customer">Customer</label>
        <input
          id="filter-customer"
          type="search"
          value={customer}
          placeholder="any"
          onInput={(event) => setCustomer(event.currentTarget.value)}
        />
        <label for="filter-status">Status</label>
        <select
          id="filter-status"
          value={status}
          onChange={(event) => setStatus(event.currentTarget.value as OrderStatus | '')}
        >
          <option value="">any</option>
          {STATUSES.map((value) => (
            <option key={value} value={value}>
              {statusLabel(value)}
            </option>
          ))}
        </select>
      </form>
      {loadError && <p class="error">Could not read the customer&apos;s orders: {loadError}</p>}
      <div class="board">
        {COLUMNS.filter((column) => !status || column.statuses.includes(status)).map((column) => (
          <Column
            key={column.title}
            title={column.title}
            orders={shown.filter((o) => column.statuses.includes(o.status))}
          />
        ))}
      </div>
    </section>
  );
}

function Column({ title, orders }: { title: string; orders: Order[] }) {
  const id = `column-${title.replace(/\W+/g, '-').toLowerCase()}`;
  return (
    <section class="column" aria-labelledby={id}>
      <h2 id={id}>
        {title} <span class="count">{orders.length}</span>
      </h2>
      <ul>
        {orders.slice(0, PER_COLUMN).map((order) => (
          <li key={order.id} class="card" data-order-id={order.id} data-status={order.status}>
            <Link href={orderHref(order.customerId, order.id)}>
              <span class="sr-only">Order </span>
              {shortId(order.id)}
            </Link>
            <span class={`badge ${order.status}`}>{statusLabel(order.status)}</span>
            <span class="meta">
              {order.customerId} · {money(order.totalCents, order.currency)} · {clock(order.updatedAt)}
            </span>
          </li>
        ))}
      </ul>
      {orders.length > PER_COLUMN && <p class="help">and {orders.length - PER_COLUMN} more</p>}
    </section>
  );
}
