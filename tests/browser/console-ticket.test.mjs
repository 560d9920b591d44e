// The open ticket beyond the happy path (docs/CONSOLE.md, "Conversation"):
// history longer than one page (the latest 50, then `Earlier messages`),
// each seq once across the REST pages and the live stream; a send refused
// for good (closed ticket) is marked failed with Retry and Discard; an
// internal note reaches another agent live but never the customer; the
// other side's typing indicator expires by itself after 8 s.

import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';

import { AgentSocket, api, connectAgent, login, ticketMessages } from './lib/agent.mjs';
import { scenario } from './lib/browser.mjs';
import { assertQuiet, connectCustomer, newAgent, openConsole, tid, until } from './lib/console.mjs';

scenario('history: 60+ messages, the latest 50 first, Earlier messages pages back; each seq once', async (fx) => {
  const { server } = fx;
  const agent = await newAgent(server, { name: 'Alice Agent' });
  const cust = fx.track(await connectCustomer(server, { name: 'Carla Customer' }));
  const { ticketId } = await cust.createTicket('Long story', 'c-1');
  // The agent's own socket writes half of the history (the per-user rate
  // limit of messages per minute allows about 60 each).
  const sock = fx.track(await connectAgent(server, agent));
  await sock.claim(ticketId);
  await sock.subscribe(ticketId, 0);
  for (let i = 2; i <= 31; i++) {
    await cust.send(ticketId, `c-${i}`);
    await sock.send(ticketId, `a-${i}`);
  }
  const stored = await ticketMessages(server, agent.token, ticketId);
  assert.ok(stored.length >= 61, `${stored.length} stored messages`);
  const last = stored[stored.length - 1].seq;

  const c = await openConsole(fx, { email: agent.user.email, password: agent.password });
  await c.waitForRow(ticketId);
  await c.openTicket(ticketId);
  const first = await until(
    async () => {
      const s = await c.state();
      return s.msgs.some((m) => m.seq === last) ? s : null;
    },
    { label: `the latest message (seq ${last}) shown` },
  );
  assert.equal(first.msgs.length, 50, 'the latest 50 messages first');
  assert.deepEqual(
    first.msgs.map((m) => m.seq),
    stored.slice(-50).map((m) => m.seq),
  );
  await c.t('load-earlier').waitFor({ state: 'visible' });

  // A live message while the history is partial.
  await cust.send(ticketId, 'live-1');
  await c.waitForMessage('live-1');

  // Page back until the start.
  for (let i = 0; i < 5 && (await c.t('load-earlier').count()); i++) {
    const n = (await c.state()).msgs.length;
    await c.t('load-earlier').click();
    await until(async () => (await c.state()).msgs.length > n || (await c.t('load-earlier').count()) === 0, {
      label: 'earlier messages added',
    });
  }
  await until(async () => (await c.t('load-earlier').count()) === 0, { label: 'no "Earlier messages" at seq 1' });
  const all = await ticketMessages(server, (await login(server, agent.user.email, agent.password)).token, ticketId);
  const s = await c.state();
  assert.deepEqual(
    s.msgs.map((m) => [m.seq, m.kind, m.body]),
    all.map((m) => [m.seq, m.kind, m.body]),
    'the whole conversation, each seq once, in order',
  );
  assert.deepEqual(c.log.errors, [], 'no uncaught page errors');
});

