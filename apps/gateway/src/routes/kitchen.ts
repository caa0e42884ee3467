import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { RouteContext } from '../route-context';
import { toTicketJson } from '../mappers';
import { coerceQuery } from '../query';
import {
  BACKEND_ERRORS,
  errorResponses,
  TicketSchema,
  TicketsQuery,
  type TicketsQueryType,
} from '../schemas';

export async function kitchenRoutes(app: FastifyInstance, { backends }: RouteContext) {
  app.get<{ Querystring: TicketsQueryType }>(
    '/v1/kitchen/tickets',
    {
      preValidation: coerceQuery(TicketsQuery),
      schema: {
        tags: ['kitchen'],
        summary: 'Kitchen tickets (one per paid order), optionally by status or order',
        querystring: TicketsQuery,
        response: {
          200: Type.Object({ tickets: Type.Array(TicketSchema) }),
          ...errorResponses(400, ...BACKEND_ERRORS),
        },
      },
    },
    async (request) => {
      const { tickets } = await backends.kitchen.listTickets({
        status: request.query.status ?? '',
        orderId: request.query.orderId ?? '',
      });
      return { tickets: tickets.map(toTicketJson) };
    },
  );
}
