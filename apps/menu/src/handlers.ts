import { randomUUID } from 'node:crypto';
import type { MenuServiceService } from '@oms/contracts';
import { notFound, type UnaryHandlers } from '@oms/rpc';
import { validateMenuItem } from './menu-rules';
import type { MenuStore } from './menu-store';

export function menuHandlers(store: MenuStore): UnaryHandlers<typeof MenuServiceService> {
  return {
    listItems: async () => ({ items: await store.list() }),
    getItem: async ({ id }) => {
      const [item] = await store.find([id]);
      if (!item) throw notFound(`menu item ${id} not found`);
      return item;
    },
    getItems: async ({ ids }) => {
      const unique = [...new Set(ids)];
      const items = await store.find(unique);
      const found = new Set(items.map((item) => item.id));
      return { items, missingIds: unique.filter((id) => !found.has(id)) };
    },
    upsertItem: async (request) =>
      store.upsert(validateMenuItem(request, () => `item-${randomUUID().slice(0, 8)}`)),
  };
}
