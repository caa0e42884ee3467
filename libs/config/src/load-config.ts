import type { Static, TObject, TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';

/** Thrown at start-up with every offending variable at once, so one fix-and-retry loop is enough. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(
      `invalid configuration (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n  - ${problems.join('\n  - ')}`,
    );
    this.name = 'ConfigError';
  }
}

function describe(schema: TSchema): string {
  if (schema.anyOf)
    return `one of ${(schema.anyOf as TSchema[]).map((s) => JSON.stringify(s.const)).join(', ')}`;
  if (schema.type === 'integer') {
    const range = [schema.minimum, schema.maximum].every((n) => n !== undefined)
      ? ` ${schema.minimum}..${schema.maximum}`
      : '';
    return `an integer${range}`;
  }
  if (schema.type === 'boolean') return 'true or false';
  if (schema.pattern) return `a string matching ${schema.pattern}`;
  return schema.description ?? `a ${String(schema.type)}`;
}

/**
 * Reads the variables named by `schema` from `env`, applies defaults, converts numbers and booleans,
 * and validates. Secrets are never echoed in messages (only their names).
 */
export function loadConfig<T extends TObject>(schema: T, env: NodeJS.ProcessEnv = process.env): Static<T> {
  const raw: Record<string, unknown> = {};
  for (const key of Object.keys(schema.properties)) {
    const value = env[key];
    if (value !== undefined && value !== '') raw[key] = value;
  }
  const value = Value.Convert(schema, Value.Default(schema, structuredClone(raw)));
  const problems = new Map<string, string>();
  for (const error of Value.Errors(schema, value)) {
    const key = error.path.replace(/^\//, '').split('/')[0] || '(root)';
    if (problems.has(key)) continue;
    const property = schema.properties[key] as TSchema | undefined;
    if (raw[key] === undefined) {
      problems.set(key, `${key} is required (${property ? describe(property) : 'missing'})`);
    } else {
      const shown = property?.secret ? '<redacted>' : JSON.stringify(raw[key]);
      problems.set(key, `${key} must be ${property ? describe(property) : error.message} (got ${shown})`);
    }
  }
  if (problems.size > 0) throw new ConfigError([...problems.values()]);
  return value as Static<T>;
}

/** Production must never run with the well-known local secrets that make the stack work out of the box. */
export function refuseLocalDefaultsInProduction(
  config: { NODE_ENV: string },
  localDefaults: Record<string, string>,
  env: NodeJS.ProcessEnv = process.env,
): void {
  if (config.NODE_ENV !== 'production') return;
  const problems = Object.entries(localDefaults)
    .filter(([name, localValue]) => env[name] === undefined || env[name] === '' || env[name] === localValue)
    .map(([name]) => `${name} must be set explicitly in production (the local default is refused)`);
  if (problems.length > 0) throw new ConfigError(problems);
}
