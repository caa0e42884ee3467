import type { FastifyRequest } from 'fastify';
import type { TObject } from '@sinclair/typebox';

const INTEGER = /^-?\d{1,15}$/;
const NUMBER = /^-?\d{1,15}(\.\d+)?$/;

/**
 * Query strings are text: this converts the route's integer and number parameters (`limit=20` →
 * 20) before validation, strictly — `limit=1.5` or `limit=abc` stay strings and fail validation
 * with a 400. Bodies are never coerced.
 */
export function coerceQuery(schema: TObject) {
  const numeric = Object.entries(schema.properties).flatMap(([name, property]) =>
    property.type === 'integer'
      ? [[name, INTEGER] as const]
      : property.type === 'number'
        ? [[name, NUMBER] as const]
        : [],
  );
  return async (request: FastifyRequest) => {
    const query = { ...(request.query as Record<string, unknown>) };
    for (const [name, pattern] of numeric) {
      const value = query[name];
      if (typeof value === 'string' && pattern.test(value)) query[name] = Number(value);
    }
    request.query = query;
  };
}
