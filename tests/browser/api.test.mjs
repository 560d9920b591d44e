// More of the contract in docs/WIDGET.md: the unread badge and the
// `NeuroChat.on` events, the ticket status banner with its new
// conversation, and the `data-open` / `data-position` settings.

import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';

import { api, connectAgent, createAgent } from './lib/agent.mjs';
import { scenario } from './lib/browser.mjs';
import { shopPage } from './lib/host.mjs';
import { until, Widget } from './lib/widget.mjs';

/** Registers `NeuroChat.on` listeners that record into `window.__ncEvents`. */
async function recordEvents(page) {
  await page.evaluate(() => {
    window.__ncEvents = [];
    for (const name of ['message', 'open', 'close', 'unread', 'error']) {
      window.NeuroChat.on(name, (arg) => window.__ncEvents.push([name, arg ?? null]));
    }
  });
}
const events = (page) => page.evaluate(() => window.__ncEvents);

scenario('closed panel: replies raise the unread badge and fire on() events; opening clears it', async (fx) => {
  const { server, host } = fx;
  const agent = await createAgent(server);
  const inbox = fx.track(await connectAgent(server, agent));
  const { page, log } = await fx.newVisitor();
  await page.goto(host.page('/', shopPage(server)));
  const w = new Widget(page);
  await w.ready();
  await recordEvents(page);
  const wasmBefore = await page.evaluate(
    () => performance.getEntriesByType('resource').filter((e) => e.name.endsWith('.wasm')).length,
  );
  assert.equal(wasmBefore, 0, 'on() alone does not load the module');

  await w.open();
  await w.send('Is anyone there?');
  await w.waitForMessage('Is anyone there?', { who: 'own', withSeq: true });
  const ticket = await inbox.waitForNewTicket();
  await inbox.claim(ticket.id);
  await inbox.subscribe(ticket.id, 0);

  await page.evaluate(() => window.NeuroChat.close());
  await w.panel.waitFor({ state: 'hidden' });
  const badge = w.host.locator('button.nc-launcher .nc-badge');
  assert.equal(await badge.isVisible(), false, 'no badge while nothing is unread');

  const a1 = await inbox.send(ticket.id, 'Yes, hello!');
  const a2 = await inbox.send(ticket.id, 'How can I help?');
  await until(async () => (await badge.isVisible()) && (await badge.textContent()).trim() === '2', {
    label: 'the badge shows 2 unread',
  });
  await until(async () => (await events(page)).filter(([n]) => n === 'message').length >= 2, {
    label: 'two message events',
  });
  const ev = await events(page);
  assert.deepEqual(
    ev.filter(([n]) => n === 'message').map(([, m]) => ({ ticketId: m.ticketId, seq: m.seq, kind: m.kind, body: m.body })),
    [
      { ticketId: ticket.id, seq: a1.seq, kind: 'agent', body: 'Yes, hello!' },
      { ticketId: ticket.id, seq: a2.seq, kind: 'agent', body: 'How can I help?' },
    ],
    'on("message") gets each reply once',
  );
  const unread = ev.filter(([n]) => n === 'unread').map(([, c]) => c);
  assert.equal(unread.at(-1), 2, `on("unread") says 2 (saw ${JSON.stringify(unread)})`);
  assert.ok(ev.some(([n]) => n === 'open') && ev.some(([n]) => n === 'close'), 'open and close events fired');

  await w.launcher.click();
  await w.input.waitFor({ state: 'visible' });
  await until(async () => !(await badge.isVisible()), { label: 'the badge hidden after opening' });
  await until(async () => (await events(page)).filter(([n]) => n === 'unread').at(-1)?.[1] === 0, {
    label: 'on("unread") says 0 after opening',
  });
  assert.deepEqual(log.errors, []);
});

