import { createServer, type Server } from 'node:http';
import {
  collectDefaultMetrics,
  Counter,
  Gauge,
  Histogram,
  Registry,
  type HistogramConfiguration,
} from 'prom-client';

/**
 * How often the event-loop lag is sampled. Each sample is a timer, and a blocked loop delays the
 * next one by as long as it was blocked, so one a second still sees every stall longer than a
 * second and most shorter ones; at 200 ms it woke every idle process five times a second.
 */
const EVENT_LOOP_SAMPLE_MS = 1000;

const BREAKER_VALUES: Record<string, number> = { closed: 0, half_open: 1, open: 2, isolated: 3 };

/** From 1 ms to 2.5 s: our calls' latency targets and deadlines lie inside it. */
const LATENCY_BUCKETS_SECONDS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

/** A request latency histogram in `registry`, over LATENCY_BUCKETS_SECONDS. */
function latencyHistogram<Label extends string>(
  registry: Registry,
  configuration: Omit<HistogramConfiguration<Label>, 'buckets' | 'registers'>,
): Histogram<Label> {
  return new Histogram({ ...configuration, buckets: LATENCY_BUCKETS_SECONDS, registers: [registry] });
}

/** The Prometheus metrics every service exposes, whatever it does. */
export class ServiceMetrics {
  readonly registry = new Registry();
  private readonly rpcRequests = new Counter({
    name: 'oms_rpc_server_requests_total',
    help: 'gRPC requests served, by method and status code',
    labelNames: ['method', 'code'] as const,
    registers: [this.registry],
  });
  private readonly rpcDuration = latencyHistogram(this.registry, {
    name: 'oms_rpc_server_duration_seconds',
    help: 'gRPC request latency, by method',
    labelNames: ['method'] as const,
  });
  private readonly breakerState = new Gauge({
    name: 'oms_rpc_client_breaker_state',
    help: 'Circuit breaker state per target service (0 closed, 1 half-open, 2 open)',
    labelNames: ['target'] as const,
    registers: [this.registry],
  });
  private readonly httpRequests = new Counter({
    name: 'oms_http_requests_total',
    help: 'HTTP requests served, by route, method and status',
    labelNames: ['route', 'method', 'status'] as const,
    registers: [this.registry],
  });
  private readonly httpDuration = latencyHistogram(this.registry, {
    name: 'oms_http_request_duration_seconds',
    help: 'HTTP request latency, by route',
    labelNames: ['route', 'method'] as const,
  });
  private readonly admissionRefused = new Counter({
    name: 'oms_admission_refused_total',
    help: 'Requests refused at capacity (503 / UNAVAILABLE overloaded), by scope',
    labelNames: ['scope'] as const,
    registers: [this.registry],
  });
  private readonly admissionLimits = new Map<string, () => { limit: number; inFlight: number }>();
  private readonly admissionLimit = new Gauge({
    name: 'oms_admission_limit',
    help: 'Current adaptive concurrency limit, by scope',
    labelNames: ['scope'] as const,
    registers: [this.registry],
    collect: () => {
      for (const [scope, read] of this.admissionLimits) this.admissionLimit.set({ scope }, read().limit);
    },
  });
  private server?: Server;

  constructor(service: string) {
    this.registry.setDefaultLabels({ service });
    // The event-loop lag histogram samples on a timer: prom-client's default (every 10 ms) wakes
    // an idle process 100 times a second, more than 1 % of a core per process for nothing.
    collectDefaultMetrics({ register: this.registry, eventLoopMonitoringPrecision: EVENT_LOOP_SAMPLE_MS });
  }

  observeRpc(method: string, code: string, seconds: number): void {
    this.rpcRequests.inc({ method, code });
    this.rpcDuration.observe({ method }, seconds);
  }

  observeHttp(route: string, method: string, statusCode: number, seconds: number): void {
    this.httpRequests.inc({ route, method, status: String(statusCode) });
    this.httpDuration.observe({ route, method }, seconds);
  }

  /** Reports an admission limit (its current value is read at each scrape). */
  watchAdmission(scope: string, read: () => { limit: number; inFlight: number }): void {
    this.admissionLimits.set(scope, read);
  }

  observeRefused(scope: string): void {
    this.admissionRefused.inc({ scope });
  }

  setBreakerState(target: string, state: string): void {
    this.breakerState.set({ target }, BREAKER_VALUES[state] ?? -1);
  }

  /** Serves GET /metrics on its own port (gRPC services have no HTTP server otherwise). */
  async listen(host: string, port: number): Promise<number> {
    this.server = createServer((request, response) => {
      if (request.url !== '/metrics') {
        response.writeHead(404).end();
        return;
      }
      this.registry.metrics().then(
        (body) => response.writeHead(200, { 'content-type': this.registry.contentType }).end(body),
        () => response.writeHead(500).end(),
      );
    });
    return new Promise((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(port, host, () => {
        const address = this.server!.address();
        resolve(typeof address === 'object' && address ? address.port : port);
      });
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
