import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import type { RouteContext } from '../route-context';
import type { Backends } from '../backends';
import { toMenuItemJson } from '../mappers';
import { BACKEND_ERRORS, DEGRADED_HEADER, errorResponses, ItemParams, MenuSchema } from '../schemas';
import type { Static } from '@sinclair/typebox';
import { Type } from '@sinclair/typebox';

/**
 * Live availability per item id, or undefined when stock cannot answer: the menu is then served
 * without it (a fallback, not an error).
 */
export async function readAvailability(
  stock: Backends['stock'],
  itemIds: string[],
  log: FastifyBaseLogger,
): Promise<Map<string, number> | undefined> {
  try {
    const { items } = await stock.getAvailability({ itemIds });
    return new Map(items.map((item) => [item.itemId, item.available]));
  } catch (error) {
    log.warn({ err: error }, 'stock unreachable: serving the menu without availability');
    return undefined;
  }
}

export async function menuRoutes(app: FastifyInstance, { backends }: RouteContext) {
  app.get(
    '/v1/menu',
    {
      schema: {
        tags: ['menu'],
        summary: 'The menu with live availability',
        response: {
          200: { ...MenuSchema, headers: DEGRADED_HEADER },
          ...errorResponses(...BACKEND_ERRORS),
        },
      },
    },
    async (request, reply) => {
      const [menu, availability] = await Promise.all([
        backends.menu.listItems({}),
        readAvailability(backends.stock, [], request.log),
      ]);
      if (!availability) reply.header('x-degraded', 'stock');
      return {
        items: menu.items.map((item) =>
          toMenuItemJson(item, availability ? (availability.get(item.id) ?? 0) : null),
        ),
      };
    },
  );

  app.get<{ Params: Static<typeof ItemParams> }>(
    '/v1/menu/:itemId',
    {
      schema: {
        tags: ['menu'],
        summary: 'One menu item with live availability',
        params: ItemParams,
        response: {
          200: { ...Type.Ref('MenuItem'), headers: DEGRADED_HEADER },
          ...errorResponses(400, 404, ...BACKEND_ERRORS),
        },
      },
    },
    async (request, reply) => {
      const { itemId } = request.params;
      const [item, availability] = await Promise.all([
        backends.menu.getItem({ id: itemId }),
        readAvailability(backends.stock, [itemId], request.log),
      ]);
      if (!availability) reply.header('x-degraded', 'stock');
      return toMenuItemJson(item, availability ? (availability.get(itemId) ?? 0) : null);
    },
  );
}
