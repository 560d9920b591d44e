// Headless Chromium (the system's, never a downloaded one) and a fixture
// that ties a test's shop host, server, agent and browser together and
// tears everything down after the test.

import path from 'node:path';
import { test } from 'node:test';
import { chromium } from 'playwright-core';

import { config } from './config.mjs';
import { startHost, SHOP_HOST } from './host.mjs';
import { startServer } from './server.mjs';

/** Chromium's flags on these machines (see /work/shared/TOOLCHAIN.md). */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  // The shop's name resolves to loopback, where its page server runs.
  `--host-resolver-rules=MAP ${SHOP_HOST} 127.0.0.1`,
];

/**
 * Launches Chromium. Playwright's `launch` gives it a fresh temporary user
 * data directory of its own and removes it on `close()`; contexts made
 * with `newContext` are isolated from each other (storage, cookies), as
 * separate visitors are.
 */
export async function launchBrowser({ secureOrigins = [] } = {}) {
  const args = [...CHROMIUM_ARGS];
  // Shops serve over https: their pages are secure contexts (where e.g.
  // `crypto.randomUUID` exists). The test shop speaks plain http, so
  // Chromium is told to treat its origin as secure all the same.
  if (secureOrigins.length) args.push(`--unsafely-treat-insecure-origin-as-secure=${secureOrigins.join(',')}`);
  const browser = await chromium.launch({
    executablePath: config.chromium,
    headless: true,
    args,
  });
  return {
    browser,
    async close() {
      await browser.close().catch(() => {});
    },
  };
}

/** Records page errors, console errors and dialogs; no dialog may open. */
export function watchPage(page) {
  const log = { errors: [], console: [], dialogs: [] };
  page.on('pageerror', (e) => log.errors.push(String(e)));
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') log.console.push(`${m.type()}: ${m.text()}`);
  });
  page.on('dialog', (d) => {
    log.dialogs.push(`${d.type()}: ${d.message()}`);
    d.dismiss().catch(() => {});
  });
  return log;
}

/**
 * Everything one test needs: the shop's page server, a NeuroChat server
 * allowing the shop's origin, and a browser; torn down by `t.after`. When
 * the test fails, its pages are screenshotted into the artifacts directory,
 * the server's log tail is printed and its data directory kept.
 */
export async function setup(t, { serverArgs = [] } = {}) {
  const host = await startHost();
  let server;
  try {
    server = await startServer({ allowedOrigins: [host.origin], extraArgs: serverArgs });
  } catch (e) {
    await host.close();
    throw e;
  }
  let chrome;
  try {
    chrome = await launchBrowser({ secureOrigins: [host.origin] });
  } catch (e) {
    await server.stop();
    await host.close();
    throw e;
  }
  const pages = [];
  const logs = [];
  const sockets = [];
  const fx = {
    host,
    server,
    browser: chrome.browser,
    failed: false,
    /** A new visitor (own storage) with one page; viewport 1280×800 unless given. */
    async newVisitor(contextOptions = {}) {
      const context = await chrome.browser.newContext({ viewport: { width: 1280, height: 800 }, ...contextOptions });
      const page = await context.newPage();
      page.setDefaultTimeout(15_000);
      const log = watchPage(page);
      pages.push(page);
      logs.push(log);
      return { context, page, log };
    },
    /** Keeps an agent socket to close on teardown. */
    track(sock) {
      sockets.push(sock);
      return sock;
    },
  };
  t.after(async () => {
    if (fx.failed) {
      const safe = t.name.replace(/[^a-z0-9]+/gi, '-').slice(0, 60);
      for (const [i, p] of pages.entries()) {
        const file = path.join(config.artifacts, `failure-${safe}-${i}.png`);
        await p.screenshot({ path: file, timeout: 5_000 }).catch(() => {});
      }
      for (const [i, l] of logs.entries()) {
        const lines = [...l.errors.map((e) => `pageerror: ${e}`), ...l.console, ...l.dialogs.map((d) => `dialog: ${d}`)];
        if (lines.length) console.error(`--- page ${i} ---\n${lines.slice(-30).join('\n')}`);
      }
      console.error(server.logTail(60));
      console.error(`(server data kept in ${server.dataDir}; failure screenshots in ${config.artifacts})`);
    }
    for (const s of sockets) s.close();
    await chrome.close();
    await server.stop({ keep: fx.failed });
    await host.close();
  });
  return fx;
}

/**
 * One test: `fn(fx, t)` with a fresh {@link setup}. A thrown error marks
 * the fixture failed (screenshots, kept server data) and fails the test.
 */
export function scenario(name, fn, { timeout = 120_000, ...setupOpts } = {}) {
  test(name, { timeout }, async (t) => {
    const fx = await setup(t, setupOpts);
    try {
      await fn(fx, t);
    } catch (e) {
      fx.failed = true;
      throw e;
    }
  });
}
