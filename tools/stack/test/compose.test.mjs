// docker-compose.yml is not run on machines without a Docker engine, so its shape is checked here.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
// `merge: true` resolves the `<<: *anchor` keys the way Docker Compose does
const compose = parse(fs.readFileSync(path.join(root, 'docker-compose.yml'), 'utf8'), { merge: true });
const services = compose.services ?? {};

const INFRA = ['consul', 'rabbitmq', 'mongo', 'jaeger', 'stripe-mock'];
const APPS = { gateway: 8080, order: 50051, stock: 50052, menu: 50053, payment: 50054, kitchen: 50055 };
const INFRA_PORTS = {
  consul: [8500],
  rabbitmq: [5672, 15672],
  mongo: [27017],
  jaeger: [16686, 4317, 4318],
  'stripe-mock': [12111],
};

/** Container ports a service publishes, from short ("8080:8080", "127.0.0.1:80:8080/tcp") or long syntax. */
function containerPorts(service) {
  return (service.ports ?? []).map((p) => {
    if (typeof p === 'object') return Number(p.target);
    const parts = String(p).split('/')[0].split(':');
    return Number(parts[parts.length - 1]);
  });
}

/** `environment` as a map, whichever syntax (map or list of KEY=VALUE) is used. */
function environment(service) {
  const env = service.environment ?? {};
  if (!Array.isArray(env))
    return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, v == null ? v : String(v)]));
  return Object.fromEntries(
    env.map((entry) => {
      const at = entry.indexOf('=');
      return at === -1 ? [entry, null] : [entry.slice(0, at), entry.slice(at + 1)];
    }),
  );
}

test('every infrastructure component and every app is a service', () => {
  for (const name of [...INFRA, ...Object.keys(APPS)])
    assert.ok(services[name], `service ${name} is missing`);
});

test('infrastructure uses the expected images', () => {
  assert.match(services.consul.image, /^hashicorp\/consul:1\.20/);
  assert.match(String(services.consul.command), /agent -dev -client 0\.0\.0\.0/);
  assert.match(services.rabbitmq.image, /^rabbitmq:3\.13-management/);
  assert.equal(services.mongo.image, 'mongo:7');
  assert.match(services.jaeger.image, /^jaegertracing\/jaeger:2\./);
  assert.match(services['stripe-mock'].image, /^stripe\/stripe-mock/);
});

test('each app builds from the Dockerfile with its own name as APP', () => {
  const dockerfile = fs.readFileSync(path.join(root, 'Dockerfile'), 'utf8');
  for (const name of Object.keys(APPS)) {
    const { build } = services[name];
    assert.ok(build, `${name} has no build`);
    assert.equal(build.context ?? '.', '.');
    assert.equal(build.dockerfile ?? 'Dockerfile', 'Dockerfile');
    assert.equal(build.args?.APP, name, `${name}: build arg APP`);
    if (build.target)
      assert.match(
        dockerfile,
        new RegExp(`^FROM .* AS ${build.target}$`, 'm'),
        `${name}: target ${build.target}`,
      );
  }
});

test('ports are published where RUNTIME.md says', () => {
  for (const [name, port] of Object.entries(APPS))
    assert.ok(containerPorts(services[name]).includes(port), `${name} publishes ${port}`);
  for (const [name, ports] of Object.entries(INFRA_PORTS)) {
    for (const port of ports)
      assert.ok(containerPorts(services[name]).includes(port), `${name} publishes ${port}`);
  }
});

test('every service has a healthcheck with a real test', () => {
  for (const [name, service] of Object.entries(services)) {
    const check = service.healthcheck;
    assert.ok(check && !check.disable, `${name} has no healthcheck`);
    const command = [check.test].flat().join(' ');
    assert.ok(
      command.length > 10 && !/^NONE/.test(command),
      `${name}: healthcheck test ${JSON.stringify(check.test)}`,
    );
  }
  for (const name of Object.keys(APPS).filter((n) => n !== 'gateway')) {
    assert.match(
      [services[name].healthcheck.test].flat().join(' '),
      /grpc-health-check|grpc\.health\.v1|GRPC_PORT/,
      `${name} checks its gRPC port`,
    );
  }
  assert.match([services.gateway.healthcheck.test].flat().join(' '), /\/healthz/);
});

test('apps start only once the infrastructure is healthy', () => {
  for (const name of Object.keys(APPS)) {
    const dependsOn = services[name].depends_on;
    assert.ok(
      dependsOn && !Array.isArray(dependsOn),
      `${name}: depends_on must be the long form with conditions`,
    );
    for (const infra of INFRA)
      assert.equal(dependsOn[infra]?.condition, 'service_healthy', `${name} waits for ${infra}`);
  }
});

test('apps reach the infrastructure by compose hostnames and advertise their own', () => {
  for (const [name, port] of Object.entries(APPS)) {
    const env = environment(services[name]);
    const where = (variable) => `${name}: ${variable}=${env[variable]}`;
    assert.equal(new URL(env.CONSUL_URL).host, 'consul:8500', where('CONSUL_URL'));
    assert.equal(new URL(env.AMQP_URL).host, 'rabbitmq:5672', where('AMQP_URL'));
    assert.equal(new URL(env.MONGO_URL).host, 'mongo:27017', where('MONGO_URL'));
    assert.equal(
      new URL(env.OTEL_EXPORTER_OTLP_ENDPOINT).host,
      'jaeger:4317',
      where('OTEL_EXPORTER_OTLP_ENDPOINT'),
    );
    assert.equal(new URL(env.STRIPE_API_URL).host, 'stripe-mock:12111', where('STRIPE_API_URL'));
    assert.equal(env.GRPC_HOST, '0.0.0.0', where('GRPC_HOST'));
    assert.equal(env.ADVERTISE_HOST, name, where('ADVERTISE_HOST'));
    assert.equal(env.NODE_ENV, 'development', where('NODE_ENV'));
    if (name === 'gateway') assert.equal(Number(env.GATEWAY_PORT), port, where('GATEWAY_PORT'));
    else assert.equal(Number(env.GRPC_PORT), port, where('GRPC_PORT'));
  }
});

test('the Dockerfile is multi-stage and runs the app bundle as a non-root user', () => {
  const dockerfile = fs.readFileSync(path.join(root, 'Dockerfile'), 'utf8');
  assert.match(dockerfile, /^FROM node:20-bookworm-slim|^ARG NODE_IMAGE=node:20-bookworm-slim/m);
  assert.ok((dockerfile.match(/^FROM /gm) ?? []).length >= 3, 'at least deps, build and runtime stages');
  assert.match(dockerfile, /npm ci/);
  assert.match(dockerfile, /nx run "?\$\{APP\}:build/);
  assert.match(dockerfile, /^ARG APP$/m);
  assert.match(dockerfile, /^USER (?!root)\S+/m);
  assert.match(dockerfile, /^CMD .*node .*dist\/apps\/\$\{APP\}\/main\.js/m);
});
