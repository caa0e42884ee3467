import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { runCommand, toolBinary, type CommandResult } from '../../test/tools';
import { KUBERNETES_VERSION, kubernetesSchemas } from './kubernetes-schemas';

const CHART = resolve(__dirname, '../oms');
const GRPC_SERVICES = ['order', 'stock', 'menu', 'payment', 'kitchen'];
const SERVICES = ['gateway', ...GRPC_SERVICES];
/** The cluster the chart is rendered for: the version of the schemas it is checked against. */
const KUBE_VERSION = KUBERNETES_VERSION.slice(1);

interface Manifest {
  kind: string;
  metadata: { name: string };
  spec?: Record<string, unknown>;
  data?: Record<string, string>;
}
interface Container {
  name: string;
  readinessProbe?: { grpc?: { port: number }; httpGet?: { path: string } };
  livenessProbe?: { grpc?: { port: number }; httpGet?: { path: string } };
  lifecycle?: { preStop?: { sleep?: { seconds: number } } };
  resources?: { requests?: Record<string, string> };
  envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string } }[];
}
interface PodSpec {
  terminationGracePeriodSeconds: number;
  containers: Container[];
}

describe(`the Helm chart, schema-validated against Kubernetes ${KUBERNETES_VERSION} (offline)`, () => {
  let helm = '';
  let kubeconform = '';
  let schemas = '';

  before(async () => {
    helm = await toolBinary('helm');
    kubeconform = await toolBinary('kubeconform');
    schemas = kubernetesSchemas();
  });

  const template = (...args: string[]): CommandResult =>
    runCommand(helm, ['template', 'oms', CHART, '--kube-version', KUBE_VERSION, ...args]);
  const validate = (manifests: string): CommandResult =>
    runCommand(
      kubeconform,
      [
        '-strict',
        '-summary',
        '-output',
        'json',
        '-schema-location',
        `${schemas}/{{ .ResourceKind }}{{ .KindSuffix }}.json`,
        '-',
      ],
      { input: manifests },
    );
  const rendered = (...args: string[]): string => {
    const result = template(...args);
    assert.equal(result.status, 0, result.stderr);
    return result.stdout;
  };
  const documents = (yaml: string): Manifest[] =>
    parseAllDocuments(yaml)
      .map((document) => document.toJSON() as Manifest | null)
      .filter((manifest): manifest is Manifest => manifest !== null);

  /** The manifests with one field of the order Deployment set to `value`. */
  const withOrderDeployment = (yaml: string, path: string[], value: unknown): string =>
    parseAllDocuments(yaml)
      .map((document) => {
        const manifest = document.toJSON() as Manifest | null;
        if (manifest?.kind === 'Deployment' && manifest.metadata.name === 'oms-order')
          document.setIn(path, value);
        return String(document);
      })
      .join('---\n');

  test('helm lint --strict passes', () => {
    const lint = runCommand(helm, ['lint', '--strict', '--kube-version', KUBE_VERSION, CHART]);
    assert.equal(lint.status, 0, lint.stdout + lint.stderr);
    assert.match(lint.stdout, /1 chart\(s\) linted, 0 chart\(s\) failed/);
  });

  test('every rendered object is valid against the Kubernetes schemas', () => {
    for (const values of [[], ['--set', 'secrets.create=true', '--set', 'secrets.values.ADMIN_TOKEN=x']]) {
      const result = validate(rendered(...values));
      assert.equal(result.status, 0, result.stdout + result.stderr);
      const summary = JSON.parse(result.stdout) as { summary: Record<string, number> };
      const expected = 6 + 6 + 1 + 1 + (values.length > 0 ? 1 : 0); // deployments, PDBs, service, config, secret
      console.log(
        `kubeconform ${values.length > 0 ? 'with a chart-made Secret' : 'defaults'}:`,
        summary.summary,
      );
      assert.deepEqual(summary.summary, { valid: expected, invalid: 0, errors: 0, skipped: 0 });
    }
  });

  test('a wrong type given as a value fails the check (values schema)', () => {
    const result = template('--set', 'services.order.replicas=oops');
    assert.notEqual(result.status, 0);
    assert.match(result.stderr, /replicas/);
  });

  test('a wrong type in a manifest fails the Kubernetes schema check', () => {
    const manifests = rendered();
    const broken = withOrderDeployment(manifests, ['spec', 'replicas'], 'oops');
    const result = validate(broken);
    assert.notEqual(result.status, 0);
    assert.match(result.stdout, /oms-order[\s\S]*replicas/);
    const unknownField = validate(withOrderDeployment(manifests, ['spec', 'revisionHistoryLimt'], 5));
    assert.notEqual(unknownField.status, 0, 'strict: an unknown field fails too');
  });

  test('each service: replicas, native probes, a preStop and a grace period that cover the drain', () => {
    const manifests = documents(rendered());
    const config = manifests.find((m) => m.kind === 'ConfigMap')!;
    assert.equal(config.data!.NODE_ENV, 'production');
    for (const name of [
      'CONSUL_URL',
      'MONGO_URL',
      'AMQP_URL',
      'OTEL_EXPORTER_OTLP_ENDPOINT',
      'STRIPE_API_URL',
    ])
      assert.ok(config.data![name], `${name} in the ConfigMap`);
    const drainS = Number(config.data!.SHUTDOWN_DRAIN_MS) / 1000;
    for (const service of SERVICES) {
      const deployment = manifests.find(
        (m) => m.kind === 'Deployment' && m.metadata.name === `oms-${service}`,
      );
      assert.ok(deployment, `a Deployment for ${service}`);
      const spec = deployment.spec as { replicas: number; template: { spec: PodSpec } };
      assert.ok(spec.replicas >= 2, `${service} replicas`);
      const pod = spec.template.spec;
      const container = pod.containers[0]!;
      if (GRPC_SERVICES.includes(service)) {
        assert.ok(container.readinessProbe?.grpc?.port, `${service} gRPC readiness`);
        assert.ok(container.livenessProbe?.grpc?.port, `${service} gRPC liveness`);
      } else {
        assert.equal(container.readinessProbe?.httpGet?.path, '/readyz');
      }
      const preStop = container.lifecycle?.preStop?.sleep?.seconds ?? 0;
      assert.ok(preStop > 0, `${service} preStop`);
      assert.ok(pod.terminationGracePeriodSeconds > preStop + drainS, `${service} grace period`);
      assert.ok(container.resources?.requests?.memory, `${service} resources`);
      assert.ok(container.envFrom?.some((source) => source.secretRef?.name === 'oms-secrets'));
      const budget = manifests.find(
        (m) => m.kind === 'PodDisruptionBudget' && m.metadata.name === `oms-${service}`,
      );
      assert.ok(budget, `a PodDisruptionBudget for ${service}`);
    }
  });
});
