import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import { setOrderId } from '@oms/telemetry';
import type { RouteContext } from '../route-context';
import { HttpError } from '../http-errors';
import { BACKEND_ERRORS, errorResponses } from '../schemas';

function orderIdOf(rawBody: Buffer): string | undefined {
  try {
    const event = JSON.parse(rawBody.toString('utf8')) as {
      data?: { object?: { metadata?: { orderId?: unknown } } };
    };
    const orderId = event.data?.object?.metadata?.orderId;
    return typeof orderId === 'string' ? orderId : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Stripe's webhook. The signature covers the exact bytes Stripe sent, so this scope keeps the body
 * as a Buffer (never parsed, never logged) and hands it to the payment service, which verifies it.
 */
export async function webhookRoutes(app: FastifyInstance, { backends }: RouteContext) {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_request, body, done) =>
    done(null, body),
  );

  app.post<{ Body: Buffer | undefined }>(
    '/v1/webhooks/stripe',
    {
      schema: {
        tags: ['webhooks'],
        summary: 'Stripe webhook (signed with Stripe-Signature)',
        description:
          'The raw body is verified against `Stripe-Signature` (tolerance 300 s). A bad, missing or stale ' +
          'signature is a 400 invalid_signature and changes nothing. Every accepted event, including a ' +
          'redelivered or unknown one, answers 200 {"received": true}.',
        headers: Type.Object({ 'stripe-signature': Type.Optional(Type.String()) }),
        response: {
          200: Type.Object({ received: Type.Boolean() }),
          ...errorResponses(400, 413, 415, ...BACKEND_ERRORS),
        },
      },
    },
    async (request) => {
      const signature = request.headers['stripe-signature'];
      if (typeof signature !== 'string' || signature === '') {
        throw new HttpError(400, 'invalid_signature', 'missing Stripe-Signature header');
      }
      const rawBody = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
      const { received } = await backends.payment.handleStripeWebhook({ rawBody, signature });
      // Verified by now: tag the span with the order so Jaeger finds the payment path from here too.
      const orderId = orderIdOf(rawBody);
      if (orderId) setOrderId(orderId);
      return { received };
    },
  );
}
