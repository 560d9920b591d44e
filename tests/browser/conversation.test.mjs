// (a) A shop page with hostile CSS embeds the widget; a visitor opens it and
// writes; the ticket reaches the agent's inbox over the WebSocket; the agent
// claims it, types and replies; reply, typing indicator and read ticks show
// in the widget, which stays visible and sanely sized. The same exchange on
// a plain page runs too, so a failure says whether the CSS or the
// conversation broke.

import assert from 'node:assert/strict';
import path from 'node:path';

import { connectAgent, createAgent } from './lib/agent.mjs';
import { scenario } from './lib/browser.mjs';
import { config } from './lib/config.mjs';
import { shopPage } from './lib/host.mjs';
import { until, Widget } from './lib/widget.mjs';

/**
 * The whole exchange on a shop page, `hostile` or plain. The plain run
 * tells a broken conversation apart from CSS the widget does not survive.
 */
async function conversation(fx, { hostile }) {
  const { server, host } = fx;
  const agent = await createAgent(server);
  const inbox = fx.track(await connectAgent(server, agent));

  const { page, log } = await fx.newVisitor();
  await page.goto(host.page('/', shopPage(server, { hostile })));
  const w = new Widget(page);
  await w.ready();

  // Visible and sanely sized despite `* { all: unset !important;
  // font-size: 40px }` and `div, button, section { display: none }`.
  const launcherBox = await w.launcher.boundingBox();
  assert.ok(launcherBox, 'the launcher has a box');
  assert.ok(launcherBox.width >= 32 && launcherBox.width <= 240, `launcher width ${launcherBox.width}`);
  assert.ok(launcherBox.height >= 32 && launcherBox.height <= 120, `launcher height ${launcherBox.height}`);
  assert.ok(
    launcherBox.x >= 0 && launcherBox.y >= 0 && launcherBox.x + launcherBox.width <= 1280 && launcherBox.y + launcherBox.height <= 800,
    `launcher inside the viewport: ${JSON.stringify(launcherBox)}`,
  );
  const onTop = await page.evaluate(({ x, y }) => {
    const root = document.getElementById('neurochat-root').shadowRoot;
    const hit = root.elementFromPoint(x, y);
    return !!hit && !!hit.closest('.nc-launcher');
  }, { x: launcherBox.x + launcherBox.width / 2, y: launcherBox.y + launcherBox.height / 2 });
  assert.ok(onTop, 'nothing of the page covers the launcher');

  await w.open();
  assert.equal(await w.launcher.getAttribute('aria-expanded'), 'true');
  const panelBox = await w.panel.boundingBox();
  assert.ok(panelBox, 'the panel has a box');
  assert.ok(panelBox.width >= 280 && panelBox.width <= 1280, `panel width ${panelBox.width}`);
  assert.ok(panelBox.height >= 300 && panelBox.height <= 800, `panel height ${panelBox.height}`);
  assert.ok(
    panelBox.x >= 0 && panelBox.y >= 0 && panelBox.x + panelBox.width <= 1280 + 0.5 && panelBox.y + panelBox.height <= 800 + 0.5,
    `panel inside the viewport: ${JSON.stringify(panelBox)}`,
  );
  assert.equal(await w.panel.getAttribute('role'), 'dialog');

  const first = 'Hello, my order #1042 has not arrived.';
  await w.send(first);
  const own = await w.waitForMessage(first, { who: 'own', withSeq: true });
  assert.equal(own.seq, 1, 'the first message of a new ticket has seq 1');

  // The text the visitor reads is not the page's 40px red.
  const look = await page.evaluate(() => {
    const root = document.getElementById('neurochat-root').shadowRoot;
    const body = root.querySelector('li.nc-msg .nc-body');
    const input = root.querySelector('textarea.nc-input');
    const cs = getComputedStyle(body);
    const ci = getComputedStyle(input);
    return { fontSize: parseFloat(cs.fontSize), color: cs.color, inputFont: parseFloat(ci.fontSize), inputDisplay: ci.display };
  });
  assert.ok(look.fontSize >= 11 && look.fontSize <= 24, `message font size ${look.fontSize}px`);
  assert.ok(look.inputFont >= 11 && look.inputFont <= 24, `composer font size ${look.inputFont}px`);
  assert.notEqual(look.color, 'rgb(255, 0, 0)', 'message text is not the page’s red');
  assert.notEqual(look.inputDisplay, 'none');

  // The agent: inbox event, claim, subscribe (replay), the visitor's words.
  const ticket = await inbox.waitForNewTicket();
  await inbox.claim(ticket.id);
  await inbox.subscribe(ticket.id, 0);
  const got = await inbox.waitForMessage(ticket.id, first);
  assert.equal(got.kind, 'customer');
  assert.equal(got.seq, 1);

  // Typing indicator.
  inbox.typing(ticket.id, true);
  await until(async () => (await w.state()).typingShown, { label: '.nc-typing shown while the agent types' });
  inbox.typing(ticket.id, false);
  await until(async () => !(await w.state()).typingShown, { label: '.nc-typing hidden after typing_stop' });

  // The reply.
  const reply = 'Sorry about that! It ships today.';
  const ack = await inbox.send(ticket.id, reply);
  const shown = await w.waitForMessage(reply, { who: 'agent', withSeq: true });
  assert.equal(shown.seq, ack.seq);

  // Read ticks once the agent has read the visitor's message.
  inbox.markRead(ticket.id, 1);
  await until(
    async () => (await w.state()).msgs.find((m) => m.body === first)?.ticks === 'read',
    { label: '.nc-ticks[data-state=read] on the visitor’s message' },
  );
  const ticks = w.host.locator('li.nc-msg.nc-own .nc-ticks[data-state="read"]');
  assert.equal(await ticks.count(), 1);

  if (hostile) await page.screenshot({ path: path.join(config.artifacts, 'widget-hostile-css-1280x800.png') });

  // The widget still fits, and nothing threw.
  const s = await w.state();
  assert.equal(s.connection, 'online');
  assert.deepEqual(
    s.msgs.filter((m) => m.who !== 'system').map((m) => [m.who, m.body]),
    [
      ['own', first],
      ['agent', reply],
    ],
  );
  assert.deepEqual(log.errors, [], 'no uncaught page errors');
  assert.deepEqual(log.dialogs, []);
}

scenario('hostile-CSS shop: visitor writes, agent claims and replies, typing and read ticks show', (fx) =>
  conversation(fx, { hostile: true }),
);

scenario('plain shop: visitor writes, agent claims and replies, typing and read ticks show', (fx) =>
  conversation(fx, { hostile: false }),
);
