import type { ServiceDefinition } from '@grpc/grpc-js';
import type { BaseServiceConfigType } from '@oms/config';
import { consulTarget, type ServiceCatalog } from '@oms/discovery';
import type { Logger } from '@oms/logging';
import { createTargetPolicy, type TargetPolicy } from '@oms/resilience';
import { createRpcClient, type RpcClient } from '@oms/rpc';
import type { ServiceMetrics } from './metrics';
import type { ServiceName } from './service-names';

export interface RpcClientOptions<D extends ServiceDefinition> {
  /** Methods that are safe to retry (the rest are tried once). */
  idempotent: readonly (keyof D)[];
  timeoutsMs?: Partial<Record<keyof D, number>>;
}

/**
 * Clients of other services, found through Consul. Every client of one target service shares one
 * call policy (retry, breaker, bulkhead), so the breaker sees all of this process's calls to it.
 */
export class RpcClients {
  private readonly policies = new Map<ServiceName, TargetPolicy>();
  private readonly clients: { close(): void }[] = [];

  constructor(
    private readonly config: BaseServiceConfigType,
    private readonly catalog: ServiceCatalog,
    private readonly metrics: ServiceMetrics,
    private readonly logger: Logger,
  ) {}

  client<D extends ServiceDefinition>(
    service: ServiceName,
    definition: D,
    options: RpcClientOptions<D>,
  ): RpcClient<D> {
    const client = createRpcClient(definition, {
      service,
      target: consulTarget(service),
      policy: this.policy(service),
      defaultTimeoutMs: this.config.RPC_TIMEOUT_MS,
      hasInstances: () => this.catalog.current(service)?.length !== 0,
      ...options,
    });
    this.clients.push(client);
    // Start watching now so the first call does not wait for discovery.
    this.catalog.subscribe(service, () => undefined);
    return client;
  }

  close(): void {
    for (const client of this.clients) client.close();
  }

  private policy(service: ServiceName): TargetPolicy {
    let policy = this.policies.get(service);
    if (!policy) {
      policy = createTargetPolicy({
        retryAttempts: this.config.RPC_RETRY_ATTEMPTS,
        breakerFailures: this.config.RPC_BREAKER_FAILURES,
        breakerHalfOpenMs: this.config.RPC_BREAKER_HALF_OPEN_MS,
        bulkheadLimit: this.config.RPC_BULKHEAD_LIMIT,
        bulkheadQueue: this.config.RPC_BULKHEAD_QUEUE,
        onBreakerStateChange: (state) => {
          this.metrics.setBreakerState(service, state);
          this.logger.warn({ target: service, state }, 'circuit breaker state changed');
        },
      });
      this.policies.set(service, policy);
      this.metrics.setBreakerState(service, 'closed');
    }
    return policy;
  }
}
