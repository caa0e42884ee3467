import { telemetry } from './instrument';
import type { AddressInfo } from 'node:net';
import type { Static } from '@sinclair/typebox';
import type { BaseServiceConfigType } from '@oms/config';
import { admissionLimit, runHttpService, type ServiceContext } from '@oms/service-kit';
import type { GatewayAdmission } from './admission';
import { buildApp } from './app';
import { connectBackends } from './backends';
import { GATEWAY_LOCAL_SECRETS, GatewayConfig } from './config';
import { MongoIdempotencyStore } from './idempotency-store';
import { consoleParts } from './console/console-parts';
import { raiseEventLoopPriority } from './cpu-priority';

/** How often expired idempotency keys are removed (FerretDB v1 has no TTL index). */
const IDEMPOTENCY_CLEANUP_MS = 5 * 60_000;

void runHttpService({
  name: 'gateway',
  telemetry,
  config: GatewayConfig,
  localSecrets: GATEWAY_LOCAL_SECRETS,
  async setup(context) {
    const { config, logger } = context;
    raiseEventLoopPriority(config.GATEWAY_NICE, logger);
    const idempotencyStore = await MongoIdempotencyStore.open(await context.database());
    const backends = connectBackends(context);
    const operationsConsole = consoleParts(context, backends);
    const app = await buildApp({
      logger,
      backends,
      idempotencyStore,
      idempotency: { ttlMs: config.IDEMPOTENCY_TTL_HOURS * 3_600_000 },
      adminToken: config.ADMIN_TOKEN,
      observeHttp: (route, method, statusCode, seconds) =>
        context.metrics.observeHttp(route, method, statusCode, seconds),
      readiness: { knownInstances: context.knownInstances, isShuttingDown: context.isShuttingDown },
      admission: gatewayAdmission(context),
      console: operationsConsole.parts,
    });
    context.every('idempotency key cleanup', IDEMPOTENCY_CLEANUP_MS, async () => {
      const deleted = await idempotencyStore.deleteExpired(new Date());
      logger.debug({ deleted }, 'expired idempotency keys deleted');
    });
    return {
      http: {
        listen: async (host, port) => {
          await app.listen({ host, port });
          return (app.server.address() as AddressInfo).port;
        },
        // Fastify stops accepting connections and finishes the requests in flight.
        close: () => app.close(),
      },
      onClose: () => operationsConsole.close(),
    };
  },
});

/** Reads and writes each get an adaptive limit with their own latency target. */
function gatewayAdmission({
  config,
  metrics,
}: ServiceContext<BaseServiceConfigType & Static<typeof GatewayConfig>>): GatewayAdmission {
  const limit = (scope: 'reads' | 'writes', latencyTargetMs: number) => {
    const admission = admissionLimit({ ...config, ADMISSION_LATENCY_TARGET_MS: latencyTargetMs });
    metrics.watchAdmission(`gateway ${scope}`, () => admission.snapshot());
    return admission;
  };
  return {
    reads: limit('reads', config.GATEWAY_READ_LATENCY_TARGET_MS),
    writes: limit('writes', config.GATEWAY_WRITE_LATENCY_TARGET_MS),
    onRefused: (scope) => metrics.observeRefused(`gateway ${scope}`),
  };
}