scenario('a resolved ticket shows its status banner; "new conversation" opens a new ticket', async (fx) => {
  const { server, host } = fx;
  const agent = await createAgent(server);
  const inbox = fx.track(await connectAgent(server, agent));
  const { page, log } = await fx.newVisitor();
  await page.goto(host.page('/', shopPage(server)));
  const w = new Widget(page);
  await w.ready();
  await w.open();
  await w.send('My first question');
  await w.waitForMessage('My first question', { who: 'own', withSeq: true });
  const first = await inbox.waitForNewTicket();
  await inbox.claim(first.id);
  await inbox.subscribe(first.id, 0);
  await inbox.send(first.id, 'Answered!');
  await w.waitForMessage('Answered!', { who: 'agent', withSeq: true });

  await api(server, 'PATCH', `/api/v1/tickets/${first.id}`, { token: agent.token, body: { status: 'resolved' } });
  const banner = w.host.locator('.nc-ticket-status');
  await until(async () => (await banner.getAttribute('data-status')) === 'resolved' && (await banner.isVisible()), {
    label: '.nc-ticket-status[data-status=resolved] shown',
  });
  const fresh = w.host.locator('.nc-ticket-status button.nc-new-conversation');
  await fresh.waitFor({ state: 'visible' });
  await fresh.click();
  await until(async () => (await w.state()).msgs.length === 0, { label: 'an empty conversation after "new conversation"' });

  await w.send('A different question');
  await w.waitForMessage('A different question', { who: 'own', withSeq: true });
  const second = await inbox.waitForNewTicket();
  assert.notEqual(second.id, first.id, 'a new ticket was opened');
  const s = await w.state();
  assert.deepEqual(
    s.msgs.map((m) => [m.who, m.seq, m.body]),
    [['own', 1, 'A different question']],
    'only the new conversation is shown',
  );
  await sleep(300);
  assert.deepEqual(log.errors, []);
});

scenario('data-open="true" opens on load; data-position="left" puts the widget on the left', async (fx) => {
  const { server, host } = fx;
  const { page, log } = await fx.newVisitor();
  await page.goto(host.page('/', shopPage(server, { attrs: { 'data-open': 'true', 'data-position': 'left' } })));
  const w = new Widget(page);
  await w.ready();
  await w.input.waitFor({ state: 'visible', timeout: 20_000 });
  assert.equal(await w.launcher.getAttribute('aria-expanded'), 'true');
  const launcher = await w.launcher.boundingBox();
  const panel = await w.panel.boundingBox();
  assert.ok(launcher.x < 200, `launcher on the left (x = ${launcher.x})`);
  assert.ok(panel.x < 200, `panel on the left (x = ${panel.x})`);
  assert.deepEqual(log.errors, []);
});

scenario('a message at the length limit shows the counter and arrives intact; the composer holds no more', async (fx) => {
  const { server, host } = fx;
  const agent = await createAgent(server);
  const inbox = fx.track(await connectAgent(server, agent));
  const limit = inbox.hello.limits.max_body_chars;
  assert.ok(Number.isInteger(limit) && limit > 0, `the server's limit: ${limit}`);

  const { page, log } = await fx.newVisitor();
  await page.goto(host.page('/', shopPage(server)));
  const w = new Widget(page);
  await w.ready();
  await w.open();
  await until(async () => (await w.state()).connection === 'online', { label: 'online (hello carries the limit)' });
  const counter = w.host.locator('form.nc-composer .nc-counter');
  await w.input.fill('short');
  assert.equal(await counter.isVisible(), false, 'no counter far from the limit');

  const tail = ' and the last words';
  const body = `${'x'.repeat(limit - tail.length)}${tail}`;
  assert.equal(body.length, limit);
  await w.input.fill(body);
  await until(() => counter.isVisible(), { label: '.nc-counter shown at the limit' });
  await w.input.press('Enter');
  await w.waitForMessage(body, { who: 'own', withSeq: true, timeout: 20_000 });
  const ticket = await inbox.waitForNewTicket();
  await inbox.claim(ticket.id);
  await inbox.subscribe(ticket.id, 0);
  const got = await inbox.waitForMessage(ticket.id, body);
  assert.equal(got.body.length, limit, 'the agent gets all of it');

  // Typing past the limit: the composer keeps at most the limit.
  await w.input.fill('y'.repeat(limit + 50));
  const draft = await w.input.inputValue();
  assert.ok(draft.length <= limit, `the composer holds ${draft.length} of ${limit + 50} characters`);
  await w.input.press('Enter');
  await sleep(1_500);
  const stored = await api(server, 'GET', `/api/v1/tickets/${ticket.id}/messages?limit=200`, { token: agent.token });
  assert.ok(stored.items.every((m) => [...m.body].length <= limit), 'nothing stored over the limit');
  assert.deepEqual(log.errors, []);
});
