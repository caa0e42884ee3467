import type { MenuItem, UpsertItemRequest } from '@oms/contracts';
import { ID, ID_PATTERN, invalid } from '@oms/domain';

const CURRENCY = /^[a-z]{3}$/;

/** Checks an item before it is stored; the gateway validates too, but a service trusts no caller. */
export function validateMenuItem(request: UpsertItemRequest, generateId: () => string): MenuItem {
  const problems: Record<string, unknown>[] = [];
  const id = request.id === '' ? generateId() : request.id;
  if (!ID.test(id)) problems.push({ field: 'id', problem: `must match ${ID_PATTERN}` });
  if (request.name.trim().length === 0 || request.name.length > 120)
    problems.push({ field: 'name', problem: '1..120 characters' });
  if (request.description.length > 1000)
    problems.push({ field: 'description', problem: 'at most 1000 characters' });
  if (
    !Number.isSafeInteger(request.priceCents) ||
    request.priceCents < 0 ||
    request.priceCents > 10_000_000
  ) {
    problems.push({ field: 'priceCents', problem: 'an integer 0..10000000' });
  }
  if (!CURRENCY.test(request.currency))
    problems.push({ field: 'currency', problem: 'a lowercase ISO currency' });
  if (problems.length > 0) throw invalid('invalid menu item', problems);
  return {
    id,
    name: request.name.trim(),
    description: request.description,
    priceCents: request.priceCents,
    currency: request.currency,
  };
}
