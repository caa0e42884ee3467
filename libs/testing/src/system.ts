import { MongoClient } from 'mongodb';
import { StockServiceService, type ItemStock } from '@oms/contracts';
import { createTargetPolicy } from '@oms/resilience';
import { createRpcClient } from '@oms/rpc';
import { startService, type RunningService } from './service-process';
import { signedCheckoutEvent, type CheckoutEventType } from './stripe-webhook';
import { uniqueDeployment } from './probes';
import { stackAddresses } from './stack';
import { waitFor } from './wait-for';

export const ALL_SERVICES = ['menu', 'stock', 'order', 'payment', 'kitchen', 'gateway'] as const;
export type SystemServiceName = (typeof ALL_SERVICES)[number];

/** A service's database in a deployment, named as @oms/persistence names it (which depends on this library). */
export const deploymentDatabase = (service: SystemServiceName, deployment: string): string =>
  `${service}_${deployment}`.replace(/[^A-Za-z0-9_]/g, '_');

export const ADMIN_TOKEN = 'oms-local-admin';

/** An order as the gateway answers it (the parts tests read). */
export interface TestOrder {
  id: string;
  customerId: string;
  status: string;
  totalCents: number;
  currency: string;
  paymentUrl: string | null;
  history: { status: string; at: string }[];
}

type OrderRef = Pick<TestOrder, 'id' | 'customerId'>;

/** A whole system in its own deployment (Consul tag, databases, queues), started for one test file. */
export class TestSystem {
  readonly instances: RunningService[] = [];

  private constructor(
    readonly deployment: string,
    private readonly env: Record<string, string>,
  ) {}

  static async start(
    options: { services?: readonly SystemServiceName[]; env?: Record<string, string>; prefix?: string } = {},
  ) {
    const system = new TestSystem(uniqueDeployment(options.prefix ?? 'sys'), options.env ?? {});
    for (const name of options.services ?? ALL_SERVICES) await system.add(name);
    if ((options.services ?? ALL_SERVICES).includes('gateway')) {
      await waitFor(
        'the gateway to be ready',
        async () => (await fetch(`${system.gatewayUrl}/readyz`)).status === 200,
        {
          timeoutMs: 15_000,
        },
      );
    }
    return system;
  }

  /** Starts one more instance of a service (several may run side by side). */
  async add(
    name: SystemServiceName,
    env: Record<string, string> = {},
    options: { timeoutMs?: number } = {},
  ): Promise<RunningService> {
    const instance = await startService(name, {
      deployment: this.deployment,
      env: { ...this.env, ...env },
      timeoutMs: options.timeoutMs,
    });
    this.instances.push(instance);
    return instance;
  }

  running(name: SystemServiceName): RunningService[] {
    return this.instances.filter(
      (i) => i.name === name && i.process.exitCode === null && i.process.signalCode === null,
    );
  }

  get gatewayUrl(): string {
    const gateway = this.running('gateway')[0];
    if (!gateway) throw new Error('no gateway running');
    return `http://127.0.0.1:${gateway.port}`;
  }

  /** JSON request to the gateway; returns status, headers and parsed body. */
  async request<T = Record<string, unknown>>(
    method: string,
    path: string,
    options: { body?: unknown; headers?: Record<string, string>; admin?: boolean } = {},
  ): Promise<{ status: number; headers: Headers; body: T }> {
    const headers: Record<string, string> = { ...options.headers };
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    if (options.admin) headers.authorization = `Bearer ${ADMIN_TOKEN}`;
    const response = await fetch(`${this.gatewayUrl}${path}`, {
      method,
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    });
    const text = await response.text();
    return {
      status: response.status,
      headers: response.headers,
      body: (text ? JSON.parse(text) : undefined) as T,
    };
  }

  /** Adds a menu item with a given stock through the admin API. */
  async addItem(id: string, available: number, priceCents = 1000): Promise<void> {
    const created = await this.request('POST', '/v1/admin/menu', {
      admin: true,
      body: { id, name: `Item ${id}`, description: 'test item', priceCents, currency: 'usd' },
    });
    if (created.status !== 201)
      throw new Error(`adding ${id} answered ${created.status}: ${JSON.stringify(created.body)}`);
    const stocked = await this.request('PUT', `/v1/admin/stock/${id}`, { admin: true, body: { available } });
    if (stocked.status !== 200)
      throw new Error(`stocking ${id} answered ${stocked.status}: ${JSON.stringify(stocked.body)}`);
  }

