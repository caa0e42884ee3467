import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export type ConsumeOutcome = 'ack' | 'retry' | 'dead';

/**
 * Messaging metrics, registered in the service's registry when it gives one. Metrics already
 * registered there (a second bus or relay in the same process) are reused, not redefined.
 */
export class MessagingMetrics {
  private readonly consumed?: Counter<'queue' | 'outcome'>;
  private readonly published?: Counter<'exchange'>;
  private readonly handling?: Histogram<'queue'>;

  constructor(registry?: Registry) {
    if (!registry) return;
    this.consumed = reuseOrCreate(
      registry,
      'oms_messages_consumed_total',
      () =>
        new Counter({
          name: 'oms_messages_consumed_total',
          help: 'Messages consumed, by queue and outcome (ack, retry, dead).',
          labelNames: ['queue', 'outcome'],
          registers: [registry],
        }),
    );
    this.published = reuseOrCreate(
      registry,
      'oms_messages_published_total',
      () =>
        new Counter({
          name: 'oms_messages_published_total',
          help: 'Events published and confirmed by the broker, by exchange.',
          labelNames: ['exchange'],
          registers: [registry],
        }),
    );
    this.handling = reuseOrCreate(
      registry,
      'oms_message_handling_seconds',
      () =>
        new Histogram({
          name: 'oms_message_handling_seconds',
          help: 'Time from delivery to ack, retry or dead-lettering, by queue.',
          labelNames: ['queue'],
          buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
          registers: [registry],
        }),
    );
  }

  consumedMessage(queue: string, outcome: ConsumeOutcome, seconds: number): void {
    this.consumed?.inc({ queue, outcome });
    this.handling?.observe({ queue }, seconds);
  }

  publishedMessage(exchange: string): void {
    this.published?.inc({ exchange });
  }
}

/** Where each registry's outbox backlog gauge reads its values at scrape time, by collection. */
const backlogSources = new WeakMap<Registry, Map<string, () => Promise<number>>>();

/**
 * `oms_outbox_backlog{collection}`: staged events not yet published, counted when Prometheus scrapes
 * (not on a timer). Returns a function that stops reporting this collection.
 */
export function registerOutboxBacklogGauge(
  registry: Registry,
  collection: string,
  backlog: () => Promise<number>,
): () => void {
  let sources = backlogSources.get(registry);
  if (!sources) {
    sources = new Map();
    backlogSources.set(registry, sources);
  }
  const registered = sources;
  const gauge = reuseOrCreate(
    registry,
    'oms_outbox_backlog',
    () =>
      new Gauge({
        name: 'oms_outbox_backlog',
        help: 'Events staged in an outbox and not yet published, by collection.',
        labelNames: ['collection'],
        registers: [registry],
        async collect() {
          for (const [name, read] of registered) {
            // A failed count (database away) keeps the last value rather than failing the scrape.
            const value = await read().catch(() => undefined);
            if (value !== undefined) this.set({ collection: name }, value);
          }
        },
      }),
  );
  registered.set(collection, backlog);
  return () => {
    registered.delete(collection);
    gauge.remove({ collection });
  };
}

function reuseOrCreate<M>(registry: Registry, name: string, create: () => M): M {
  return (registry.getSingleMetric(name) as M | undefined) ?? create();
}
