import { Metadata, status } from '@grpc/grpc-js';
import {
  registerResolver,
  statusOrFromError,
  statusOrFromValue,
  type GrpcUri,
  type Resolver,
  type ResolverListener,
} from '@grpc/grpc-js/build/src/experimental';
import type { ServiceCatalog } from './service-catalog';

let catalog: ServiceCatalog | undefined;

/** `consul:///stock` addresses every passing instance of `stock`, resolved from the catalog. */
export function consulTarget(service: string): string {
  return `consul:///${service}`;
}

class ConsulResolver implements Resolver {
  private readonly service: string;
  private unsubscribe?: () => void;
  private latest?: { host: string; port: number }[];
  private reportScheduled = false;
  private destroyed = false;

  constructor(
    target: GrpcUri,
    private readonly listener: ResolverListener,
  ) {
    this.service = target.path.replace(/^\//, '');
  }

  updateResolution(): void {
    if (!catalog) throw new Error('registerConsulResolver() was not called');
    if (!this.unsubscribe) {
      this.unsubscribe = catalog.subscribe(this.service, (endpoints) => {
        this.latest = endpoints;
        this.report();
      });
    } else if (this.latest && !this.reportScheduled) {
      // grpc-js may ask again from inside our own report (a balancer reacting to the update):
      // answering synchronously would recurse without end, so answer on the next turn.
      this.reportScheduled = true;
      setImmediate(() => {
        this.reportScheduled = false;
        if (!this.destroyed) this.report();
      });
    }
  }

  destroy(): void {
    this.destroyed = true;
    this.unsubscribe?.();
  }

  private report(): void {
    const endpoints = this.latest ?? [];
    if (endpoints.length === 0) {
      // Clients also check the catalog and fail fast with UNAVAILABLE (see RpcClientOptions.hasInstances).
      this.listener(
        statusOrFromError({
          code: status.UNAVAILABLE,
          details: `no healthy instance of ${this.service}`,
          metadata: new Metadata(),
        }),
        {},
        null,
        '',
      );
      return;
    }
    this.listener(
      statusOrFromValue(endpoints.map((e) => ({ addresses: [{ host: e.host, port: e.port }] }))),
      {},
      null,
      '',
    );
  }

  static getDefaultAuthority(target: GrpcUri): string {
    return target.path.replace(/^\//, '');
  }
}

/** Makes `consul:///<service>` targets resolve through `serviceCatalog` in this process. */
export function registerConsulResolver(serviceCatalog: ServiceCatalog): void {
  catalog = serviceCatalog;
  registerResolver('consul', ConsulResolver);
}
