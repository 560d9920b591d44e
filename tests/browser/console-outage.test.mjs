// Issue #7, point 5: the server is killed (SIGKILL) and restarted on the
// same port and database while an agent has a ticket open in the console.
// The customer (the widget on a shop page) writes during the outage (its
// messages wait in its outbox) and after it; the agent writes during the
// outage too (pending in the console). The console reconnects by itself
// and shows every message exactly once, in order: its list of message
// items (`data-seq`, kind, body) equals the server's stored conversation.

import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';

import { login, ticketMessages } from './lib/agent.mjs';
import { scenario } from './lib/browser.mjs';
import { connectCustomer, CustomerSocket, newAgent, openConsole, until } from './lib/console.mjs';
import { shopPage } from './lib/host.mjs';
import { Widget } from './lib/widget.mjs';

scenario('outage: kill -9 and restart while a ticket is open; the console shows every message once, in order', async (fx) => {
  const { server, host } = fx;
  const agent = await newAgent(server, { name: 'Alice Agent' });
  const c = await openConsole(fx, { email: agent.user.email, password: agent.password });

  // The customer: the widget on the shop's page.
  const { page } = await fx.newVisitor();
  await page.goto(host.page('/', shopPage(server)));
  const w = new Widget(page);
  await w.ready();
  await w.open();
  await w.send('before-1');
  await w.waitForMessage('before-1', { who: 'own', withSeq: true });

  const row = await until(async () => (await c.state()).rows[0], { label: 'the widget ticket listed live' });
  const ticketId = row.id;
  await c.openTicket(ticketId);
  await c.t('claim').click();
  await until(async () => (await c.state()).assignee === 'Assigned to you', { label: '"Assigned to you"' });
  await c.waitForMessage('before-1');
  await c.send('agent-before');
  await c.waitForMessage('agent-before');
  await w.waitForMessage('agent-before', { who: 'agent', withSeq: true });
  await w.send('before-2');
  await c.waitForMessage('before-2');
  const socketsBefore = c.sockets.length;

  // Outage.
  await server.kill9();
  const down = Date.now();
  await until(async () => (await c.connectionState()) !== 'online', {
    timeout: 20_000,
    label: 'connection-state leaves "online" after the server died',
  });
  console.log(`# console connection-state ${await c.connectionState()} ${Date.now() - down} ms after kill -9`);
  await until(async () => (await w.state()).connection !== 'online', {
    timeout: 20_000,
    label: 'the widget notices the outage',
  });
  // The banner tells the agent.
  await until(async () => (await c.t('banner').getAttribute('hidden')) === null, {
    label: 'the connection banner (data-testid=banner) shown during the outage',
  });

  // Both sides write while the server is down.
  const customerDuring = ['outage-1 from the customer', 'outage-2 from the customer'];
  for (const body of customerDuring) {
    await w.send(body);
    await w.waitForMessage(body, { who: 'own' });
  }
  await c.send('agent-during-outage');
  const pending = await c.waitForMessage('agent-during-outage', { pending: true });
  assert.equal(pending.pending, true, 'the agent message is pending (data-pending) while offline');
  assert.equal(pending.seq, null);
  // A few failed reconnect attempts.
  await sleep(2_000);

  // Back on the same port and database.
  await server.restart();
  console.log(`# server back ${Date.now() - down} ms after kill -9`);

  // The customer writes again as soon as the widget is back.
  await until(async () => (await w.state()).connection === 'online', { timeout: 30_000, label: 'the widget back online' });
  const customerAfter = ['after-1 from the customer', 'after-2 from the customer'];
  for (const body of customerAfter) await w.send(body);

  console.log(`# widget online again ${Date.now() - down} ms after kill -9; console ${await c.connectionState()}`);
  await c.waitOnline(30_000);
  console.log(`# console online again ${Date.now() - down} ms after kill -9 (${c.sockets.length - socketsBefore} new socket(s))`);
  assert.ok(c.sockets.length > socketsBefore, 'the console opened a new WebSocket');
  await until(async () => (await c.t('banner').getAttribute('hidden')) !== null, { label: 'the banner hidden again once online' });

  const expected = [
    'before-1',
    'agent-before',
    'before-2',
    ...customerDuring,
    'agent-during-outage',
    ...customerAfter,
  ];
  const shown = await until(
    async () => {
      const s = await c.state();
      const stored = s.msgs.filter((m) => m.seq !== null);
      return expected.every((b) => stored.some((m) => m.body === b)) && s.msgs.every((m) => !m.pending) ? s : null;
    },
    { timeout: 30_000, label: 'every message shown with a data-seq, none pending' },
  );
  // A late duplicate would show up now.
  await sleep(1_500);
  const final = await c.state();
  assert.equal(final.ticketId, ticketId, 'the same ticket is still open');
  const list = final.msgs.map((m) => [m.seq, m.kind, m.body]);
  assert.deepEqual(list, shown.msgs.map((m) => [m.seq, m.kind, m.body]), 'nothing changed in the quiet period');

  // Exactly once, in order.
  const seqs = list.map(([s]) => s);
  assert.deepEqual(seqs, [...seqs].sort((a, b) => a - b), `data-seq ascending: ${seqs}`);
  assert.equal(new Set(seqs).size, seqs.length, `each data-seq once: ${seqs}`);
  for (const b of expected) {
    assert.equal(list.filter(([, , body]) => body === b).length, 1, `${b} shown exactly once`);
  }
  const order = list.map(([, , body]) => body).filter((b) => expected.includes(b));
  const custOrder = order.filter((b) => !b.startsWith('agent-'));
  assert.deepEqual(custOrder, expected.filter((b) => !b.startsWith('agent-')), 'customer messages in the order written');

  // The console's list is the server's conversation, item for item.
  const fresh = await login(server, agent.user.email, agent.password);
  const stored = await ticketMessages(server, fresh.token, ticketId);
  assert.deepEqual(
    list,
    stored.map((m) => [m.seq, m.kind, m.body]),
    'the console shows exactly the stored messages, in seq order',
  );
  // The widget too got the agent's outage message once.
  const ws = await w.state();
  assert.equal(ws.msgs.filter((m) => m.body === 'agent-during-outage').length, 1, 'the widget shows the agent outage message once');
  assert.deepEqual(c.log.errors, [], 'no uncaught page errors');
}, { timeout: 180_000 });

