import Consul from 'consul';
import { SERVICE_PORTS, type ServiceName } from '@oms/service-kit';
import {
  breakerStates,
  figuresBetween,
  parsePrometheus,
  requestCounters,
  type InstanceFigures,
  type RequestCounters,
} from './prometheus';

/** The services the console shows: every one, in the order SERVICE_PORTS names them. */
export const CONSOLE_SERVICES = Object.keys(SERVICE_PORTS) as readonly ServiceName[];

/** The Consul registration meta key under which each instance publishes its METRICS_PORT. */
export const METRICS_PORT_META = 'metricsPort';

export interface InstanceJson {
  id: string;
  address: string;
  port: number;
  health: 'passing' | 'warning' | 'critical';
  checks: { name: string; status: string; output: string }[];
  metricsUrl: string | null;
  metrics: (InstanceFigures & { breakers: { target: string; state: string }[] }) | null;
  metricsError: string | null;
}

export interface ServiceHealthJson {
  name: string;
  instances: InstanceJson[];
}

interface HealthEntry {
  Service: { ID: string; Address: string; Port: number; Meta?: Record<string, string> | null };
  Node: { Address: string };
  Checks: { Name: string; Status: string; Output: string }[];
}

const isHealthEntry = (value: unknown): value is HealthEntry => {
  const entry = value as Partial<HealthEntry> | null;
  return (
    typeof entry?.Service?.ID === 'string' && Array.isArray(entry.Checks) && typeof entry.Node === 'object'
  );
};

const WORST_FIRST = ['critical', 'warning', 'passing'] as const;

/** The worst of an instance's checks, as Consul decides whether to hand it out. */
const healthOf = (checks: HealthEntry['Checks']) =>
  WORST_FIRST.find((status) => checks.some((check) => check.Status === status)) ?? 'passing';

/** How long a /metrics scrape may take before the instance is shown without figures. */
const SCRAPE_TIMEOUT_MS = 2000;

/**
 * Every instance of every service in this deployment, as Consul has it (failing ones included),
 * with figures from its own /metrics. Rates are over the time since the previous look at the same
 * instance (the console asks every few seconds), or since the process started the first time.
 */
export class ServiceHealth {
  private readonly consul: Consul;
  private readonly previous = new Map<string, RequestCounters>();

  constructor(
    consulUrl: string,
    private readonly tag: string,
  ) {
    const url = new URL(consulUrl);
    const secure = url.protocol === 'https:';
    this.consul = new Consul({ host: url.hostname, port: Number(url.port || (secure ? 443 : 80)), secure });
  }

  async services(): Promise<ServiceHealthJson[]> {
    const services = await Promise.all(
      CONSOLE_SERVICES.map(async (name) => {
        const entries: unknown[] = await this.consul.health.service({ service: name, tag: this.tag });
        const instances = await Promise.all(
          entries.filter(isHealthEntry).map((entry) => this.instance(entry)),
        );
        return { name, instances: instances.sort((a, b) => a.id.localeCompare(b.id)) };
      }),
    );
    // Instances that are gone are forgotten.
    const listed = new Set(services.flatMap(({ instances }) => instances.map((instance) => instance.id)));
    for (const id of this.previous.keys()) if (!listed.has(id)) this.previous.delete(id);
    return services;
  }

  private async instance({ Service, Node, Checks }: HealthEntry): Promise<InstanceJson> {
    const address = Service.Address || Node.Address;
    const metricsPort = Service.Meta?.[METRICS_PORT_META];
    const metricsUrl = metricsPort ? `http://${address}:${metricsPort}/metrics` : null;
    const base = {
      id: Service.ID,
      address,
      port: Service.Port,
      health: healthOf(Checks),
      checks: Checks.map((check) => ({ name: check.Name, status: check.Status, output: check.Output })),
      metricsUrl,
    };
    if (!metricsUrl) return { ...base, metrics: null, metricsError: 'no metrics port in its registration' };
    try {
      const response = await fetch(metricsUrl, { signal: AbortSignal.timeout(SCRAPE_TIMEOUT_MS) });
      if (!response.ok) throw new Error(`GET /metrics answered ${response.status}`);
      const samples = parsePrometheus(await response.text());
      const counters = requestCounters(samples, Date.now());
      const figures = figuresBetween(this.previous.get(Service.ID), counters);
      this.previous.set(Service.ID, counters);
      return { ...base, metrics: { ...figures, breakers: breakerStates(samples) }, metricsError: null };
    } catch (error) {
      return { ...base, metrics: null, metricsError: error instanceof Error ? error.message : String(error) };
    }
  }
}