  async available(itemId: string): Promise<number | null> {
    const { status, body } = await this.request<{ available: number | null }>('GET', `/v1/menu/${itemId}`);
    if (status !== 200) throw new Error(`GET /v1/menu/${itemId} answered ${status}`);
    return body.available;
  }

  async getOrder(order: OrderRef): Promise<TestOrder> {
    return (await this.request<TestOrder>('GET', `/v1/customers/${order.customerId}/orders/${order.id}`))
      .body;
  }

  /** The order once it has reached `status`. */
  orderWhen(order: OrderRef, status: string, timeoutMs = 30_000): Promise<TestOrder> {
    return waitFor(
      `order ${order.id} ${status}`,
      async () => {
        const current = await this.getOrder(order);
        return current.status === status ? current : undefined;
      },
      { timeoutMs, intervalMs: 100 },
    );
  }

  /** A signed Stripe webhook delivery for the order, sent to the gateway by `send()`. */
  webhook(
    type: CheckoutEventType,
    order: Omit<TestOrder, 'status' | 'paymentUrl' | 'history'>,
    options: Parameters<typeof signedCheckoutEvent>[2] = {},
  ): { eventId: string; send(): Promise<Response> } {
    const { body, signature, eventId } = signedCheckoutEvent(type, order, options);
    return {
      eventId,
      send: () =>
        fetch(`${this.gatewayUrl}/v1/webhooks/stripe`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'stripe-signature': signature },
          body,
        }),
    };
  }

  /**
   * Kitchen tickets once `satisfied` holds. The listing reads the kitchen's store, which catches
   * up with the events (and a restarted kitchen is found once its first health check passed).
   */
  async ticketsWhen(
    query: string,
    satisfied: (tickets: { id: string; orderId: string; status: string }[]) => boolean,
  ): Promise<{ id: string; orderId: string; status: string }[]> {
    return waitFor(`tickets ${query}`, async () => {
      const listed = await this.request<{ tickets?: { id: string; orderId: string; status: string }[] }>(
        'GET',
        `/v1/kitchen/tickets?${query}`,
      );
      return listed.status === 200 && listed.body.tickets && satisfied(listed.body.tickets)
        ? listed.body.tickets
        : undefined;
    });
  }

  /** Available, held and committed quantities straight from a stock instance over gRPC. */
  async stockOf(itemId: string): Promise<ItemStock> {
    const stock = this.running('stock')[0];
    if (!stock) throw new Error('no stock running');
    const client = createRpcClient(StockServiceService, {
      service: 'stock',
      target: `127.0.0.1:${stock.port}`,
      policy: createTargetPolicy({
        retryAttempts: 0,
        breakerFailures: 100,
        breakerHalfOpenMs: 1000,
        bulkheadLimit: 4,
        bulkheadQueue: 4,
      }),
      defaultTimeoutMs: 3000,
      idempotent: [],
    });
    try {
      const { items } = await client.getAvailability({ itemIds: [itemId] });
      if (!items[0]) throw new Error(`no stock record for ${itemId}`);
      return items[0];
    } finally {
      client.close();
    }
  }

  async stop(): Promise<void> {
    await Promise.all(this.instances.map((instance) => instance.stop()));
  }

  /**
   * Drops the deployment's databases (after stop). A run that leaves them behind leaves the next
   * run a bigger server: FerretDB spent a third more CPU per order with 60 leftover databases
   * than with none (bench dbcommands).
   */
  async dropDatabases(): Promise<void> {
    const url = (await stackAddresses()).MONGO_URL!;
    const client = new MongoClient(url, { serverSelectionTimeoutMS: 5000, retryWrites: false });
    try {
      await client.connect();
      for (const service of ALL_SERVICES)
        await client.db(deploymentDatabase(service, this.deployment)).dropDatabase();
    } finally {
      await client.close();
    }
  }
}