// The same guarantee on the resume path alone: after the restart the
// console is kept offline (Chromium's network emulation) while the
// customer, on a fresh raw socket, writes three messages; only then does
// the console get its network back. It must fetch exactly those (resume
// from the last seq it holds) and show the conversation once, in order.
scenario('outage: messages written while the console is still offline after a restart are shown once, in order', async (fx) => {
  const { server } = fx;
  const agent = await newAgent(server, { name: 'Alice Agent' });
  const c = await openConsole(fx, { email: agent.user.email, password: agent.password });
  const cust = fx.track(await connectCustomer(server, { name: 'Carla Customer' }));
  const { ticketId } = await cust.createTicket('Resume me', 'first');
  await c.waitForRow(ticketId);
  await c.openTicket(ticketId);
  await c.t('claim').click();
  await until(async () => (await c.state()).assignee === 'Assigned to you', { label: '"Assigned to you"' });
  await cust.send(ticketId, 'second');
  await c.send('agent reply before');
  await cust.waitForMessage(ticketId, 'agent reply before');
  await c.waitForMessage('second');

  await server.kill9();
  await until(async () => (await c.connectionState()) !== 'online', { timeout: 20_000, label: 'console notices the outage' });
  await c.context.setOffline(true);
  await server.restart();

  // The customer comes back first and writes while the console cannot.
  const cust2 = fx.track(new CustomerSocket(server, cust.visitorToken));
  await cust2.connect();
  await cust2.subscribe(ticketId, Math.max(...cust.messages(ticketId).map((m) => m.seq)));
  const afterBodies = ['after-1', 'after-2', 'after-3'];
  for (const b of afterBodies) await cust2.send(ticketId, b);
  // Give the console's reconnect loop a moment of failing: nothing new may show yet.
  await sleep(1_000);
  const offline = await c.state();
  assert.notEqual(offline.connection, 'online', 'the console is still offline');
  assert.equal(offline.msgs.filter((m) => afterBodies.includes(m.body)).length, 0, 'nothing of after-* yet');

  await c.context.setOffline(false);
  await c.waitOnline(40_000);
  await until(
    async () => {
      const s = await c.state();
      return afterBodies.every((b) => s.msgs.some((m) => m.body === b && m.seq !== null));
    },
    { timeout: 20_000, label: 'after-1..3 shown with a data-seq after the console reconnected' },
  );
  await sleep(1_500);
  const list = (await c.state()).msgs.map((m) => [m.seq, m.kind, m.body]);
  const fresh = await login(server, agent.user.email, agent.password);
  const stored = await ticketMessages(server, fresh.token, ticketId);
  assert.deepEqual(list, stored.map((m) => [m.seq, m.kind, m.body]), 'the console shows exactly the stored messages, in seq order');
  assert.deepEqual(
    list.map(([, , b]) => b),
    ['first', 'second', 'agent reply before', ...afterBodies],
  );
  assert.deepEqual(c.log.errors, [], 'no uncaught page errors');
}, { timeout: 180_000 });

// The browser's own network events (docs/CONSOLE.md, "Connection"): going
// offline shows at once (a dead socket's `close` can wait for a closing
// handshake that never comes), and coming back reconnects at once rather
// than at the end of a backoff that grew while offline.
scenario('network: offline shows at once, online reconnects at once', async (fx) => {
  const { server } = fx;
  const agent = await newAgent(server, { name: 'Nora Network' });
  const c = await openConsole(fx, { email: agent.user.email, password: agent.password });

  await c.context.setOffline(true);
  const wentOffline = Date.now();
  await until(async () => (await c.connectionState()) !== 'online', { timeout: 3_000, label: 'offline shown within 3 s' });
  console.log(`# offline shown after ${Date.now() - wentOffline} ms`);
  // Long enough for several failed attempts: the backoff's next delay is
  // now seconds long (0.5, 1, 2, 4 s ceilings).
  await sleep(6_000);
  assert.notEqual(await c.connectionState(), 'online', 'still offline');

  await c.context.setOffline(false);
  const back = Date.now();
  await until(async () => (await c.connectionState()) === 'online', { timeout: 2_500, label: 'online again within 2.5 s of the network' });
  console.log(`# online again after ${Date.now() - back} ms`);
  await sleep(1_000);
  // The page's own view: the socket given up while offline may still be
  // closing (its handshake never completed), but only one is open.
  const open = await c.page.evaluate(() => window.__ncSockets.filter((w) => w.readyState === 1).length);
  assert.equal(open, 1, 'exactly one socket open after coming back');
  assert.deepEqual(c.log.errors, [], 'no uncaught page errors');
});
