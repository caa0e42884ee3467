import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import { setOrderId } from '@oms/telemetry';
import type { RouteContext } from '../route-context';
import { HttpError } from '../http-errors';
import { BACKEND_ERRORS, errorResponses } from '../schemas';
import { assertStripeEventShape, parseWebhookBody } from '../stripe-event';

/** The order an event names, to tag the span with once the event is verified. */
function orderIdOf(event: unknown): string | undefined {
  const orderId = (event as { data?: { object?: { metadata?: { orderId?: unknown } } } } | undefined)?.data
    ?.object?.metadata?.orderId;
  return typeof orderId === 'string' ? orderId : undefined;
}

/**
 * Stripe's webhook. The signature covers the exact bytes Stripe sent, so this scope keeps the body
 * as a Buffer (never logged) and hands it as it is to the payment service, which verifies it. A
 * JSON body that is not shaped like a Stripe event is refused here first (see stripe-event.ts).
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
          'signature is a 400 invalid_signature and changes nothing. A JSON body that is not shaped like a Stripe ' +
          'event where the system reads it (a text `id` and `type`; `data.object` with text or null `id`, ' +
          '`client_reference_id`, `currency`, `payment_status`, an integer or null `amount_total`, and string ' +
          '`metadata` values) is a 400 invalid_argument and changes nothing. Every accepted event, including a ' +
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
      const event = parseWebhookBody(rawBody);
      if (event !== undefined) assertStripeEventShape(event);
      const { received } = await backends.payment.handleStripeWebhook({ rawBody, signature });
      // Verified by now: tag the span with the order so Jaeger finds the payment path from here too.
      const orderId = orderIdOf(event);
      if (orderId) setOrderId(orderId);
      return { received };
    },
  );
}
