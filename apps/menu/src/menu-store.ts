import type { Collection, Db } from 'mongodb';
import type { MenuItem } from '@oms/contracts';

interface MenuItemDocument {
  _id: string;
  name: string;
  description: string;
  priceCents: number;
  currency: string;
  updatedAt: Date;
}

const toItem = (doc: MenuItemDocument): MenuItem => ({
  id: doc._id,
  name: doc.name,
  description: doc.description,
  priceCents: doc.priceCents,
  currency: doc.currency,
});

export class MenuStore {
  private constructor(private readonly items: Collection<MenuItemDocument>) {}

  static async open(db: Db): Promise<MenuStore> {
    return new MenuStore(db.collection<MenuItemDocument>('menu_items'));
  }

  async list(): Promise<MenuItem[]> {
    return (await this.items.find().sort({ _id: 1 }).toArray()).map(toItem);
  }

  async find(ids: string[]): Promise<MenuItem[]> {
    if (ids.length === 0) return [];
    return (await this.items.find({ _id: { $in: ids } }).toArray()).map(toItem);
  }

  /** Upsert by id: re-seeding or re-posting an item never duplicates it. */
  async upsert(item: MenuItem): Promise<MenuItem> {
    const { id, ...fields } = item;
    await this.items.updateOne({ _id: id }, { $set: { ...fields, updatedAt: new Date() } }, { upsert: true });
    return item;
  }
}
