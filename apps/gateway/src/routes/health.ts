import type { FastifyInstance } from 'fastify';
import type { RouteContext } from '../route-context';
import { OPTIONAL_BACKENDS, REQUIRED_BACKENDS } from '../backends';
import { HealthSchema, ReadySchema } from '../schemas';

/**
 * Liveness and readiness. Ready means: not shutting down, and at least one passing instance known
 * for each backend the core flow needs (order, menu, stock). Payment and kitchen are reported but
 * not required: without them the menu, orders and cancellations still work (payment links and
 * tickets catch up through events when they return).
 */
export async function healthRoutes(app: FastifyInstance, { readiness }: RouteContext) {
  app.get(
    '/healthz',
    {
      logLevel: 'warn',
      schema: {
        tags: ['health'],
        summary: 'Liveness: 200 while the process is up',
        response: { 200: HealthSchema },
      },
    },
    async () => ({ status: 'ok' as const }),
  );

  app.get(
    '/readyz',
    {
      logLevel: 'warn',
      schema: {
        tags: ['health'],
        summary: 'Readiness: order, menu and stock reachable (payment, kitchen reported, not required)',
        description:
          '503 with the failing dependencies (and an `error` object) when a required backend has no passing ' +
          'instance, and as soon as shutdown begins.',
        response: { 200: ReadySchema, 503: ReadySchema },
      },
    },
    async (_request, reply) => {
      const dependencies: Record<string, 'ok' | 'unavailable'> = {};
      for (const service of [...REQUIRED_BACKENDS, ...OPTIONAL_BACKENDS]) {
        dependencies[service] = (readiness.knownInstances(service) ?? 0) > 0 ? 'ok' : 'unavailable';
      }
      if (readiness.isShuttingDown()) {
        reply.code(503).header('retry-after', '1');
        return {
          status: 'shutting_down',
          dependencies,
          error: { code: 'unavailable', message: 'shutting down' },
        };
      }
      const failing = REQUIRED_BACKENDS.filter((service) => dependencies[service] !== 'ok');
      if (failing.length > 0) {
        reply.code(503).header('retry-after', '1');
        return {
          status: 'not_ready',
          dependencies,
          error: {
            code: 'unavailable',
            message: `not ready: no instance of ${failing.join(', ')}`,
            details: failing.map((dependency) => ({ dependency, status: 'unavailable' })),
          },
        };
      }
      return { status: 'ready', dependencies };
    },
  );
}
