// Kubernetes' own OpenAPI document (api/openapi-spec/swagger.json of the k8s.io/kubernetes Go
// module, pinned below and fetched through the Go module proxy) turned into the standalone, strict
// JSON schemas kubeconform reads: one file per kind, every $ref inlined, no unknown fields.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** The Kubernetes release whose API the chart is validated against. */
export const KUBERNETES_VERSION = 'v1.36.3';

type Schema = { [key: string]: unknown };
interface GroupVersionKind {
  group: string;
  version: string;
  kind: string;
}

const cacheDir = () => join(process.env.OMS_CACHE_DIR ?? join(homedir(), '.cache/oms'), 'kubernetes-schemas');

/**
 * The folder of schemas for KUBERNETES_VERSION, made once per machine; kubeconform's
 * `-schema-location <folder>/{{ .ResourceKind }}{{ .KindSuffix }}.json` finds each kind in it.
 */
export function kubernetesSchemas(): string {
  const folder = join(cacheDir(), `${KUBERNETES_VERSION}-standalone-strict`);
  if (existsSync(join(folder, 'deployment-apps-v1.json'))) return folder;
  const download = execFileSync(
    'go',
    ['mod', 'download', '-json', `k8s.io/kubernetes@${KUBERNETES_VERSION}`],
    {
      encoding: 'utf8',
      env: { ...process.env, GOFLAGS: '-mod=mod' },
    },
  );
  const { Dir: moduleDir } = JSON.parse(download) as { Dir: string };
  const swagger = JSON.parse(readFileSync(join(moduleDir, 'api/openapi-spec/swagger.json'), 'utf8')) as {
    definitions: Record<string, Schema>;
  };
  const staging = `${folder}.${process.pid}.tmp`;
  mkdirSync(staging, { recursive: true });
  for (const [name, definition] of Object.entries(swagger.definitions)) {
    const kinds = (definition['x-kubernetes-group-version-kind'] ?? []) as GroupVersionKind[];
    for (const gvk of kinds) {
      const schema = standalone(swagger.definitions, name, gvk);
      writeFileSync(join(staging, schemaFileName(gvk)), JSON.stringify(schema));
    }
  }
  rmSync(folder, { recursive: true, force: true });
  renameSync(staging, folder);
  return folder;
}

/** kubeconform's file name for a kind: `deployment-apps-v1.json`, `configmap-v1.json`. */
export function schemaFileName({ group, version, kind }: GroupVersionKind): string {
  const groupPart = group ? `-${group.split('.')[0]!.toLowerCase()}` : '';
  return `${kind.toLowerCase()}${groupPart}-${version}.json`;
}

function standalone(definitions: Record<string, Schema>, name: string, gvk: GroupVersionKind): Schema {
  const schema = inline(definitions, definitions[name]!, [name]);
  const properties = (schema.properties ?? {}) as Record<string, Schema>;
  // A manifest of this kind names exactly this kind and version.
  properties.kind = { type: 'string', enum: [gvk.kind] };
  properties.apiVersion = { type: 'string', enum: [gvk.group ? `${gvk.group}/${gvk.version}` : gvk.version] };
  return { $schema: 'http://json-schema.org/draft-07/schema#', ...schema, properties };
}

/** A copy of `node` with every $ref replaced by its definition, strict about unknown fields. */
function inline(definitions: Record<string, Schema>, node: Schema, path: string[]): Schema {
  const ref = typeof node.$ref === 'string' ? node.$ref.replace('#/definitions/', '') : undefined;
  if (ref) {
    // A definition inside itself (JSONSchemaProps of a CRD): leave the inner one open.
    if (path.includes(ref)) return {};
    return inline(definitions, definitions[ref]!, [...path, ref]);
  }
  if (node.format === 'int-or-string') return { anyOf: [{ type: 'string' }, { type: 'integer' }] };
  if (path.at(-1) === 'io.k8s.apimachinery.pkg.api.resource.Quantity')
    return { anyOf: [{ type: 'string' }, { type: 'number' }] };
  const copy: Schema = {};
  for (const [key, value] of Object.entries(node)) {
    if (key.startsWith('x-kubernetes-') || key === 'description') continue;
    if (key === 'properties') {
      copy.properties = Object.fromEntries(
        Object.entries(value as Record<string, Schema>).map(([field, sub]) => [
          field,
          inline(definitions, sub, path),
        ]),
      );
    } else if ((key === 'items' || key === 'additionalProperties') && typeof value === 'object') {
      copy[key] = inline(definitions, value as Schema, path);
    } else {
      copy[key] = value;
    }
  }
  if (copy.properties && copy.additionalProperties === undefined) copy.additionalProperties = false;
  return copy;
}
