import { useEffect, useState } from 'preact/hooks';
import { call, session, type Answer } from './api';
import { live } from './live';
import { BASE, Link, useRoute, type Route } from './router';
import { Login } from './views/login';
import { OrdersBoard } from './views/orders';
import { OrderDetail } from './views/order-detail';
import { Kitchen } from './views/kitchen';
import { Stock } from './views/stock';
import { DeadLetters } from './views/dead-letters';
import { Services } from './views/services';
import { Traces } from './views/traces';

export type SessionInfo = Answer<'/console/api/session', 'post'>;

const SECTIONS = [
  { path: '/', label: 'Orders' },
  { path: '/kitchen', label: 'Kitchen' },
  { path: '/stock', label: 'Stock' },
  { path: '/dead-letters', label: 'Dead letters' },
  { path: '/services', label: 'Services' },
  { path: '/traces', label: 'Traces' },
];

export function App() {
  const [info, setInfo] = useState<SessionInfo | null | undefined>(undefined);
  const signOut = () => {
    session.clear();
    live.stop();
    setInfo(null);
  };
  useEffect(() => {
    session.onUnauthorized(signOut);
    if (!session.token()) return setInfo(null);
    // A token kept from earlier in this tab: still good?
    call('post', '/console/api/session').then(setInfo, () => setInfo(null));
  }, []);
  useEffect(() => {
    if (info) live.start();
  }, [info]);
  if (info === undefined) return <p class="loading">Loading…</p>;
  if (info === null) return <Login onSignedIn={setInfo} />;
  return <Shell info={info} onSignOut={signOut} />;
}

function Shell({ info, onSignOut }: { info: SessionInfo; onSignOut: () => void }) {
  const route = useRoute();
  const section = SECTIONS.find(({ path }) => path !== '/' && route.path.startsWith(path))?.path ?? '/';
  return (
    <>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <span class="brand">OMS console</span>
        <nav aria-label="Sections">
          {SECTIONS.map(({ path, label }) => (
            <Link
              key={path}
              href={`${BASE}${path === '/' ? '/' : path}`}
              aria-current={section === path ? 'page' : undefined}
            >
              {label}
            </Link>
          ))}
        </nav>
        <button type="button" class="quiet" onClick={onSignOut}>
          Sign out
        </button>
      </header>
      <main id="main" tabIndex={-1}>
        <View route={route} info={info} />
      </main>
    </>
  );
}

function View({ route, info }: { route: Route; info: SessionInfo }) {
  const order = /^\/orders\/([^/]+)\/([^/]+)$/.exec(route.path);
  if (order)
    return (
      <OrderDetail
        customerId={decodeURIComponent(order[1]!)}
        orderId={decodeURIComponent(order[2]!)}
        info={info}
      />
    );
  switch (route.path) {
    case '/':
      return <OrdersBoard />;
    case '/kitchen':
      return <Kitchen />;
    case '/stock':
      return <Stock />;
    case '/dead-letters':
      return <DeadLetters />;
    case '/services':
      return <Services />;
    case '/traces':
      return <Traces orderId={route.query.get('orderId') ?? ''} info={info} />;
    default:
      return (
        <section>
          <h1>Not found</h1>
          <p>
            There is no view at {route.path}. <Link href={`${BASE}/`}>Back to the orders</Link>
          </p>
        </section>
      );
  }
}
