import type { ServiceDefinition } from '@grpc/grpc-js';
import type { TObject } from '@sinclair/typebox';
import type { Db } from 'mongodb';
import type { BaseServiceConfigType } from '@oms/config';
import { ConsulClient, registerConsulResolver, ServiceCatalog } from '@oms/discovery';
import { createLogger, type Logger } from '@oms/logging';
import type { MessageBus } from '@oms/messaging';
import type { RpcClient } from '@oms/rpc';
import type { Telemetry } from '@oms/telemetry';
import { BackgroundLoops, type BackgroundLoop, type LoopRound, type LoopTiming } from './background-loops';
import { listenGrpc, type GrpcServiceBinding, type Listener } from './grpc-listener';
import { LazyDatabase } from './lazy-database';
import { ServiceMetrics } from './metrics';
import { RpcClients, type RpcClientOptions } from './rpc-clients';
import { loadServiceConfig, type ListenerKind, type ServiceConfig } from './service-config';
import { ServiceEvents, type ServiceMessaging } from './service-messaging';
import type { ServiceName } from './service-names';
import { ConsulRegistration, REGISTRATION_CHECK_MS } from './registration';
import { shutdownPlan, stopOnSignals } from './shutdown-plan';

/** What every service hands to the bootstrap beside its listener. */
export interface ServiceParts {
  /** Called when the service stops accepting work, after its background loops stopped. */
  onDrain?: () => Promise<void>;
  /** Called last, after in-flight work finished. */
  onClose?: () => Promise<void>;
}

export interface GrpcServiceParts extends ServiceParts {
  grpc: GrpcServiceBinding[];
}

/** The gateway's HTTP server; registered in Consul with an HTTP check on /healthz. */
export interface HttpServiceParts extends ServiceParts {
  http: { listen(host: string, port: number): Promise<number>; close(): Promise<void> };
}

export interface ServiceContext<C> {
  config: C;
  logger: Logger;
  instance: string;
  /** This service's own database (connected on first use). */
  database(): Promise<Db>;
  /** A client of another service, discovered through Consul, with the configured call policy. */
  client<D extends ServiceDefinition>(
    service: ServiceName,
    definition: D,
    options: RpcClientOptions<D>,
  ): RpcClient<D>;
  /** Passing instances known for a service right now (readiness checks). */
  knownInstances(service: ServiceName): number | undefined;
  /** Events over RabbitMQ: the bus (consume with bus.on; the inbox skips repeats) and the outbox relay. */
  messaging: ServiceMessaging;
  /**
   * Runs `round` in the background, paced by `timing`, until shutdown, which waits for the round
   * under way before the service's own drain. Rounds never overlap; a failed one is logged and retried.
   */
  every(name: string, timing: LoopTiming, round: LoopRound): BackgroundLoop;
  /** This service's Prometheus registry (served on METRICS_PORT at /metrics). */
  metrics: ServiceMetrics;
  /** True once shutdown began. */
  isShuttingDown(): boolean;
}

export interface ServiceSpec<S extends TObject, P extends ServiceParts> {
  name: ServiceName;
  telemetry: Telemetry;
  /** Variables of this service beyond the shared ones. */
  config?: S;
  /** Local-only secrets that production refuses (name → local default). */
  localSecrets?: Record<string, string>;
  setup(context: ServiceContext<ServiceConfig<S>>): Promise<P>;
}

/** A gRPC service: its services on GRPC_HOST:GRPC_PORT, with health, reflection and admission. */
export function runGrpcService<S extends TObject>(spec: ServiceSpec<S, GrpcServiceParts>): Promise<void> {
  return run(spec, 'grpc', async (parts, foundation) =>
    listenGrpcService(parts, foundation, await foundation.events.startedBus()),
  );
}

/** An HTTP service (the gateway): its server on GATEWAY_HOST:GATEWAY_PORT. */
export function runHttpService<S extends TObject>(spec: ServiceSpec<S, HttpServiceParts>): Promise<void> {
  return run(spec, 'http', async ({ http }, { config, bindHost }) => {
    const port = await http.listen(bindHost, config.PORT);
    return { port, markDraining: () => undefined, close: () => http.close() };
  });
}

/** What the bootstrap built before the listener starts. */
interface Foundation {
  config: ServiceConfig<TObject>;
  bindHost: string;
  events: ServiceEvents;
  metrics: ServiceMetrics;
  logger: Logger;
}

