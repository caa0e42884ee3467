import { EventEmitter } from 'node:events';
import Consul from 'consul';

export interface ServiceEndpoint {
  host: string;
  port: number;
}

export interface ServiceRegistration {
  id: string;
  name: string;
  tags: string[];
  address: string;
  port: number;
  /** Consul calls grpc.health.v1.Health/Check on the instance at this interval. */
  checkIntervalSeconds: number;
  deregisterCriticalAfterSeconds: number;
  /** Free-form facts about the instance (e.g. `metricsPort`: where its Prometheus /metrics is). */
  meta?: Record<string, string>;
}

/** What Consul probes: the instance's gRPC health service, or an HTTP URL. */
type CheckProbe = { grpc: string; grpcusetls: false } | { http: string };

/**
 * Per-call options the `consul` package reads (it hands them to its HTTP layer, papi) but leaves
 * out of its typings: a timeout in ms, and a context whose 'cancel' event aborts the request.
 */
interface RequestControl {
  timeout: number;
  ctx?: EventEmitter & { includeResponse: boolean };
}

interface HealthEntry {
  Service: { Address: string; Port: number };
  Node: { Address: string };
}

const REQUEST_TIMEOUT_MS = 5000;

function consulOptions(consulUrl: string): { host: string; port: number; secure: boolean } {
  const url = new URL(consulUrl);
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new Error(`CONSUL_URL must be http(s), got ${consulUrl}`);
  const secure = url.protocol === 'https:';
  return { host: url.hostname, port: url.port ? Number(url.port) : secure ? 443 : 80, secure };
}

interface AgentService {
  ID: string;
  Service: string;
  Address: string;
  Port: number;
}

function isAgentService(value: unknown): value is AgentService {
  const service = value as Partial<AgentService> | null;
  return (
    typeof service?.ID === 'string' &&
    typeof service.Service === 'string' &&
    typeof service.Address === 'string' &&
    typeof service.Port === 'number'
  );
}

function isHealthEntry(value: unknown): value is HealthEntry {
  const entry = value as Partial<HealthEntry> | null;
  return typeof entry?.Service?.Port === 'number' && typeof entry.Node === 'object';
}

/** With `includeResponse`, the package answers `[response, body]`: the index is only in a header. */
function parseHealthReply(service: string, reply: unknown): { endpoints: ServiceEndpoint[]; index: string } {
  const [response, entries] = Array.isArray(reply) ? (reply as unknown[]) : [];
  const headers = (response as { headers?: Record<string, unknown> } | undefined)?.headers;
  if (!headers || !Array.isArray(entries) || !entries.every(isHealthEntry))
    throw new Error(`consul answered an unexpected health reply for ${service}`);
  return {
    endpoints: entries.map((entry) => ({
      host: entry.Service.Address || entry.Node.Address,
      port: entry.Service.Port,
    })),
    index: String(headers['x-consul-index'] ?? '0'),
  };
}

function describeFailure(what: string, error: unknown): Error {
  return new Error(`consul ${what} failed: ${error instanceof Error ? error.message : String(error)}`, {
    cause: error,
  });
}

/** The few Consul agent and health calls we need, through the `consul` package. */
export class ConsulClient {
  private readonly consul: Consul;

  /** `consulUrl` is CONSUL_URL, e.g. `http://127.0.0.1:8500`. */
  constructor(consulUrl: string) {
    const options: ConstructorParameters<typeof Consul>[0] & RequestControl = {
      ...consulOptions(consulUrl),
      timeout: REQUEST_TIMEOUT_MS,
    };
    this.consul = new Consul(options);
  }

  async register(registration: ServiceRegistration): Promise<void> {
    await this.registerWithCheck(registration, 'grpc-health', 'grpc.health.v1', {
      grpc: `${registration.address}:${registration.port}`,
      grpcusetls: false,
    });
  }

