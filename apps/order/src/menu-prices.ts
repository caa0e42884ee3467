import type { MenuItem } from '@oms/contracts';

/** What the cache needs of the menu service (its RPC client is one). */
export interface MenuReader {
  getItems(request: { ids: string[] }): Promise<{ items: MenuItem[] }>;
}

interface Entry {
  item: MenuItem;
  fetchedAt: number;
}

/**
 * The menu items orders are priced with, kept for `ttlMs`: pricing an order was a menu RPC and a
 * database read per order, for prices that change a few times a day. A price change reaches new
 * orders within `ttlMs`. An unknown id is never remembered, so a new item can be ordered as soon
 * as it is on the menu. Concurrent misses for the same items share one call.
 */
export class MenuPrices {
  private readonly entries = new Map<string, Entry>();
  private readonly inFlight = new Map<string, Promise<MenuItem[]>>();

  constructor(
    private readonly menu: MenuReader,
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** The known items among `ids` (unknown ones are left out, as the menu service does). */
  async items(ids: readonly string[]): Promise<MenuItem[]> {
    const now = this.now();
    const found: MenuItem[] = [];
    const missing: string[] = [];
    for (const id of ids) {
      const entry = this.entries.get(id);
      if (entry && now - entry.fetchedAt < this.ttlMs) found.push(entry.item);
      else missing.push(id);
    }
    if (missing.length === 0) return found;
    return [...found, ...(await this.fetch(missing))];
  }

  private fetch(ids: string[]): Promise<MenuItem[]> {
    const key = [...ids].sort().join('\u0000');
    const shared = this.inFlight.get(key);
    if (shared) return shared;
    const fetched = this.menu
      .getItems({ ids })
      .then(({ items }) => {
        const fetchedAt = this.now();
        if (this.ttlMs > 0) for (const item of items) this.entries.set(item.id, { item, fetchedAt });
        return items;
      })
      .finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, fetched);
    return fetched;
  }
}