function listenGrpcService(
  parts: GrpcServiceParts,
  { config, bindHost, metrics, logger }: Foundation,
  bus?: MessageBus,
): Promise<Listener> {
  return listenGrpc({
    host: bindHost,
    port: config.PORT,
    bindings: parts.grpc,
    bus,
    admission: config,
    metrics,
    logger,
    drainMs: config.SHUTDOWN_DRAIN_MS,
  });
}

async function run<S extends TObject, P extends ServiceParts>(
  spec: ServiceSpec<S, P>,
  kind: ListenerKind,
  listen: (parts: P, foundation: Foundation) => Promise<Listener>,
): Promise<void> {
  try {
    await startService(spec, kind, listen);
  } catch (error) {
    // One clear line instead of an unhandled rejection; the exit code tells supervisors it failed.
    process.stderr.write(
      `${spec.name}: failed to start: ${error instanceof Error ? error.message : String(error)}\n`,
    );
    await spec.telemetry.shutdown();
    process.exit(1);
  }
}

/**
 * The one bootstrap of every service: config, logging, clients, messaging and background loops
 * for the service's setup; then its listener, Consul registration, and a graceful shutdown.
 */
async function startService<S extends TObject, P extends ServiceParts>(
  spec: ServiceSpec<S, P>,
  kind: ListenerKind,
  listen: (parts: P, foundation: Foundation) => Promise<Listener>,
): Promise<void> {
  const { config, bindHost } = loadServiceConfig(spec.name, kind, spec);
  const { instance } = spec.telemetry.identity;
  const logger = createLogger({ service: spec.name, instance, level: config.LOG_LEVEL });
  const consul = new ConsulClient(config.CONSUL_URL);
  const deploymentTag = `env-${config.OMS_ENV}`;
  const catalog = new ServiceCatalog(consul, deploymentTag, logger);
  registerConsulResolver(catalog);

  const metrics = new ServiceMetrics(spec.name);
  const loops = new BackgroundLoops(logger);
  const database = new LazyDatabase({
    url: config.MONGO_URL,
    service: spec.name,
    deployment: config.OMS_ENV,
  });
  const events = new ServiceEvents(spec.name, config, {
    logger,
    metrics,
    loops,
    database: () => database.db(),
  });
  const clients = new RpcClients(config, catalog, metrics, logger);
  let shuttingDown = false;
  const parts = await spec.setup({
    config,
    logger,
    instance,
    database: () => database.db(),
    client: (service, definition, options) => clients.client(service, definition, options),
    knownInstances: (service) => catalog.current(service)?.length,
    messaging: events,
    every: (name, timing, round) => loops.every(name, timing, round),
    metrics,
    isShuttingDown: () => shuttingDown,
  });

  const listener = await listen(parts, { config, bindHost, events, metrics, logger });
  const metricsPort = await metrics.listen(bindHost, config.METRICS_PORT);
  const registration = new ConsulRegistration(
    consul,
    kind,
    {
      id: instance,
      name: spec.name,
      tags: [deploymentTag],
      address: config.ADVERTISE_HOST,
      port: listener.port,
      meta: { metricsPort: String(metricsPort) },
    },
    logger,
  );
  await registration.register();
  loops.every('consul registration', REGISTRATION_CHECK_MS, () => registration.keep());
  logStarted(logger, config, { port: listener.port, metricsPort, tag: deploymentTag, name: spec.name });

  const steps = shutdownPlan({
    config,
    logger,
    markDraining: () => {
      shuttingDown = true;
      listener.markDraining();
    },
    deregister: () => registration.deregister(),
    stopLoops: () => loops.stop(),
    drainService: async () => parts.onDrain?.(),
    stopEvents: () => events.stop(),
    closeListener: () => listener.close(),
    closeService: async () => parts.onClose?.(),
    closeConnections: async () => {
      catalog.close();
      clients.close();
      await metrics.close();
      await database.close();
    },
    flushTelemetry: () => spec.telemetry.shutdown(),
  });
  stopOnSignals(steps, logger);
}

/** Start and stop are always logged (unless silent): supervisors and the test harness wait for them. */
function logStarted(
  logger: Logger,
  config: BaseServiceConfigType,
  started: { port: number; metricsPort: number; tag: string; name: string },
): void {
  const lifecycleLog = config.LOG_LEVEL === 'silent' ? logger : logger.child({}, { level: 'info' });
  lifecycleLog.info(
    { port: started.port, metricsPort: started.metricsPort, consul: config.CONSUL_URL, tag: started.tag },
    `${started.name} started`,
  );
}
