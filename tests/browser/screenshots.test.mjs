// (f) Screenshots of the open widget at desktop and mobile widths into the
// artifacts directory (target/browser-artifacts/), and the time from a
// click on the launcher to an interactive composer on first open, with the
// WASM module not loaded before the click.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

import { connectAgent, createAgent } from './lib/agent.mjs';
import { scenario } from './lib/browser.mjs';
import { config } from './lib/config.mjs';
import { shopPage } from './lib/host.mjs';
import { Widget } from './lib/widget.mjs';

/** Resources fetched so far whose URL ends in `.wasm`. */
const wasmLoaded = (page) =>
  page.evaluate(() => performance.getEntriesByType('resource').filter((e) => e.name.split('?')[0].endsWith('.wasm')).map((e) => e.name));

/**
 * Clicks the launcher and measures, in the page's own clock, from the
 * click event to the first animation frame where the composer is shown,
 * enabled and focusable.
 */
async function timeFirstOpen(page, w) {
  await page.evaluate(() => {
    window.__ncClickAt = null;
    document.addEventListener('click', () => (window.__ncClickAt ??= performance.now()), { capture: true });
  });
  await w.launcher.click();
  const ready = await page.waitForFunction(
    () => {
      const root = document.getElementById('neurochat-root')?.shadowRoot;
      const ta = root?.querySelector('form.nc-composer textarea.nc-input');
      if (!ta || ta.disabled || ta.readOnly) return false;
      const r = ta.getBoundingClientRect();
      if (r.width === 0 || r.height === 0) return false;
      const panel = root.querySelector('section.nc-panel');
      if (!panel || panel.hidden) return false;
      return performance.now();
    },
    null,
    { polling: 'raf', timeout: 30_000 },
  );
  const readyAt = await ready.jsonValue();
  const clickAt = await page.evaluate(() => window.__ncClickAt);
  assert.ok(clickAt !== null, 'the click was seen');
  return readyAt - clickAt;
}

async function converse(w, inbox, text, reply) {
  await w.send(text);
  await w.waitForMessage(text, { who: 'own', withSeq: true });
  const ticket = await inbox.waitForNewTicket();
  await inbox.claim(ticket.id);
  await inbox.subscribe(ticket.id, 0);
  await inbox.send(ticket.id, reply);
  await w.waitForMessage(reply, { who: 'agent', withSeq: true });
  return ticket;
}

scenario('screenshots at 1280×800 and 375×740; first open to interactive composer timed', async (fx) => {
  const { server, host } = fx;
  const agent = await createAgent(server);
  const inbox = fx.track(await connectAgent(server, agent));
  const url = host.page('/', shopPage(server, { attrs: { 'data-team-name': 'Shop Support' } }));

  // Desktop, first visit: nothing of the module is loaded before the click.
  const desktop = await fx.newVisitor({ viewport: { width: 1280, height: 800 } });
  await desktop.page.goto(url);
  const w = new Widget(desktop.page);
  await w.ready();
  await desktop.page.waitForLoadState('load');
  const before = await wasmLoaded(desktop.page);
  const ms = await timeFirstOpen(desktop.page, w);
  const after = await wasmLoaded(desktop.page);
  const sizes = await desktop.page.evaluate(() =>
    performance
      .getEntriesByType('resource')
      .filter((e) => e.name.includes('/widget/'))
      .map((e) => `${e.name.split('/').pop()} ${e.duration.toFixed(0)} ms`),
  );
  console.log(
    `# first open → interactive composer: ${ms.toFixed(0)} ms on loopback ` +
      `(WASM before the click: ${before.length ? 'already loaded' : 'not loaded'}; fetched: ${after.length ? 'yes' : 'no'})`,
  );
  console.log(`# widget requests (fetch durations): ${sizes.join(', ')}`);
  fs.writeFileSync(
    path.join(config.artifacts, 'first-open.json'),
    `${JSON.stringify({ first_open_to_interactive_ms: Math.round(ms), wasm_loaded_before_click: before.length > 0, requests: sizes }, null, 2)}\n`,
  );
  assert.deepEqual(before, [], 'the WASM module is not loaded before the first open');
  assert.ok(after.length >= 1, 'the WASM module is loaded on opening');
  assert.ok(ms < 10_000, `first open took ${ms} ms`);

  const ticket = await converse(w, inbox, 'Hi! Do you ship to Austria?', 'We do: 3–5 working days, free from €50.');
  const desktopShot = path.join(config.artifacts, 'widget-desktop-1280x800.png');
  await desktop.page.screenshot({ path: desktopShot });

  // Mobile.
  const mobile = await fx.newVisitor({
    viewport: { width: 375, height: 740 },
    deviceScaleFactor: 2,
    isMobile: true,
    hasTouch: true,
  });
  await mobile.page.goto(url);
  const m = new Widget(mobile.page);
  await m.ready();
  await m.launcher.tap();
  await m.input.waitFor({ state: 'visible' });
  await converse(m, inbox, 'Can I change my delivery address?', 'Yes, until the parcel ships.');
  const box = await m.panel.boundingBox();
  assert.ok(box.x >= -0.5 && box.x + box.width <= 375.5, `the panel fits the phone's width: ${JSON.stringify(box)}`);
  assert.ok(box.y >= -0.5 && box.y + box.height <= 740.5, `the panel fits the phone's height: ${JSON.stringify(box)}`);
  const mobileShot = path.join(config.artifacts, 'widget-mobile-375x740.png');
  await mobile.page.screenshot({ path: mobileShot });

  for (const f of [desktopShot, mobileShot]) {
    assert.ok(fs.statSync(f).size > 5_000, `${f} written`);
    console.log(`# screenshot: ${f}`);
  }
  assert.ok(ticket.id);
  assert.deepEqual(desktop.log.errors, []);
  assert.deepEqual(mobile.log.errors, []);
});
