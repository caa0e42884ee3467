// Seeds the order service's database directly: copies of one real order document, read back from
// the database, each with a fresh _id, one of 5,000 customer ids and every date moved back by the
// same random offset (0–90 days), inserted with insertMany in batches of 1,000.
import { randomUUID } from 'node:crypto';
import { ObjectId, type Collection, type Document } from 'mongodb';

export const SEED_CUSTOMERS = 5_000;
export const SEED_BATCH = 1_000;
const NINETY_DAYS_MS = 90 * 24 * 3600 * 1000;

export interface SeededOrder {
  id: string;
  customerId: string;
}

/** Every Date in a document (however deep) moved by `offsetMs`; everything else copied. */
export function shiftDates<T>(value: T, offsetMs: number): T {
  if (value instanceof Date) return new Date(value.getTime() + offsetMs) as T;
  if (Array.isArray(value)) return value.map((v: unknown) => shiftDates(v, offsetMs)) as T;
  if (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, shiftDates(v, offsetMs)]),
    ) as T;
  }
  return value; // ObjectId, Decimal128, Binary, …: immutable, shared as they are
}

/** A copy of `template` as a different order of a different customer, placed earlier in time. */
export function copyOrder(template: Document, index: number, random = Math.random): Document {
  const copy = shiftDates(template, -Math.floor(random() * NINETY_DAYS_MS));
  const _id = typeof template._id === 'string' ? randomUUID() : new ObjectId();
  return { ...copy, _id, customerId: `seed-c${index % SEED_CUSTOMERS}` };
}

/** Inserts `count` copies; returns the (id, customer) of each and the insert rate. */
export async function seedOrders(
  orders: Collection<Document>,
  template: Document,
  count: number,
  firstIndex = 0,
): Promise<{ seeded: SeededOrder[]; seconds: number }> {
  const seeded: SeededOrder[] = [];
  const started = performance.now();
  for (let done = 0; done < count; done += SEED_BATCH) {
    const batch = Array.from({ length: Math.min(SEED_BATCH, count - done) }, (_, i) =>
      copyOrder(template, firstIndex + done + i),
    );
    await orders.insertMany(batch, { ordered: false });
    for (const doc of batch) seeded.push({ id: String(doc._id), customerId: doc.customerId as string });
    if ((done / SEED_BATCH) % 10 === 9) process.stdout.write(`  seeded ${done + batch.length}/${count}\r`);
  }
  return { seeded, seconds: (performance.now() - started) / 1000 };
}
