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
  /** Leftovers are looked for once per process, at its first registration that goes through. */
  private predecessorsReplaced = false;

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

  private async put(): Promise<void> {
    await this.putRegistration();
    if (!this.predecessorsReplaced) await this.replacePredecessors();
  }

  /**
   * Removes registrations of this service left at this instance's address and port. Only a process
   * that died there can have left them (a restart in place: a supervisor restarting a killed task
   * gives it the same port), and their checks now reach this instance and pass, so they would stay
   * listed for good, each an extra entry for the same process. Only once: two live processes
   * registered at one address (several containers behind one DNS name) must not take turns
   * removing each other whenever `keep` registers one again.
   */
  private async replacePredecessors(): Promise<void> {
    const { id, name, address, port } = this.instance;
    try {
      for (const left of await this.consul.registrationsAt(name, address, port)) {
        if (left === id) continue;
        await this.consul.deregister(left);
        this.logger.info({ id: left }, 'removed the registration a previous process left at this address');
      }
      this.predecessorsReplaced = true;
    } catch (error) {
      // Registered all the same; a leftover only lists this instance twice.
      this.logger.warn({ err: error }, 'could not look for registrations left at this address');
    }
  }

  private putRegistration(): Promise<void> {
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
