/** Nested filter documents are shown to this depth; deeper ones are masked whole. */
const FILTER_DEPTH = 4;
const MASKED = '?';

type Fields = Record<string, unknown>;

const isPlainObject = (value: unknown): value is Fields => {
  if (typeof value !== 'object' || value === null) return false;
  const prototype = Object.getPrototypeOf(value) as unknown;
  return prototype === Object.prototype || prototype === null;
};

/** Field names and operators kept, every value masked (dates, ids and other BSON values too). */
function shapeOf(value: unknown, depth: number): unknown {
  if (depth === 0) return MASKED;
  if (Array.isArray(value)) return value.length === 0 ? [] : [shapeOf(value[0], depth - 1)];
  if (!isPlainObject(value)) return MASKED;
  const shape: Fields = {};
  for (const key of Object.keys(value)) shape[key] = shapeOf(value[key], depth - 1);
  return shape;
}

const firstStatement = (statements: unknown): Fields | undefined =>
  Array.isArray(statements) && isPlainObject(statements[0]) ? statements[0] : undefined;

/**
 * The `db.query.text` of a MongoDB span: the shape of the command's filter (which fields and
 * operators it asks by, no values), or for an inserted document its top-level fields. The
 * instrumentation's default masks values too, but walks and serialises the whole command, the
 * documents an insert or an update writes included, on every command of every service; the
 * filter is what a trace reader needs to see which query ran.
 */
export function mongoStatement(command: Fields): string {
  const filter =
    command['filter'] ??
    command['query'] ??
    firstStatement(command['updates'])?.['q'] ??
    firstStatement(command['deletes'])?.['q'];
  if (filter !== undefined) return JSON.stringify(shapeOf(filter, FILTER_DEPTH));
  return JSON.stringify(shapeOf(command, 1));
}