scenario('a send to a closed ticket is marked failed with Retry and Discard', async (fx) => {
  const { server } = fx;
  const agent = await newAgent(server, { name: 'Alice Agent' });
  const c = await openConsole(fx, { email: agent.user.email, password: agent.password });
  const cust = fx.track(await connectCustomer(server, { name: 'Carla Customer' }));
  const { ticketId } = await cust.createTicket('Close me', 'hello');
  await c.waitForRow(ticketId);
  await c.openTicket(ticketId);
  await c.t('claim').click();
  await until(async () => (await c.state()).assignee === 'Assigned to you', { label: '"Assigned to you"' });

  // Closed behind the console's back (the admin, over REST).
  await api(server, 'PATCH', `/api/v1/tickets/${ticketId}`, { token: agent.admin.token, body: { status: 'resolved' } });
  await api(server, 'PATCH', `/api/v1/tickets/${ticketId}`, { token: agent.admin.token, body: { status: 'closed' } });
  await until(async () => (await c.t('status-select').inputValue()) === 'closed', {
    label: 'status-select shows "closed" (live ticket_event)',
  });

  const since = cust.frames.length;
  await c.send('this cannot be sent');
  const failed = c.page.locator(`${tid('message')}[data-pending="true"]`, { hasText: 'this cannot be sent' });
  await failed.locator(tid('retry-send')).waitFor({ state: 'visible' });
  await failed.locator(tid('discard-send')).waitFor({ state: 'visible' });
  const m = (await c.state()).msgs.find((x) => x.body === 'this cannot be sent');
  assert.equal(m.seq, null, 'no seq: never stored');
  assert.equal(m.tick, null, 'no pending tick once failed');
  // Retry fails again (still closed), and stays one item.
  await failed.locator(tid('retry-send')).click();
  await sleep(1_000);
  assert.equal((await c.state()).msgs.filter((x) => x.body === 'this cannot be sent').length, 1, 'one item after Retry');
  await failed.locator(tid('discard-send')).waitFor({ state: 'visible' });
  // Discard removes it.
  await failed.locator(tid('discard-send')).click();
  await until(async () => !(await c.state()).msgs.some((x) => x.body === 'this cannot be sent'), { label: 'discarded' });
  await assertQuiet(cust, (f) => f.type === 'message' && f.message.body === 'this cannot be sent', {
    since,
    ms: 500,
    label: 'the refused message reached the customer',
  });
  const stored = await ticketMessages(server, agent.admin.token, ticketId);
  assert.equal(stored.find((x) => x.body === 'this cannot be sent'), undefined, 'nothing stored');
  assert.deepEqual(c.log.errors, [], 'no uncaught page errors');
});

scenario('an internal note reaches another agent live, not the customer; typing expires after 8 s', async (fx) => {
  const { server } = fx;
  const alice = await newAgent(server, { name: 'Alice Agent' });
  const bob = await newAgent(server, { name: 'Bob Agent' });
  const c = await openConsole(fx, { email: alice.user.email, password: alice.password });
  const cb = await openConsole(fx, { email: bob.user.email, password: bob.password });
  const cust = fx.track(await connectCustomer(server, { name: 'Carla Customer' }));
  const { ticketId } = await cust.createTicket('Notes', 'hello');
  const bobSock = fx.track(new AgentSocket(server, bob.token));
  await bobSock.connect();
  await bobSock.subscribe(ticketId, 0);

  await c.waitForRow(ticketId);
  await c.openTicket(ticketId);
  await c.t('claim').click();
  await until(async () => (await c.state()).assignee === 'Assigned to you', { label: '"Assigned to you"' });
  await cb.waitForRow(ticketId);
  await cb.openTicket(ticketId);

  const since = cust.frames.length;
  const note = 'Staff only: VIP customer';
  await c.send(note, { internal: true });
  const mine = await c.waitForMessage(note);
  assert.equal(mine.kind, 'internal_note');
  const viaSock = await bobSock.waitForMessage(ticketId, note);
  assert.equal(viaSock.kind, 'internal_note', "Bob's socket gets the note as a note");
  const onBob = await cb.waitForMessage(note);
  assert.equal(onBob.kind, 'internal_note', "Bob's console shows it as a note");
  assert.match(onBob.who ?? '', /Internal note · Alice Agent/);

  // The customer types and stops sending frames: the indicator goes by itself.
  cust.typing(ticketId, true);
  await until(async () => (await c.state()).typing?.active === 'true', { label: 'typing shown' });
  const shownAt = Date.now();
  await until(async () => (await c.state()).typing?.active === 'false', {
    timeout: 15_000,
    label: 'typing indicator expired without typing_stop',
  });
  const took = Date.now() - shownAt;
  console.log(`# typing indicator expired after ${took} ms`);
  assert.ok(took >= 6_000, `not before ~8 s (${took} ms)`);

  await assertQuiet(
    cust,
    (f) => (f.type === 'message' && (f.message.body === note || f.message.kind === 'internal_note')) || JSON.stringify(f).includes(note),
    { since, ms: 0, label: 'the note reached the customer' },
  );
  for (const x of [c, cb]) assert.deepEqual(x.log.errors, [], 'no uncaught page errors');
}, { timeout: 120_000 });
