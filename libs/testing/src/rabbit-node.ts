import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'amqplib';
import { resolve } from 'node:path';
import { waitFor } from './wait-for';

const ROOT = resolve(__dirname, '../../..');
const DEBIAN_SCRIPT = '/usr/lib/rabbitmq/bin/rabbitmq-server';
const CTL_SCRIPT = '/usr/lib/rabbitmq/bin/rabbitmqctl';

/**
 * A RabbitMQ node owned by one test (own name, ports, data), so the test can stop and restart a
 * broker without touching the machine's. Its data survives a restart, like a real broker's.
 */
export class RabbitNode {
  private process?: ChildProcess;
  private readonly dir: string;

  constructor(
    readonly port: number,
    private readonly name = `oms-test-${port}`,
  ) {
    this.dir = resolve(ROOT, '.stack/data/test-rabbit', this.name);
  }

  get url(): string {
    return `amqp://guest:guest@127.0.0.1:${this.port}`;
  }

  static available(): boolean {
    return existsSync(DEBIAN_SCRIPT);
  }

  async start(): Promise<void> {
    await this.stopLeftover();
    mkdirSync(resolve(this.dir, 'mnesia'), { recursive: true });
    writeFileSync(resolve(this.dir, 'enabled_plugins'), '[].\n');
    writeFileSync(
      resolve(this.dir, 'rabbitmq.conf'),
      `listeners.tcp.default = 127.0.0.1:${this.port}\nloopback_users = none\n`,
    );
    writeFileSync(resolve(this.dir, 'rabbitmq-env.conf'), '');
    this.process = spawn(DEBIAN_SCRIPT, [], {
      // Erlang writes erl_crash.dump and MnesiaCore files into its working directory.
      cwd: this.dir,
      stdio: 'ignore',
      detached: true,
      env: {
        ...process.env,
        HOME: this.dir,
        RABBITMQ_NODENAME: `${this.name}@localhost`,
        RABBITMQ_NODE_IP_ADDRESS: '127.0.0.1',
        RABBITMQ_NODE_PORT: String(this.port),
        RABBITMQ_DIST_PORT: String(this.port + 20_001),
        RABBITMQ_CONF_ENV_FILE: resolve(this.dir, 'rabbitmq-env.conf'),
        RABBITMQ_CONFIG_FILE: resolve(this.dir, 'rabbitmq.conf'),
        RABBITMQ_ENABLED_PLUGINS_FILE: resolve(this.dir, 'enabled_plugins'),
        RABBITMQ_MNESIA_BASE: resolve(this.dir, 'mnesia'),
        RABBITMQ_LOG_BASE: resolve(this.dir, 'log'),
        RABBITMQ_PID_FILE: resolve(this.dir, 'rabbitmq.pid'),
        ERL_EPMD_ADDRESS: '127.0.0.1',
      },
    });
    await waitFor(
      `RabbitMQ node ${this.name} to accept connections`,
      async () => {
        const connection = await connect(this.url);
        await connection.close();
        return true;
      },
      { timeoutMs: 60_000, intervalMs: 250 },
    );
  }

  /**
   * A node of this name that a crashed run left behind still holds the port: it is stopped
   * through rabbitmqctl (with this node's cookie, in its HOME) before a new one starts.
   */
  private async stopLeftover(): Promise<void> {
    if (!(await this.answers())) return;
    spawnSync(CTL_SCRIPT, ['-n', `${this.name}@localhost`, 'stop'], {
      stdio: 'ignore',
      env: { ...process.env, HOME: this.dir },
      timeout: 30_000,
    });
    await waitFor(
      `the leftover RabbitMQ node on port ${this.port} to stop`,
      async () => !(await this.answers()),
      {
        timeoutMs: 30_000,
        intervalMs: 200,
      },
    );
  }

  private async answers(): Promise<boolean> {
    try {
      const connection = await connect(this.url);
      await connection.close();
      return true;
    } catch {
      return false;
    }
  }

  /** Each queue's messages, ready or delivered but not yet acked, by queue name (through rabbitmqctl). */
  queueDepths(): Map<string, number> {
    const listing = spawnSync(
      CTL_SCRIPT,
      ['-n', `${this.name}@localhost`, '-q', 'list_queues', 'name', 'messages', '--formatter', 'json'],
      { encoding: 'utf8', env: { ...process.env, HOME: this.dir }, timeout: 30_000 },
    );
    if (listing.status !== 0)
      throw new Error(`rabbitmqctl list_queues failed: ${listing.stderr || listing.error?.message}`);
    const rows = JSON.parse(listing.stdout) as { name: string; messages: number }[];
    return new Map(rows.map((row) => [row.name, row.messages]));
  }

  /** Stops the node (SIGTERM to its process group) and waits until it exited. */
  async stop(): Promise<void> {
    const child = this.process;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((done) => child.once('exit', done));
    process.kill(-child.pid!, 'SIGTERM');
    await exited;
    await waitFor(`RabbitMQ node ${this.name} to stop answering`, async () => !(await this.answers()), {
      timeoutMs: 30_000,
      intervalMs: 200,
    });
  }

  async destroy(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
