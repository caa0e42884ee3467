import type { OrderBoard } from './order-board';
import type { ServiceHealthJson } from './service-health';
import type { StreamPasses } from './stream-pass';

/** What the console's routes need beyond the backends; absent (unit tests of the API), there is no console. */
export interface ConsoleContext {
  /** The latest orders, fed by the events on the bus. */
  board: OrderBoard;
  passes: StreamPasses;
  /** Every instance in Consul with its health and figures from its /metrics. */
  services(): Promise<ServiceHealthJson[]>;
  jaeger: {
    /** JAEGER_QUERY_URL: the query API the trace view reads through the gateway. */
    queryUrl: string;
    /** Jaeger's own UI, when there is one to link to. */
    uiUrl(): Promise<string | null>;
  };
  /** NODE_ENV is not production: the pay and expire actions exist. */
  development: boolean;
  /** Signs the developer actions' webhooks (STRIPE_WEBHOOK_SECRET, the payment service's). */
  webhookSecret: string;
  /** The built console (index.html and assets/), or undefined when it was not built. */
  bundleDir: string | undefined;
}
