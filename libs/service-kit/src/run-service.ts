import { Server, ServerCredentials, type ServiceDefinition } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { ReflectionService } from '@grpc/reflection';
import { HealthImplementation } from 'grpc-health-check';
import { Type, type Static, type TObject } from '@sinclair/typebox';
import { BaseServiceConfig, loadConfig, refuseLocalDefaultsInProduction, ConfigError } from '@oms/config';
import { PROTO_FILES, PROTO_ROOT } from '@oms/contracts';
import { ConsulClient, registerConsulResolver, ServiceCatalog, consulTarget } from '@oms/discovery';
import { createLogger, type Logger } from '@oms/logging';
import { connectDatabase, type Database } from '@oms/persistence';
import { AdaptiveConcurrencyLimit, createTargetPolicy, type TargetPolicy } from '@oms/resilience';
import { createRpcClient, unaryService, type RpcClient, type UnaryHandlers } from '@oms/rpc';
import type { Telemetry } from '@oms/telemetry';
import { shutdownInOrder, type ShutdownStep } from './shutdown';
import { ServiceMetrics } from './metrics';
import { SERVICE_PORTS, type ServiceName } from './service-names';
import type { Collection, Db, Document } from 'mongodb';
import { Inbox, MessageBus, OutboxRelay, type OutboxHandOff } from '@oms/messaging';
import { deadLetterHandlers } from './dead-letter-service';
import { InboxRetention } from './inbox-retention';

/** How often each inbox forgets records older than INBOX_RETENTION_HOURS. */
const INBOX_CLEANUP_INTERVAL_MS = 3_600_000;
import { DeadLetterServiceService } from '@oms/contracts';

export interface GrpcServiceBinding {
  definition: ServiceDefinition;
  handlers: UnaryHandlers<ServiceDefinition>;
}

/** What a service hands to the bootstrap. */
export interface ServiceParts {
  grpc?: GrpcServiceBinding[];
  /** For the gateway: an HTTP listener; registered in Consul with an HTTP check on /healthz. */
  http?: { listen(host: string, port: number): Promise<number>; close(): Promise<void> };
  /** Called when the service stops accepting work (before connections close). */
  onDrain?: () => Promise<void>;
  /** Called last, after in-flight work finished. */
  onClose?: () => Promise<void>;
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
    options: { idempotent: readonly (keyof D)[]; timeoutsMs?: Partial<Record<keyof D, number>> },
  ): RpcClient<D>;
  /** Passing instances known for a service right now (readiness checks). */
  knownInstances(service: ServiceName): number | undefined;
  /** Events over RabbitMQ: the bus (consume with bus.on, applied once through the inbox) and the outbox relay. */
  messaging: ServiceMessaging;
  /** This service's Prometheus registry (served on METRICS_PORT at /metrics). */
  metrics: ServiceMetrics;
  /** True once shutdown began. */
  isShuttingDown(): boolean;
}

export interface ServiceMessaging {
  /**
   * The service's message bus, connected on first use and closed on shutdown. `bus.on(type,
   * isPayload, handler)` consumes an event, applied at most once (this service's `inbox`).
   */
  bus(): Promise<MessageBus>;
  /**
   * Publishes the events staged in this collection's documents (see stageEvents): those a store
   * hands off after its write at once, the rest (after a crash or a broker outage) by polling.
   */
  relayOutbox<T extends Document>(collection: Collection<T>): OutboxHandOff;
}

export interface ServiceSpec<S extends TObject> {
  name: ServiceName;
  telemetry: Telemetry;
  /** Variables of this service beyond the shared ones. */
  config?: S;
  /** Local-only secrets that production refuses (name → local default). */
  localSecrets?: Record<string, string>;
  setup(
    context: ServiceContext<Static<typeof BaseServiceConfig> & Static<S> & { PORT: number }>,
  ): Promise<ServiceParts>;
}

