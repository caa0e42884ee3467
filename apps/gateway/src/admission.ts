import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Admission } from '@oms/rpc';
import { HttpError } from './http-errors';

/**
 * The gateway's admission control: reads and writes each have their own limit (a create costs a
 * hundred times a get, and must not starve them). A request beyond its limit is answered at once
 * with 503 and `retry-after: 1` instead of queueing behind work the system cannot finish in time.
 */
export interface GatewayAdmission {
  reads: Admission;
  writes: Admission;
  /** Called for each refused request (metrics); refusals are not logged one by one. */
  onRefused?: (scope: 'reads' | 'writes') => void;
}

/** Probes, scrapes and the API description are never refused: they are how overload is seen. */
const ADMITTED_PATHS = /^\/v1\//;

const refused = new WeakSet<FastifyRequest>();

/** True for a request refused at capacity: counted in metrics, not logged one by one. */
export const wasRefused = (request: FastifyRequest) => refused.has(request);

export const atCapacity = () =>
  new HttpError(503, 'unavailable', 'the service is at capacity, retry later', undefined, {
    'retry-after': '1',
  });

export function registerAdmission(
  app: FastifyInstance,
  admission: GatewayAdmission,
  refuse: (error: HttpError, request: FastifyRequest, reply: FastifyReply) => unknown,
): void {
  app.addHook('onRequest', async (request, reply) => {
    if (!ADMITTED_PATHS.test(request.url)) return;
    const scope = request.method === 'GET' || request.method === 'HEAD' ? 'reads' : 'writes';
    const release = admission[scope].tryAcquire();
    if (!release) {
      admission.onRefused?.(scope);
      refused.add(request);
      return refuse(atCapacity(), request, reply);
    }
    // 'close' fires for every ending: answered, failed, or abandoned by the client.
    reply.raw.once('close', () => release(reply.statusCode === 504 ? 'dropped' : 'ok'));
  });
}
