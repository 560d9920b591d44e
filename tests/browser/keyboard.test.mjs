// (e) Keyboard only: Tab reaches the launcher, Enter opens the panel with
// focus in the composer, Enter sends, Shift+Enter makes a new line, Escape
// closes and gives focus back to the launcher.

import assert from 'node:assert/strict';

import { connectAgent, createAgent } from './lib/agent.mjs';
import { scenario } from './lib/browser.mjs';
import { shopPage } from './lib/host.mjs';
import { until, Widget } from './lib/widget.mjs';

scenario('keyboard only: Tab, Enter, type, Shift+Enter, Enter, Escape', async (fx) => {
  const { server, host } = fx;
  const agent = await createAgent(server);
  const inbox = fx.track(await connectAgent(server, agent));
  const { page, log } = await fx.newVisitor();
  await page.goto(host.page('/', shopPage(server)));
  const w = new Widget(page);
  await w.ready();

  // Tab through the page (a link and a search field come first) to the
  // launcher.
  let tabs = 0;
  while (!(await w.focusIs('button.nc-launcher'))) {
    assert.ok(tabs < 15, `the launcher is reachable with Tab (focus is on ${await w.describeFocus()})`);
    await page.keyboard.press('Tab');
    tabs += 1;
  }
  assert.ok(tabs >= 3, `the page's own controls come first (${tabs} tabs)`);
  assert.equal(await w.launcher.getAttribute('aria-expanded'), 'false');
  assert.ok(await w.launcher.getAttribute('aria-label'), 'the launcher has an aria-label');

  await page.keyboard.press('Enter');
  await w.input.waitFor({ state: 'visible', timeout: 20_000 });
  await until(() => w.focusIs('textarea.nc-input'), {
    label: 'focus in the composer after opening',
    timeout: 10_000,
  }).catch(async (e) => {
    throw new Error(`${e.message}; focus is on ${await w.describeFocus()}`);
  });
  assert.equal(await w.launcher.getAttribute('aria-expanded'), 'true');

  await page.keyboard.type('first line');
  await page.keyboard.press('Shift+Enter');
  await page.keyboard.type('second line');
  assert.equal(await w.input.inputValue(), 'first line\nsecond line', 'Shift+Enter inserts a newline');
  assert.equal((await w.state()).msgs.length, 0, 'Shift+Enter does not send');
  await page.keyboard.press('Enter');
  const body = 'first line\nsecond line';
  await w.waitForMessage(body, { who: 'own', withSeq: true });
  assert.equal(await w.input.inputValue(), '', 'the composer is empty after sending');
  assert.ok(await w.focusIs('textarea.nc-input'), 'focus stays in the composer after sending');

  const ticket = await inbox.waitForNewTicket();
  await inbox.claim(ticket.id);
  await inbox.subscribe(ticket.id, 0);
  const got = await inbox.waitForMessage(ticket.id, body);
  assert.equal(got.body, body, 'the agent gets both lines in one message');

  await page.keyboard.press('Escape');
  await w.panel.waitFor({ state: 'hidden' });
  await until(() => w.focusIs('button.nc-launcher'), { label: 'focus back on the launcher', timeout: 5_000 }).catch(
    async (e) => {
      throw new Error(`${e.message}; focus is on ${await w.describeFocus()}`);
    },
  );
  assert.equal(await w.launcher.getAttribute('aria-expanded'), 'false');

  // And open again from there with the keyboard.
  await page.keyboard.press('Enter');
  await w.input.waitFor({ state: 'visible' });
  await until(() => w.focusIs('textarea.nc-input'), { label: 'focus in the composer on reopening', timeout: 5_000 });
  assert.deepEqual(log.errors, []);
});
