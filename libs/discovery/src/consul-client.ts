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
}

interface HealthEntry {
  Service: { Address: string; Port: number };
  Node: { Address: string };
}

/** The few Consul HTTP API calls we need; plain fetch keeps them visible and dependency-free. */
export class ConsulClient {
  constructor(private readonly baseUrl: string) {}

  async register(registration: ServiceRegistration): Promise<void> {
    await this.request('PUT', '/v1/agent/service/register', {
      ID: registration.id,
      Name: registration.name,
      Tags: registration.tags,
      Address: registration.address,
      Port: registration.port,
      Check: {
        CheckID: `${registration.id}:grpc-health`,
        Name: 'grpc.health.v1',
        GRPC: `${registration.address}:${registration.port}`,
        GRPCUseTLS: false,
        // Registration comes after the server is serving: it is passing until a check says not.
        Status: 'passing',
        Interval: `${registration.checkIntervalSeconds}s`,
        Timeout: `${Math.max(1, registration.checkIntervalSeconds)}s`,
        DeregisterCriticalServiceAfter: `${registration.deregisterCriticalAfterSeconds}s`,
      },
    });
  }

  /** The gateway speaks HTTP: Consul probes its /healthz instead. */
  async registerHttp(registration: ServiceRegistration, healthUrl: string): Promise<void> {
    await this.request('PUT', '/v1/agent/service/register', {
      ID: registration.id,
      Name: registration.name,
      Tags: registration.tags,
      Address: registration.address,
      Port: registration.port,
      Check: {
        CheckID: `${registration.id}:http-health`,
        Name: 'GET /healthz',
        HTTP: healthUrl,
        Status: 'passing',
        Interval: `${registration.checkIntervalSeconds}s`,
        Timeout: `${Math.max(1, registration.checkIntervalSeconds)}s`,
        DeregisterCriticalServiceAfter: `${registration.deregisterCriticalAfterSeconds}s`,
      },
    });
  }

  async deregister(serviceId: string): Promise<void> {
    await this.request('PUT', `/v1/agent/service/deregister/${encodeURIComponent(serviceId)}`);
  }

  /**
   * Passing instances of a service. With `index`, a blocking query: Consul answers when the list
   * changes or after `waitSeconds`, so watching costs one open request, not polling.
   */
  async passingInstances(
    service: string,
    options: { tag?: string; index?: string; waitSeconds?: number; signal?: AbortSignal } = {},
  ): Promise<{ endpoints: ServiceEndpoint[]; index: string }> {
    const query = new URLSearchParams({ passing: 'true' });
    if (options.tag) query.set('tag', options.tag);
    if (options.index) {
      query.set('index', options.index);
      query.set('wait', `${options.waitSeconds ?? 30}s`);
    }
    const response = await fetch(
      `${this.baseUrl}/v1/health/service/${encodeURIComponent(service)}?${query}`,
      {
        signal: options.signal,
      },
    );
    if (!response.ok) throw new Error(`consul answered ${response.status} for ${service}`);
    const entries = (await response.json()) as HealthEntry[];
    return {
      endpoints: entries.map((entry) => ({
        host: entry.Service.Address || entry.Node.Address,
        port: entry.Service.Port,
      })),
      index: response.headers.get('x-consul-index') ?? '0',
    };
  }

  private async request(method: string, path: string, body?: unknown): Promise<void> {
    const response = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers: body ? { 'content-type': 'application/json' } : undefined,
      body: body ? JSON.stringify(body) : undefined,
      signal: AbortSignal.timeout(5000),
    });
    if (!response.ok)
      throw new Error(`consul ${method} ${path} answered ${response.status}: ${await response.text()}`);
  }
}
