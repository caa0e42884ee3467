import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Admission } from '@oms/rpc';
import { HttpError } from './http-errors';

/**
 * The gateway's admission control: reads and writes each have their own limit (a create costs a
 * hundred times a get, and must not starve them). A request beyond its limit is answered at once
 * with 503 and a `retry-after` of 1 to 3 s instead of queueing behind work the system cannot
 * finish in time.
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

/**
 * 1, 2 or 3 seconds, at random. Clients refused together and told the same second come back
 * together and are refused together again: each such crowd is a burst the gateway answers one by
 * one, the last after all the others. Spread over three seconds, a crowd meets a third of itself.
 */
export const refusalRetryAfterSeconds = (random: () => number = Math.random): number =>
  1 + Math.floor(random() * 3);

export const atCapacity = () =>
  new HttpError(503, 'unavailable', 'the service is at capacity, retry later', undefined, {
    'retry-after': String(refusalRetryAfterSeconds()),
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
