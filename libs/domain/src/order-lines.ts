/**
 * The rules of an order's lines, written once: the gateway validates with them at the edge, and
 * order and stock apply them again because any caller may reach a service.
 */

/** Customer, item and menu ids: what may appear in a URL path and a document key. */
export const ID_PATTERN = '^[A-Za-z0-9_-]{1,64}$';
export const ID = new RegExp(ID_PATTERN);
export const MAX_LINES = 50;
/** Of one item in one order (the public API's cap). */
export const MAX_QUANTITY = 100;

export interface Line {
  itemId: string;
  quantity: number;
}

/** By UTF-16 code unit, the same in every process and locale (localeCompare is neither). */
export const byCodePoint = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** Lines with the same item are one line, sorted by item id. */
export function mergeLines(lines: readonly Line[]): Line[] {
  const quantities = new Map<string, number>();
  for (const line of lines) quantities.set(line.itemId, (quantities.get(line.itemId) ?? 0) + line.quantity);
  return [...quantities]
    .map(([itemId, quantity]) => ({ itemId, quantity }))
    .sort((a, b) => byCodePoint(a.itemId, b.itemId));
}

/**
 * Everything wrong with a list of lines, as `{field, problem}` details (empty when valid); the
 * merged quantity of an item counts, not each line's. Each service has its own quantity cap.
 */
export function lineProblems(
  lines: readonly Line[],
  { field = 'items', maxQuantity }: { field?: string; maxQuantity: number },
): Record<string, unknown>[] {
  const problems: Record<string, unknown>[] = [];
  if (lines.length < 1 || lines.length > MAX_LINES)
    problems.push({ field, problem: `1..${MAX_LINES} lines` });
  lines.forEach((line, index) => {
    if (!ID.test(line.itemId))
      problems.push({ field: `${field}[${index}].itemId`, problem: `must match ${ID_PATTERN}` });
    if (!Number.isSafeInteger(line.quantity) || line.quantity < 1 || line.quantity > maxQuantity)
      problems.push({ field: `${field}[${index}].quantity`, problem: `an integer 1..${maxQuantity}` });
  });
  if (problems.length > 0) return problems;
  for (const line of mergeLines(lines)) {
    if (line.quantity > maxQuantity)
      problems.push({ field, itemId: line.itemId, problem: `merged quantity over ${maxQuantity}` });
  }
  return problems;
}
