import type { Collection, Document, Filter, WithId } from 'mongodb';

/**
 * Documents in one of `statuses` whose `dueField` date has passed, and the soonest one still to
 * come, so a sweeper can sleep until then. One equality query per status: an index on
 * (status, dueField) serves each one, on FerretDB v1 too, which pushes no `$in` down.
 */
export async function findDueByStatus<T extends Document>(
  collection: Collection<T>,
  options: { statuses: readonly string[]; dueField: string; now: Date; limit: number; projection?: Document },
): Promise<{ due: WithId<T>[]; nextDue?: Date }> {
  const { statuses, dueField, now, limit, projection } = options;
  const due: WithId<T>[] = [];
  let nextDue: Date | undefined;
  for (const status of statuses) {
    if (due.length < limit) {
      const filter = statusAnd<T>(status, dueField, { $lte: now });
      due.push(...(await collection.find(filter, { limit: limit - due.length, projection }).toArray()));
    }
    const [next] = await collection
      .find(statusAnd<T>(status, dueField, { $gt: now }), { projection: { [dueField]: 1 } })
      .sort({ [dueField]: 1 })
      .limit(1)
      .toArray();
    const at = next?.[dueField] as Date | undefined;
    if (at && (!nextDue || at < nextDue)) nextDue = at;
  }
  return { due, nextDue };
}

/** The field is named at run time, so the filter is typed by hand. */
const statusAnd = <T extends Document>(status: string, field: string, range: Document): Filter<T> =>
  ({ status, [field]: range }) as unknown as Filter<T>;
