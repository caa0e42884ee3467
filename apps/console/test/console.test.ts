// The operations console in a real browser (Debian's chromium through playwright-core) against a
// whole system on the real stack: log in, watch an order arrive and move without reloading, pay
// it, read its traces, edit stock, replay a dead letter made on purpose, check accessibility, and
// open every page `npm start` prints. Screenshots of each page go to bench-results/console/.
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'amqplib';
import type { Page } from 'playwright-core';
import { webPages } from '@oms/local-stack';
import { ADMIN_TOKEN, ensureStack, stackAddresses, TestSystem, waitFor, type TestOrder } from '@oms/testing';
import { accessibilityViolations, openBrowser, screenshot, type ConsoleBrowser } from './browser';

const CUSTOMER = 'console-alice';
const ITEM = 'console-pizza';

describe('the operations console in chromium', () => {
  let system: TestSystem;
  let browser: ConsoleBrowser;
  let page: Page;
  let addresses: Record<string, string | undefined>;
  let order: TestOrder;

  before(async () => {
    await ensureStack();
    addresses = await stackAddresses();
    // Preparation takes long enough to see a ticket in "preparing".
    system = await TestSystem.start({ prefix: 'console', env: { KITCHEN_PREP_MS: '1500' } });
    await system.addItem(ITEM, 40, 1250);
    browser = await openBrowser();
    page = browser.page;
  });
  after(async () => {
    await browser?.close();
    await system?.stop();
  });

  const consoleUrl = (path = '/') => `${system.gatewayUrl}/console${path}`;

  async function expectAccessible(view: string): Promise<void> {
    const violations = await accessibilityViolations(page);
    assert.deepEqual(violations, [], `${view}: ${JSON.stringify(violations, null, 2)}`);
  }

  test('the login form: labelled, keyboard only, and a wrong token is refused', async () => {
    await page.goto(consoleUrl('/'));
    await page.getByLabel('Admin token').waitFor();
    await expectAccessible('login');
    await screenshot(page, 'login');
    await page.getByLabel('Admin token').fill('not-the-token');
    await page.keyboard.press('Enter');
    await page.getByRole('alert').filter({ hasText: 'unauthenticated' }).waitFor();
    await page.getByLabel('Admin token').fill(ADMIN_TOKEN);
    await page.keyboard.press('Enter');
    await page.getByRole('navigation', { name: 'Sections' }).waitFor();
    await page.getByRole('status').filter({ hasText: 'Live' }).waitFor();
  });

  test('an order placed through the API appears on the board without a reload', async () => {
    const marker = await page.evaluate(() => ((window as { loadedOnce?: number }).loadedOnce = Date.now()));
    const placedAt = Date.now();
    const created = await system.request<TestOrder>('POST', `/v1/customers/${CUSTOMER}/orders`, {
      body: { items: [{ itemId: ITEM, quantity: 2 }] },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    order = created.body;
    const card = page.locator(`[data-order-id="${order.id}"]`);
    await card.waitFor({ timeout: 10_000 });
    const shownAfterMs = Date.now() - placedAt;
    await page
      .locator(`[data-order-id="${order.id}"][data-status="awaiting_payment"]`)
      .waitFor({ timeout: 15_000 });
    // The same document all along: the board moved through the event stream, not a reload.
    assert.equal(await page.evaluate(() => (window as { loadedOnce?: number }).loadedOnce), marker);
    console.log(`order on the board ${shownAfterMs} ms after the API answered`);
    assert.ok(shownAfterMs < 5_000, `shown after ${shownAfterMs} ms`);

    await page.getByLabel('Customer').fill(CUSTOMER);
    await page.getByLabel('Status').selectOption('awaiting_payment');
    await card.waitFor();
    assert.equal(await page.locator('[data-order-id]').count(), 1, 'only the filtered order is shown');
    await expectAccessible('orders');
    await screenshot(page, 'orders');
    await page.getByLabel('Status').selectOption('');
  });

  test('the detail: pay with the developer action and watch it reach ready', async () => {
    await page.getByRole('link', { name: new RegExp(`Order ${order.id.slice(0, 6)}`) }).click();
    await page.getByRole('heading', { name: /Order/ }).waitFor();
    assert.equal(page.url(), consoleUrl(`/orders/${CUSTOMER}/${order.id}`));
    await page.getByRole('button', { name: 'Pay (development)' }).click();
    await page.locator('[data-testid="order-status"]', { hasText: 'ready' }).waitFor({ timeout: 20_000 });
    const steps = await page
      .locator('[data-step]')
      .evaluateAll((items) => items.map((item) => item.getAttribute('data-step')));
    assert.deepEqual(steps, ['pending', 'awaiting_payment', 'paid', 'preparing', 'ready']);
    await page.locator('[data-ticket-status="ready"]').waitFor();
    await page.getByText('paid', { exact: true }).first().waitFor();
    assert.equal(await page.getByRole('button', { name: 'Cancel order' }).isDisabled(), true);
    await expectAccessible('order detail');
    await screenshot(page, 'order-detail');
  });

  test('the kitchen view follows a ticket from queued to ready as the events arrive', async () => {
    await page.getByRole('link', { name: 'Kitchen' }).click();
    await page.getByRole('heading', { name: 'Kitchen' }).waitFor();
    const second = await system.request<TestOrder>('POST', `/v1/customers/${CUSTOMER}/orders`, {
      body: { items: [{ itemId: ITEM, quantity: 1 }] },
    });
    const awaiting = await system.orderWhen(second.body, 'awaiting_payment');
    assert.equal((await system.webhook('checkout.session.completed', awaiting).send()).status, 200);
    await page
      .locator(`[data-ticket-order="${awaiting.id}"][data-status="preparing"]`)
      .waitFor({ timeout: 20_000 });
    await screenshot(page, 'kitchen');
    await page
      .locator(`[data-ticket-order="${awaiting.id}"][data-status="ready"]`)
      .waitFor({ timeout: 20_000 });
    await expectAccessible('kitchen');
    // Back on the board (no filter), both orders are in the ready column.
    await page.getByRole('link', { name: 'Orders' }).click();
    await page.locator(`[data-order-id="${awaiting.id}"][data-status="ready"]`).waitFor();
    await screenshot(page, 'board');
  });

  test("the order's traces: a waterfall across the services, the same Jaeger search finds them", async () => {
    await page.goto(consoleUrl(`/orders/${CUSTOMER}/${order.id}`));
    await page.getByRole('link', { name: 'Traces' }).first().waitFor();
    // Locally Jaeger has no UI: the console's own view is the trace link, and no Jaeger link is offered.
    assert.equal(await page.getByRole('link', { name: 'Open in Jaeger' }).count(), 0);
    const traceIds = await waitFor(
      'the order’s traces in the console (spans reach Jaeger in batches)',
      async () => {
        await page.goto(consoleUrl(`/traces?orderId=${order.id}`));
        await page.locator('[data-trace-id], [role="status"]:has-text("No trace")').first().waitFor();
        const rows = await page
          .locator('.waterfall [data-service]')
          .evaluateAll((spans) => spans.map((span) => span.getAttribute('data-service')));
        const services = new Set(rows);
        if (!['gateway', 'order', 'stock', 'menu'].every((service) => services.has(service)))
          return undefined;
        return page
          .locator('[data-trace-id]')
          .evaluateAll((buttons) => buttons.map((b) => b.getAttribute('data-trace-id')));
      },
      { timeoutMs: 30_000, intervalMs: 1000 },
    );
    // What "Open in Jaeger" searches (service gateway, tag order.id) finds the trace drawn here.
    const selected = await page.locator('[data-trace-id][aria-pressed="true"]').getAttribute('data-trace-id');
    assert.ok(selected && traceIds.includes(selected));
    const search = new URLSearchParams({
      service: 'gateway',
      tags: JSON.stringify({ 'order.id': order.id }),
    });
    const jaeger = (await (await fetch(`${addresses.JAEGER_QUERY_URL}/api/traces?${search}`)).json()) as {
      data: { traceID: string }[];
    };
    assert.ok(
      jaeger.data.some((trace) => trace.traceID === selected),
      `Jaeger's search finds ${selected}`,
    );
    // Keyboard: a span opens its attributes.
    await page.locator('.waterfall .span > button').first().focus();
    await page.keyboard.press('Enter');
    await page
      .getByRole('row', { name: /order\.id/ })
      .first()
      .waitFor();
    await expectAccessible('traces');
    await screenshot(page, 'traces');
  });

  test('stock: availability edited through the admin API', async () => {
    await page.goto(consoleUrl('/stock'));
    const row = page.locator(`tr[data-item-id="${ITEM}"]`);
    await row.waitFor();
    await page.getByLabel(`Available Item ${ITEM}`).fill('77');
    await row.getByRole('button', { name: 'Save' }).click();
    await row.locator('[data-field="available"]', { hasText: '77' }).waitFor();
    assert.equal(await system.available(ITEM), 77);
    assert.match((await row.locator('td').nth(2).textContent()) ?? '', /^\d+$/);
    await expectAccessible('stock');
    await screenshot(page, 'stock');
  });

  test('a dead letter made on purpose is listed with its reason, inspected and replayed', async () => {
    const missing = `ord_console_missing_${randomUUID().slice(0, 8)}`;
    await publishRaw(addresses.AMQP_URL!, system.deployment, 'payment.failed', {
      orderId: missing,
      reason: 'session_expired',
    });
    const queue = `${system.deployment}.order.payment.failed.dead`;
    const panel = page.locator(`[data-queue="${queue}"]`);
    await waitFor('the dead letter in the console', async () => {
      await page.goto(consoleUrl('/dead-letters'));
      await page.getByRole('heading', { name: 'Dead letters' }).waitFor();
      await page.locator('.help', { hasText: 'queues hold dead letters' }).waitFor();
      return (await panel.count()) > 0;
    });
    await panel.locator('.reason', { hasText: `order ${missing} does not exist` }).waitFor();
    await panel.locator('summary').first().click();
    await panel.getByText('Last error').waitFor();
    await expectAccessible('dead letters');
    await screenshot(page, 'dead-letters');
    await panel.getByRole('button', { name: /^Replay/ }).click();
    await page
      .getByRole('status')
      .filter({ hasText: `Replayed 1 message(s) of ${queue}` })
      .waitFor();
    // Still an order that does not exist: consumed again, it comes back to the dead letters.
    await waitFor('the replayed letter consumed and dead-lettered again', async () => {
      await page.getByRole('button', { name: 'Refresh' }).click();
      return (await panel.locator('.count', { hasText: '1' }).count()) > 0;
    });
  });

  test('services: every instance from Consul with health and figures from its /metrics', async () => {
    await page.goto(consoleUrl('/services'));
    for (const service of ['gateway', 'order', 'stock', 'menu', 'payment', 'kitchen']) {
      await page.locator(`tr[data-service="${service}"][data-health="passing"]`).first().waitFor();
    }
    await page.locator('tr[data-service="order"] td.number').first().waitFor();
    await expectAccessible('services');
    await screenshot(page, 'services');
  });

  test('keyboard: skip link, then the sections in order', async () => {
    await page.goto(consoleUrl('/'));
    await page.getByRole('navigation', { name: 'Sections' }).waitFor();
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Skip to content');
    const names: string[] = [];
    for (let index = 0; index < 6; index += 1) {
      await page.keyboard.press('Tab');
      names.push((await page.evaluate(() => document.activeElement?.textContent)) ?? '');
    }
    assert.deepEqual(names, ['Orders', 'Kitchen', 'Stock', 'Dead letters', 'Services', 'Traces']);
    await page.keyboard.press('Shift+Tab');
    await page.keyboard.press('Enter');
    await page.waitForURL(consoleUrl('/services'));
  });

  test('every page `npm start` prints opens something useful', async () => {
    const pages = await webPages({ gatewayUrl: system.gatewayUrl });
    for (const { name, url, shows } of pages) {
      if (!url) continue;
      // Consul's UI is a large single-page app: its text, not its last asset, is what counts.
      const response = await page.goto(url, { waitUntil: 'domcontentloaded', timeout: 30_000 });
      assert.ok(response && response.status() < 400, `${name} ${url}: ${response?.status()}`);
      await page.getByText(shows).first().waitFor({ timeout: 30_000 });
    }
    assert.ok(pages.some((listed) => listed.name === 'Console'));
  });

  test('the console talked to its gateway only, without an error in the page', () => {
    const consolePages = browser.requests.filter((url) => url.startsWith(`${system.gatewayUrl}/console`));
    assert.ok(consolePages.length > 0);
    const elsewhere = browser.requests.filter(
      (url) => !url.startsWith(system.gatewayUrl) && !url.startsWith('data:') && !isStartPage(url, addresses),
    );
    assert.deepEqual(elsewhere, []);
    // A refused login logs its 401 in the console: that one is expected.
    const ours = browser.problems.filter(({ url }) => url.startsWith(`${system.gatewayUrl}/console`));
    assert.deepEqual(
      ours.filter(({ text }) => !text.includes('401')),
      [],
    );
  });
});

/** The pages of the stack's own components, opened by the npm start test. */
function isStartPage(url: string, addresses: Record<string, string | undefined>): boolean {
  return [addresses.CONSUL_URL, addresses.JAEGER_QUERY_URL].some((base) => base && url.startsWith(base));
}

/** An event published straight to the deployment's exchange, as a faulty producer would. */
async function publishRaw(amqpUrl: string, deployment: string, type: string, data: unknown): Promise<void> {
  const connection = await connect(amqpUrl);
  try {
    const channel = await connection.createConfirmChannel();
    const event = { id: randomUUID(), type, version: 1, occurredAt: new Date().toISOString(), data };
    channel.publish(`oms.${deployment}.events`, type, Buffer.from(JSON.stringify(event)), {
      persistent: true,
      contentType: 'application/json',
      messageId: event.id,
    });
    await channel.waitForConfirms();
  } finally {
    await connection.close();
  }
}
