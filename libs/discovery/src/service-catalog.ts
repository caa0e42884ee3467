import type { Logger } from '@oms/logging';
import type { ConsulClient, ServiceEndpoint } from './consul-client';

type Listener = (endpoints: ServiceEndpoint[]) => void;

interface Watch {
  endpoints?: ServiceEndpoint[];
  listeners: Set<Listener>;
  abort: AbortController;
}

const sameEndpoints = (a: ServiceEndpoint[] | undefined, b: ServiceEndpoint[]) =>
  a !== undefined &&
  a.length === b.length &&
  a.every((e, i) => e.host === b[i]?.host && e.port === b[i]?.port);

/**
 * Cached, continuously updated view of the passing instances of each service, fed by Consul
 * blocking queries. When Consul is unreachable the last known endpoints keep serving.
 */
export class ServiceCatalog {
  private readonly watches = new Map<string, Watch>();

  constructor(
    private readonly consul: ConsulClient,
    private readonly tag: string,
    private readonly logger: Logger,
  ) {}

  /** Calls `listener` now (if the service is known) and on every change; returns an unsubscribe. */
  subscribe(service: string, listener: Listener): () => void {
    let watch = this.watches.get(service);
    if (!watch) {
      watch = { listeners: new Set(), abort: new AbortController() };
      this.watches.set(service, watch);
      void this.watch(service, watch);
    }
    watch.listeners.add(listener);
    if (watch.endpoints) listener(watch.endpoints);
    return () => watch.listeners.delete(listener);
  }

  current(service: string): ServiceEndpoint[] | undefined {
    return this.watches.get(service)?.endpoints;
  }

  close(): void {
    for (const watch of this.watches.values()) watch.abort.abort();
    this.watches.clear();
  }

  private async watch(service: string, watch: Watch): Promise<void> {
    let index: string | undefined;
    let failures = 0;
    while (!watch.abort.signal.aborted) {
      try {
        const result = await this.consul.passingInstances(service, {
          tag: this.tag,
          index,
          signal: watch.abort.signal,
        });
        failures = 0;
        // Consul may reset its index; start over rather than block forever on a stale one.
        index = Number(result.index) < Number(index ?? 0) ? undefined : result.index;
        const endpoints = [...result.endpoints].sort((a, b) =>
          `${a.host}:${a.port}`.localeCompare(`${b.host}:${b.port}`),
        );
        if (!sameEndpoints(watch.endpoints, endpoints)) {
          watch.endpoints = endpoints;
          this.logger.info({ target: service, endpoints: endpoints.length }, 'service endpoints changed');
          for (const listener of watch.listeners) listener(endpoints);
        }
      } catch (error) {
        if (watch.abort.signal.aborted) return;
        failures += 1;
        if (failures === 1)
          this.logger.warn(
            { err: error, target: service },
            'consul unreachable; serving last known endpoints',
          );
        const delay = Math.min(10_000, 250 * 2 ** Math.min(failures, 6)) * (0.5 + Math.random() / 2);
        await new Promise((resolve) => setTimeout(resolve, delay).unref());
        index = undefined;
      }
    }
  }
}