  /** The gateway speaks HTTP: Consul probes its /healthz instead. */
  async registerHttp(registration: ServiceRegistration, healthUrl: string): Promise<void> {
    await this.registerWithCheck(registration, 'http-health', 'GET /healthz', { http: healthUrl });
  }

  /** Whether this agent holds the registration (an agent that restarted has forgotten it). */
  async isRegistered(serviceId: string): Promise<boolean> {
    const services = await this.consul.agent.service.list().catch((error: unknown) => {
      throw describeFailure('service list', error);
    });
    return Object.prototype.hasOwnProperty.call(services, serviceId);
  }

  /** Ids of the registrations this agent holds for `name` at exactly `address`:`port`. */
  async registrationsAt(name: string, address: string, port: number): Promise<string[]> {
    const services: unknown = await this.consul.agent.service.list().catch((error: unknown) => {
      throw describeFailure('service list', error);
    });
    return Object.values(services as Record<string, unknown>)
      .filter(isAgentService)
      .filter((service) => service.Service === name && service.Address === address && service.Port === port)
      .map((service) => service.ID);
  }

  async deregister(serviceId: string): Promise<void> {
    await this.consul.agent.service.deregister(serviceId).catch((error: unknown) => {
      throw describeFailure(`deregister of ${serviceId}`, error);
    });
  }

  /**
   * Passing instances of a service. With `index`, a blocking query: Consul answers when the list
   * changes or after `waitSeconds`, so watching costs one open request, not polling. Aborting
   * `signal` ends the open request at once.
   */
  async passingInstances(
    service: string,
    options: { tag?: string; index?: string; waitSeconds?: number; signal?: AbortSignal } = {},
  ): Promise<{ endpoints: ServiceEndpoint[]; index: string }> {
    const { signal } = options;
    signal?.throwIfAborted();
    const ctx = Object.assign(new EventEmitter(), { includeResponse: true });
    const cancel = () => ctx.emit('cancel');
    signal?.addEventListener('abort', cancel, { once: true });
    const waitSeconds = options.waitSeconds ?? 30;
    const query: {
      service: string;
      passing: true;
      tag?: string;
      index?: string;
      wait?: string;
    } & RequestControl = {
      service,
      passing: true,
      ctx,
      // Consul stretches a wait by up to 1/16 to spread wake-ups; later than that, it is not answering.
      timeout: options.index ? waitSeconds * 1100 + 1000 : REQUEST_TIMEOUT_MS,
      // The package sends `index` and `wait` whenever the keys exist, so only set them to block.
      ...(options.index ? { index: options.index, wait: `${waitSeconds}s` } : {}),
      ...(options.tag ? { tag: options.tag } : {}),
    };
    try {
      const reply: unknown = await this.consul.health.service(query);
      return parseHealthReply(service, reply);
    } catch (error) {
      throw signal?.aborted ? error : describeFailure(`health query for ${service}`, error);
    } finally {
      signal?.removeEventListener('abort', cancel);
    }
  }

  private async registerWithCheck(
    registration: ServiceRegistration,
    checkKind: string,
    checkName: string,
    probe: CheckProbe,
  ): Promise<void> {
    await this.consul.agent.service
      .register({
        id: registration.id,
        name: registration.name,
        tags: registration.tags,
        address: registration.address,
        port: registration.port,
        ...(registration.meta ? { meta: registration.meta } : {}),
        check: {
          checkid: `${registration.id}:${checkKind}`,
          name: checkName,
          ...probe,
          // Registration comes after the server is serving: it is passing until a check says not.
          status: 'passing',
          interval: `${registration.checkIntervalSeconds}s`,
          timeout: `${Math.max(1, registration.checkIntervalSeconds)}s`,
          deregistercriticalserviceafter: `${registration.deregisterCriticalAfterSeconds}s`,
        },
      })
      .catch((error: unknown) => {
        throw describeFailure(`registration of ${registration.id}`, error);
      });
  }
}
