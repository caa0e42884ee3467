// The types of index.mjs. tsconfig.base.json maps @oms/local-stack to `src/index` first, which
// the compiler resolves to this file, then to `src/index.mjs`, which tsx loads at run time.

/**
 * A component of the local stack, in the order they start (components.mjs). `nomad` is optional:
 * only `up({ only: ['nomad'] })` starts it.
 */
export type StackComponent =
  'consul' | 'rabbitmq' | 'postgres' | 'mongo' | 'jaeger' | 'stripe-mock' | 'nomad';

/** Where each component is, as the environment variables the services read. */
export type ComponentAddresses = Record<
  | 'CONSUL_URL'
  | 'AMQP_URL'
  | 'MONGO_URL'
  | 'OTEL_EXPORTER_OTLP_ENDPOINT'
  | 'JAEGER_QUERY_URL'
  | 'STRIPE_API_URL',
  string
>;

export interface StackOptions {
  /** No table on stdout and no progress lines on stderr. */
  quiet?: boolean;
  /** Addresses are read from here instead of process.env; one that is overridden is only checked. */
  env?: NodeJS.ProcessEnv;
}

export interface UpOptions extends StackOptions {
  /** Only these components and those they depend on. */
  only?: StackComponent[];
  /** How long a binary may take to build from the Go module proxy. */
  provisionTimeoutMs?: number;
  /** How long a started component may take to answer its probe (default: the component's own). */
  healthTimeoutMs?: number;
}

export interface ComponentView {
  name: StackComponent;
  status: 'up' | 'down' | 'skipped';
  /** `started`: by this stack (it has the pid); `reused`: something else answers there. */
  mode: 'started' | 'reused' | '-';
  pid: number | null;
  where: string;
  server: string | null;
}

export interface StackView {
  components: ComponentView[];
  env: ComponentAddresses;
}

/**
 * Brings every component up (reusing what answers) and waits until each is healthy; rejects with
 * a StackError naming every component that could not be had.
 */
export function up(options?: UpOptions): Promise<StackView>;

/** Probes every component (an optional one only when named in `only`); starts and stops nothing. */
export function status(options?: StackOptions & { only?: StackComponent[] }): Promise<StackView>;

/** Stops what `up` started, dependents first (with `only`: just those and their dependents); leaves reused components alone. */
export function down(
  options?: StackOptions & { only?: StackComponent[] },
): Promise<{ name: StackComponent; pid?: number; action: string }[]>;

export function componentAddresses(env?: NodeJS.ProcessEnv): ComponentAddresses;

export class StackError extends Error {
  readonly failures: { name: StackComponent; message: string }[];
}

/**
 * The path of a binary provision.sh builds:
 * the one on PATH, else ~/.cache/oms/bin/<name>-<version>, built first if missing.
 */
export function binary(
  name: 'nomad' | 'helm' | 'kubeconform' | 'consul' | 'jaeger' | 'ferretdb' | 'stripe-mock' | 'chromium',
  options?: StackOptions & { provisionTimeoutMs?: number },
): Promise<string>;

/** A page `npm start` prints; `url` null: not a web page (then `address` says where it is). */
export interface WebPage {
  name: string;
  url: string | null;
  address?: string;
  note: string;
  /** Text the page shows once loaded (the browser test checks it). */
  shows: string;
}

/** The pages `npm start` prints, each useful in a browser (Jaeger's UI only where it really has one). */
export function webPages(options: { gatewayUrl: string; env?: NodeJS.ProcessEnv }): Promise<WebPage[]>;
