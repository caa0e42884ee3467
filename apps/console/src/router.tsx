/** A few views under /console, addressed by real URLs (the gateway serves the page for every one). */
import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';

export const BASE = '/console';

export interface Route {
  /** The path below /console, e.g. `/orders/alice/ord_1`. */
  path: string;
  query: URLSearchParams;
}

const current = (): Route => ({
  path: location.pathname.slice(BASE.length).replace(/\/+$/, '') || '/',
  query: new URLSearchParams(location.search),
});

export function navigate(href: string): void {
  history.pushState(null, '', href);
  dispatchEvent(new PopStateEvent('popstate'));
}

export function useRoute(): Route {
  const [route, setRoute] = useState(current);
  useEffect(() => {
    const update = () => setRoute(current());
    addEventListener('popstate', update);
    return () => removeEventListener('popstate', update);
  }, []);
  return route;
}

/** A link that changes the view without reloading the page (the live feed stays open). */
export function Link(props: {
  href: string;
  children: ComponentChildren;
  class?: string;
  'aria-current'?: 'page';
}) {
  return (
    <a
      {...props}
      onClick={(event) => {
        if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
        event.preventDefault();
        navigate(props.href);
      }}
    />
  );
}

export const orderHref = (customerId: string, orderId: string) =>
  `${BASE}/orders/${encodeURIComponent(customerId)}/${encodeURIComponent(orderId)}`;
export const tracesHref = (orderId: string) => `${BASE}/traces?orderId=${encodeURIComponent(orderId)}`;
