/** A real browser for the console's test: Debian's chromium driven by playwright-core, and axe-core. */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import axe from 'axe-core';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { binary } from '@oms/local-stack';

export const SCREENSHOTS = resolve(__dirname, '../../../bench-results/console');

/** No QUIC, no first-run, no background traffic: the page talks to the gateway and nothing else. */
const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface ConsoleBrowser {
  page: Page;
  /** Every URL the page asked for (the test checks they are all the gateway's). */
  requests: string[];
  /** Console errors and uncaught exceptions, CSP violations included, each with the page's URL. */
  problems: { url: string; text: string }[];
  close(): Promise<void>;
}

/** Launches chromium (installed by the stack's provisioning when missing) with a fresh profile. */
export async function openBrowser(): Promise<ConsoleBrowser> {
  const executablePath = await binary('chromium');
  const profile = mkdtempSync(join(tmpdir(), 'oms-console-chromium-'));
  mkdirSync(SCREENSHOTS, { recursive: true });
  const context: BrowserContext = await chromium.launchPersistentContext(profile, {
    executablePath,
    headless: true,
    args: CHROMIUM_FLAGS,
    viewport: { width: 1440, height: 900 },
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const requests: string[] = [];
  const problems: { url: string; text: string }[] = [];
  page.on('request', (request) => requests.push(request.url()));
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push({ url: page.url(), text: `console: ${message.text()}` });
  });
  page.on('pageerror', (error) => problems.push({ url: page.url(), text: `page error: ${error.message}` }));
  return {
    page,
    requests,
    problems,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

export interface AxeViolation {
  id: string;
  impact?: string | null;
  help: string;
  nodes: { target: unknown[] }[];
}

/**
 * axe-core's WCAG 2 A and AA rules (labels, names, contrast, landmarks...) on the page as it is.
 * Evaluated through the DevTools protocol, so the page's CSP (scripts from its origin only) stays on.
 */
export async function accessibilityViolations(page: Page): Promise<AxeViolation[]> {
  await page.evaluate(axe.source);
  return page.evaluate(async () => {
    const result = await (
      window as unknown as {
        axe: { run: (context: Document, options: object) => Promise<{ violations: AxeViolation[] }> };
      }
    ).axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } });
    return result.violations.map(({ id, impact, help, nodes }) => ({
      id,
      impact,
      help,
      nodes: nodes.slice(0, 3).map((node) => ({ target: node.target })),
    }));
  });
}

export async function screenshot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
}
