// Issue #7, point 2: the agent who claimed a ticket chats with the customer.
// Messages, typing and read ticks flow both ways live: the customer is a
// raw protocol-v1 WebSocket (frames asserted), the agent the console (DOM
// asserted). An internal note sent from the console never reaches the
// customer: over a quiet period no message frame with its body or of kind
// `internal_note` arrives, and the customer's REST history lacks it too.

import assert from 'node:assert/strict';

import { api } from './lib/agent.mjs';
import { scenario } from './lib/browser.mjs';
import { assertQuiet, connectCustomer, newAgent, openConsole, until } from './lib/console.mjs';

scenario('chat: messages, typing and read ticks both ways live; an internal note never reaches the customer', async (fx) => {
  const { server } = fx;
  const agent = await newAgent(server, { name: 'Alice Agent' });
  const c = await openConsole(fx, { email: agent.user.email, password: agent.password });
  const cust = fx.track(await connectCustomer(server, { name: 'Carla Customer' }));
  const first = 'Hello, my order #1042 has not arrived.';
  const { ticketId } = await cust.createTicket('Order #1042 missing', first);

  await c.waitForRow(ticketId);
  await c.openTicket(ticketId);
  await c.t('claim').click();
  await until(async () => (await c.state()).assignee === 'Assigned to you', { label: '"Assigned to you" after claim' });

  // The customer's first message in the console, once, as a customer's.
  const m1 = await c.waitForMessage(first);
  assert.equal(m1.kind, 'customer');
  assert.equal(m1.seq, 1);

  // Read receipt console → customer: the console saw seq 1 and said so.
  const r1 = await cust.waitFor(
    (f) => f.type === 'receipt' && f.receipt.user_id === agent.user.id && f.receipt.read_seq >= 1,
    { label: "receipt frame: the agent's read_seq >= 1" },
  );
  assert.equal(r1.receipt.ticket_id, ticketId);

  // Customer → console, live.
  const second = 'It was due on Monday.';
  await cust.send(ticketId, second);
  const m2 = await c.waitForMessage(second);
  assert.equal(m2.kind, 'customer');
  assert.equal(m2.seq, 2);
  await cust.waitFor(
    (f) => f.type === 'receipt' && f.receipt.user_id === agent.user.id && f.receipt.read_seq >= 2,
    { label: "receipt frame: the agent's read_seq >= 2 (read live)" },
  );

  // Typing customer → console.
  cust.typing(ticketId, true);
  const typingOn = await until(
    async () => {
      const s = await c.state();
      return s.typing?.active === 'true' ? s.typing : null;
    },
    { label: 'typing-indicator data-active=true while the customer types' },
  );
  assert.match(typingOn.text, /Carla Customer is typing/);
  cust.typing(ticketId, false);
  await until(async () => (await c.state()).typing?.active === 'false', {
    label: 'typing-indicator data-active=false after typing_stop',
  });

  // Typing console → customer: keys in the composer send typing_start.
  const beforeTyping = cust.frames.length;
  const reply = 'Sorry about that! It ships today.';
  await c.t('composer').click();
  await c.t('composer').pressSequentially(reply.slice(0, 12), { delay: 30 });
  const typingFrame = await cust.waitFor(
    (f) => f.type === 'typing' && f.ticket_id === ticketId && f.user_id === agent.user.id && f.active === true,
    { since: beforeTyping, label: 'typing frame (active) from the agent' },
  );
  assert.ok(typingFrame);

  // The reply: composer text completed, Enter.
  await c.t('composer').pressSequentially(reply.slice(12), { delay: 5 });
  await c.t('composer').press('Enter');
  const got = await cust.waitForMessage(ticketId, reply);
  assert.equal(got.kind, 'agent');
  assert.equal(got.author_id, agent.user.id);
  assert.equal(got.seq, 3);
  await cust.waitFor(
    (f) => f.type === 'typing' && f.ticket_id === ticketId && f.user_id === agent.user.id && f.active === false,
    { since: beforeTyping, label: 'typing frame (stopped) from the agent after the send' },
  );
  const shown = await c.waitForMessage(reply);
  assert.equal(shown.seq, got.seq, 'the console shows the stored seq');
  assert.equal(shown.kind, 'agent');
  assert.equal(await c.t('composer').inputValue(), '', 'composer cleared after sending');
  await until(async () => (await c.state()).msgs.find((m) => m.seq === got.seq)?.tick === 'sent', {
    label: 'tick data-tick=sent on the reply',
  });

  // Ticks customer → console: delivered, then read.
  cust.markDelivered(ticketId, got.seq);
  await until(async () => (await c.state()).msgs.find((m) => m.seq === got.seq)?.tick === 'delivered', {
    label: 'tick data-tick=delivered after mark_delivered',
  });
  cust.markRead(ticketId, got.seq);
  await until(async () => (await c.state()).msgs.find((m) => m.seq === got.seq)?.tick === 'read', {
    label: 'tick data-tick=read after mark_read',
  });
  // Customer messages carry no ticks (ticks are the agent's own messages).
  const sNow = await c.state();
  assert.deepEqual(sNow.msgs.filter((m) => m.kind === 'customer').map((m) => m.tick), [null, null]);

  // The internal note: stored, shown dashed and labelled in the console...
  const since = cust.frames.length;
  const note = `INTERNAL NOTE ${Date.now()}: customer sounds upset, offer a voucher`;
  await c.send(note, { internal: true });
  const shownNote = await c.waitForMessage(note);
  assert.equal(shownNote.kind, 'internal_note');
  assert.match(shownNote.who ?? '', /Internal note/);
  assert.equal(shownNote.tick, null, 'notes have no tick');
  // ...and never reaches the customer's socket.
  await assertQuiet(
    cust,
    (f) =>
      (f.type === 'message' && (f.message.body === note || f.message.kind === 'internal_note')) ||
      JSON.stringify(f).includes(note),
    { since, ms: 3_000, label: 'a frame carrying the internal note reached the customer' },
  );
  // Nor the customer's REST history.
  const hist = await api(server, 'GET', `/api/v1/tickets/${ticketId}/messages?after_seq=0&limit=200`, { token: cust.visitorToken });
  assert.equal(hist.items.find((m) => m.body === note || m.kind === 'internal_note'), undefined, 'no note in the customer history');

  // The conversation goes on after the note (the customer sees a seq gap, no loss).
  const after = 'A voucher is on its way too.';
  await c.send(after);
  const gotAfter = await cust.waitForMessage(ticketId, after);
  assert.equal(gotAfter.seq, shownNote.seq + 1);
  assert.deepEqual(
    cust.messages(ticketId).map((m) => [m.seq, m.kind, m.body]),
    [
      [1, 'customer', first],
      [2, 'customer', second],
      [3, 'agent', reply],
      [gotAfter.seq, 'agent', after],
    ],
    'the customer got exactly these messages',
  );
  const final = await until(
    async () => {
      const s = await c.state();
      return s.msgs.length === 5 && s.msgs.every((m) => m.seq !== null) ? s : null;
    },
    { label: 'five stored messages in the console' },
  );
  assert.deepEqual(
    final.msgs.map((m) => [m.seq, m.kind, m.body]),
    [
      [1, 'customer', first],
      [2, 'customer', second],
      [3, 'agent', reply],
      [4, 'internal_note', note],
      [5, 'agent', after],
    ],
  );
  assert.deepEqual(await c.cspViolations(), [], 'no CSP violation under the console\'s own policy');
  assert.deepEqual(c.log.errors, [], 'no uncaught page errors');
});
