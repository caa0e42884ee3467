import type { ConsulClient } from '@oms/discovery';
import type { Logger } from '@oms/logging';
import type { ListenerKind } from './service-config';

/** How often the instance checks that Consul still holds its registration. */
export const REGISTRATION_CHECK_MS = 10_000;

export interface InstanceAddress {
  id: string;
  name: string;
  tags: string[];
  address: string;
  port: number;
  /** Registration meta, e.g. `metricsPort` (the operations console reads each instance's /metrics there). */
  meta?: Record<string, string>;
}

/**
 * The instance's entry in Consul, kept there. A Consul agent that restarts without its data (a dev
 * agent, a replaced node) forgets every registration, and an instance that starts while Consul is
 * away cannot register at all: in both cases `keep`, run every REGISTRATION_CHECK_MS, registers
 * again once Consul answers, so clients find the instance without anyone restarting it.
 */
export class ConsulRegistration {
  private deregistered = false;

  constructor(
    private readonly consul: ConsulClient,
    private readonly kind: ListenerKind,
    private readonly instance: InstanceAddress,
    private readonly logger: Logger,
  ) {}

  /** The first registration. Consul being away does not stop the service: `keep` registers later. */
  async register(): Promise<void> {
    try {
      await this.put();
    } catch (error) {
      this.logger.warn({ err: error }, 'consul unreachable: not registered yet, retrying in the background');
    }
  }

  async keep(): Promise<void> {
    if (this.deregistered || (await this.consul.isRegistered(this.instance.id))) return;
    await this.put();
    if (!this.deregistered) this.logger.info({ id: this.instance.id }, 'registered in consul again');
    else await this.consul.deregister(this.instance.id); // shutdown began while registering
  }

  deregister(): Promise<void> {
    this.deregistered = true;
    return this.consul.deregister(this.instance.id);
  }

  private put(): Promise<void> {
    const registration = {
      ...this.instance,
      // Each check is a call into every instance (and work for Consul): once a second kept an idle
      // system busy. A crashed instance is skipped by clients at once anyway (its connection
      // breaks); the check catches the rest, such as a process that stopped answering.
      checkIntervalSeconds: 5,
      deregisterCriticalAfterSeconds: 30,
    };
    const { address, port } = this.instance;
    return this.kind === 'http'
      ? this.consul.registerHttp(registration, `http://${address}:${port}/healthz`)
      : this.consul.register(registration);
  }
}
