import { Server, ServerCredentials, type ServiceDefinition } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { ReflectionService } from '@grpc/reflection';
import { HealthImplementation } from 'grpc-health-check';
import { DeadLetterServiceService, PROTO_FILES, PROTO_ROOT } from '@oms/contracts';
import type { Logger } from '@oms/logging';
import type { MessageBus } from '@oms/messaging';
import { AdaptiveConcurrencyLimit } from '@oms/resilience';
import { unaryService, type UnaryHandlers } from '@oms/rpc';
import { isDatabaseUnavailable } from '@oms/persistence';
import { deadLetterHandlers } from './dead-letter-service';
import type { ServiceMetrics } from './metrics';

export interface GrpcServiceBinding {
  definition: ServiceDefinition;
  handlers: UnaryHandlers<ServiceDefinition>;
}

/** What the bootstrap needs of a listener: its port, and a drain that finishes calls in flight. */
export interface Listener {
  port: number;
  /** Health reports NOT_SERVING from now on; calls are still accepted until `close`. */
  markDraining(): void;
  close(): Promise<void>;
}

export interface AdmissionSettings {
  ADMISSION_LATENCY_TARGET_MS: number;
  ADMISSION_MAX_CONCURRENCY: number;
}

/**
 * The gRPC server of a service: its services, each method behind an admission limit, the dead
 * letters of its bus, the standard health service and reflection.
 */
export async function listenGrpc(options: {
  host: string;
  port: number;
  bindings: GrpcServiceBinding[];
  bus?: MessageBus;
  admission: AdmissionSettings;
  metrics: ServiceMetrics;
  logger: Logger;
  drainMs: number;
}): Promise<Listener> {
  const { metrics, logger } = options;
  const server = new Server({ 'grpc.max_receive_message_length': 4 * 1024 * 1024 });
  const bindings = [...options.bindings];
  // Every service that consumes events can show and replay its dead letters.
  if (options.bus)
    bindings.push({
      definition: DeadLetterServiceService,
      handlers: deadLetterHandlers(options.bus) as GrpcServiceBinding['handlers'],
    });
  for (const { definition, handlers } of bindings) {
    const admitted = unaryService(definition, handlers, logger, {
      observe: (method, code, seconds) => metrics.observeRpc(method, code, seconds),
      admission: (method) => {
        const limit = admissionLimit(options.admission);
        metrics.watchAdmission(method, () => limit.snapshot());
        return limit;
      },
      onRefused: (method) => metrics.observeRefused(method),
      unavailableWhen: isDatabaseUnavailable,
    });
    server.addService(definition, admitted);
  }
  const health = new HealthImplementation({ '': 'SERVING' });
  health.addToServer(server);
  new ReflectionService(loadSync(PROTO_FILES, { includeDirs: [PROTO_ROOT] })).addToServer(server);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`${options.host}:${options.port}`, ServerCredentials.createInsecure(), (error, bound) =>
      error ? reject(error) : resolve(bound),
    ),
  );
  return {
    port,
    markDraining: () => health.setStatus('', 'NOT_SERVING'),
    close: () => drain(server, options.drainMs, logger),
  };
}

/** Finishes the calls in flight, and cancels those still running after `drainMs`. */
function drain(server: Server, drainMs: number, logger: Logger): Promise<void> {
  return new Promise<void>((resolve) => {
    const force = setTimeout(() => {
      logger.warn({ drainMs }, 'drain timeout: cancelling remaining calls');
      server.forceShutdown();
      resolve();
    }, drainMs);
    server.tryShutdown(() => {
      clearTimeout(force);
      resolve();
    });
  });
}

/**
 * One method's admission limit. It starts at the maximum, so a burst the system can finish within
 * the latency target is served whole, and shrinks while calls take longer than the target: under
 * sustained overload it settles near throughput × target (Little's law), and the rest is refused.
 */
export function admissionLimit(config: AdmissionSettings): AdaptiveConcurrencyLimit {
  const max = config.ADMISSION_MAX_CONCURRENCY;
  return new AdaptiveConcurrencyLimit({
    initial: max,
    min: 4,
    max,
    latencyTargetMs: config.ADMISSION_LATENCY_TARGET_MS,
  });
}