const EmptyConfig = Type.Object({});

/**
 * The one bootstrap of every service: config, logging, the gRPC server with health and
 * reflection (or the gateway's HTTP server), Consul registration and graceful shutdown.
 */
export async function runService<S extends TObject>(spec: ServiceSpec<S>): Promise<void> {
  try {
    await startService(spec);
  } catch (error) {
    // One clear line instead of an unhandled rejection; the exit code tells supervisors it failed.
    process.stderr.write(
      `${spec.name}: failed to start: ${error instanceof Error ? error.message : String(error)}\n`,
    );
    await spec.telemetry.shutdown();
    process.exit(1);
  }
}

async function startService<S extends TObject>(spec: ServiceSpec<S>): Promise<void> {
  const portVariable = spec.name === 'gateway' ? 'GATEWAY_PORT' : 'GRPC_PORT';
  const hostVariable = spec.name === 'gateway' ? 'GATEWAY_HOST' : 'GRPC_HOST';
  const schema = Type.Composite([
    BaseServiceConfig,
    spec.config ?? EmptyConfig,
    Type.Object({
      [portVariable]: Type.Integer({ minimum: 0, maximum: 65535, default: SERVICE_PORTS[spec.name] }),
      [hostVariable]: Type.String({ minLength: 1, default: '127.0.0.1' }),
    }),
  ]);
  let rawConfig: Record<string, unknown>;
  try {
    rawConfig = loadConfig(schema) as Record<string, unknown>;
    refuseLocalDefaultsInProduction(rawConfig as { NODE_ENV: string }, spec.localSecrets ?? {});
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${spec.name}: ${error.message}\n`);
      process.exit(78); // EX_CONFIG
    }
    throw error;
  }
  const base = rawConfig as Static<typeof BaseServiceConfig>;
  const config = { ...rawConfig, PORT: rawConfig[portVariable] as number } as Static<
    typeof BaseServiceConfig
  > &
    Static<S> & { PORT: number };
  const bindHost = rawConfig[hostVariable] as string;
  const { instance } = spec.telemetry.identity;
  const logger = createLogger({ service: spec.name, instance, level: base.LOG_LEVEL });

  const consul = new ConsulClient(base.CONSUL_URL);
  const deploymentTag = `env-${base.OMS_ENV}`;
  const catalog = new ServiceCatalog(consul, deploymentTag, logger);
  registerConsulResolver(catalog);

  let databaseConnection: Promise<Database> | undefined;
  const policies = new Map<string, TargetPolicy>();
  const clients: RpcClient<ServiceDefinition>[] = [];
  let shuttingDown = false;
  const metrics = new ServiceMetrics(spec.name);
  let bus: Promise<MessageBus> | undefined;
  const relays: OutboxRelay[] = [];
  const inboxes = new InboxRetention((consumer) => database().then((db) => Inbox.open(db, consumer)), {
    retentionMs: base.INBOX_RETENTION_HOURS * 3_600_000,
    intervalMs: INBOX_CLEANUP_INTERVAL_MS,
    logger,
  });
  const database = () => {
    // A failed first connection is forgotten, so the next use tries again instead of failing forever.
    databaseConnection ??= connectDatabase({
      url: base.MONGO_URL,
      service: spec.name,
      deployment: base.OMS_ENV,
    }).catch((error: unknown) => {
      databaseConnection = undefined;
      throw error;
    });
    return databaseConnection.then((connection) => connection.db);
  };
  const messaging: ServiceMessaging = {
    bus: () =>
      (bus ??= (async () => {
        const created = new MessageBus({
          url: base.AMQP_URL,
          deployment: base.OMS_ENV,
          service: spec.name,
          logger,
          metrics: metrics.registry,
          inbox: (consumer) => inboxes.inbox(consumer),
        });
        await created.start();
        return created;
      })()),
    relayOutbox: (collection) => {
      const relay = new OutboxRelay({
        collection: collection as unknown as Collection<Document>,
        bus: { publish: async (event) => (await messaging.bus()).publish(event) },
        logger,
        metrics: metrics.registry,
      });
      relays.push(relay);
      void messaging.bus().then(
        () => relay.start(),
        (error: unknown) => logger.error({ err: error }, 'no message bus: staged events wait in the outbox'),
      );
      return relay;
    },
  };

  const context: ServiceContext<typeof config> = {
    config,
    logger,
    instance,
    database,
    messaging,
    client: (service, definition, options) => {
      let policy = policies.get(service);
      if (!policy) {
        policy = createTargetPolicy({
          retryAttempts: base.RPC_RETRY_ATTEMPTS,
          breakerFailures: base.RPC_BREAKER_FAILURES,
          breakerHalfOpenMs: base.RPC_BREAKER_HALF_OPEN_MS,
          bulkheadLimit: base.RPC_BULKHEAD_LIMIT,
          bulkheadQueue: base.RPC_BULKHEAD_QUEUE,
          onBreakerStateChange: (state) => {
            metrics.setBreakerState(service, state);
            logger.warn({ target: service, state }, 'circuit breaker state changed');
          },
        });
        policies.set(service, policy);
        metrics.setBreakerState(service, 'closed');
      }
      const client = createRpcClient(definition, {
        service,
        target: consulTarget(service),
        policy,
        defaultTimeoutMs: base.RPC_TIMEOUT_MS,
        hasInstances: () => catalog.current(service)?.length !== 0,
        ...options,
      });
      clients.push(client as unknown as RpcClient<ServiceDefinition>);
      // Start watching now so the first call does not wait for discovery.
      catalog.subscribe(service, () => undefined);
      return client;
    },
    knownInstances: (service) => catalog.current(service)?.length,
    metrics,
    isShuttingDown: () => shuttingDown,
  };

  const parts = await spec.setup(context);

  let port: number;
  let health: HealthImplementation | undefined;
  let grpcServer: Server | undefined;
  if (parts.http) {
    port = await parts.http.listen(bindHost, config.PORT);
  } else {
    grpcServer = new Server({ 'grpc.max_receive_message_length': 4 * 1024 * 1024 });
    const bindings = [...(parts.grpc ?? [])];
    // Every service that consumes events can show and replay its dead letters.
    if (bus)
      bindings.push({
        definition: DeadLetterServiceService,
        handlers: deadLetterHandlers(await bus) as GrpcServiceBinding['handlers'],
      });
    for (const binding of bindings) {
      grpcServer.addService(
        binding.definition,
        unaryService(binding.definition, binding.handlers, logger, {
          observe: (method, code, seconds) => metrics.observeRpc(method, code, seconds),
          admission: (method) => {
            const limit = admissionLimit(config);
            metrics.watchAdmission(method, () => limit.snapshot());
            return limit;
          },
          onRefused: (method) => metrics.observeRefused(method),
        }),
      );
    }
    health = new HealthImplementation({ '': 'SERVING' });
    health.addToServer(grpcServer);
    new ReflectionService(loadSync(PROTO_FILES, { includeDirs: [PROTO_ROOT] })).addToServer(grpcServer);
    port = await new Promise<number>((resolve, reject) =>
      grpcServer!.bindAsync(
        `${bindHost}:${config.PORT}`,
        ServerCredentials.createInsecure(),
        (error, bound) => (error ? reject(error) : resolve(bound)),
      ),
    );
  }

  const metricsPort = await metrics.listen(bindHost, base.METRICS_PORT);

  const registration = {
    id: instance,
    name: spec.name,
    tags: [deploymentTag],
    address: base.ADVERTISE_HOST,
    port,
    // Each check is a call into every instance (and work for Consul): once a second kept an idle
    // system busy. A crashed instance is skipped by clients at once anyway (its connection
    // breaks); the check catches the rest, such as a process that stopped answering.
    checkIntervalSeconds: 5,
    deregisterCriticalAfterSeconds: 30,
  };
  if (parts.http) {
    await consul.registerHttp(registration, `http://${base.ADVERTISE_HOST}:${port}/healthz`);
  } else {
    await consul.register(registration);
  }
  // Start and stop are always logged (unless silent): supervisors and the test harness wait for them.
  const lifecycleLog = base.LOG_LEVEL === 'silent' ? logger : logger.child({}, { level: 'info' });
  lifecycleLog.info(
    { port, metricsPort, consul: base.CONSUL_URL, tag: deploymentTag },
    `${spec.name} started`,
  );

  const steps: ShutdownStep[] = [
    {
      name: 'report NOT_SERVING',
      run: () => {
        shuttingDown = true;
        health?.setStatus('', 'NOT_SERVING');
      },
    },
    { name: 'deregister from Consul', run: () => consul.deregister(instance), timeoutMs: 2000 },
    {
      // Clients learn of the deregistration through their blocking queries within milliseconds;
      // until then they may still pick this instance, so keep accepting briefly.
      name: 'let clients see the deregistration',
      run: () => new Promise<void>((resolve) => setTimeout(resolve, base.SHUTDOWN_GRACE_MS)),
      timeoutMs: base.SHUTDOWN_GRACE_MS + 1000,
    },
    { name: 'stop background work', run: () => parts.onDrain?.(), timeoutMs: base.SHUTDOWN_DRAIN_MS },
    {
      name: 'stop consuming and relaying events',
      timeoutMs: base.SHUTDOWN_DRAIN_MS,
      run: async () => {
        await Promise.all([...relays.map((relay) => relay.stop()), inboxes.stop()]);
        if (bus) await (await bus).close();
      },
    },
    {
      name: 'finish in-flight calls',
      timeoutMs: base.SHUTDOWN_DRAIN_MS + 1000,
      run: async () => {
        if (parts.http) return parts.http.close();
        const server = grpcServer!;
        await new Promise<void>((resolve) => {
          const force = setTimeout(() => {
            logger.warn({ drainMs: base.SHUTDOWN_DRAIN_MS }, 'drain timeout: cancelling remaining calls');
            server.forceShutdown();
            resolve();
          }, base.SHUTDOWN_DRAIN_MS);
          server.tryShutdown(() => {
            clearTimeout(force);
            resolve();
          });
        });
      },
    },
    { name: 'close service resources', run: () => parts.onClose?.(), timeoutMs: 5000 },
    {
      name: 'close connections',
      run: async () => {
        catalog.close();
        for (const client of clients) client.close();
        await metrics.close();
        if (databaseConnection) await (await databaseConnection).close();
      },
      timeoutMs: 5000,
    },
    { name: 'flush telemetry', run: () => spec.telemetry.shutdown(), timeoutMs: 3000 },
  ];

  let stopping: Promise<void> | undefined;
  const stop = (signal: string) => {
    stopping ??= (async () => {
      logger.info({ signal }, 'shutting down');
      const { failed } = await shutdownInOrder(steps, logger);
      logger.info({ failed }, 'stopped');
      process.exit(0);
    })();
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}

/**
 * One method's admission limit. It starts at the maximum, so a burst the system can finish within
 * the latency target is served whole, and shrinks while calls take longer than the target: under
 * sustained overload it settles near throughput × target (Little's law), and the rest is refused.
 */
export function admissionLimit(config: {
  ADMISSION_LATENCY_TARGET_MS: number;
  ADMISSION_MAX_CONCURRENCY: number;
}): AdaptiveConcurrencyLimit {
  const max = config.ADMISSION_MAX_CONCURRENCY;
  return new AdaptiveConcurrencyLimit({
    initial: max,
    min: 4,
    max,
    latencyTargetMs: config.ADMISSION_LATENCY_TARGET_MS,
  });
}
