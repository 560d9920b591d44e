// Issue #7, point 3: a customer's new ticket appears in a logged-in agent's
// inbox without a reload, marked new, and the tab title counts the new
// tickets not opened yet: `(N) NeuroChat console` (docs/CONSOLE.md).

import assert from 'node:assert/strict';

import { scenario } from './lib/browser.mjs';
import { connectCustomer, newAgent, openConsole, tid, until } from './lib/console.mjs';

scenario('inbox: new tickets appear live without a reload, with a "(N) NeuroChat console" title count', async (fx) => {
  const { server } = fx;
  const agent = await newAgent(server, { name: 'Alice Agent' });
  const c = await openConsole(fx, { email: agent.user.email, password: agent.password });
  await c.t('inbox-list').waitFor({ state: 'visible' });

  // A marker on the window: a reload (or any navigation) would drop it.
  let navigations = 0;
  c.page.on('framenavigated', (f) => {
    if (f === c.page.mainFrame()) navigations += 1;
  });
  await c.page.evaluate(() => {
    window.__ncNoReload = 'still here';
  });
  const before = await c.state();
  assert.equal(before.rows.length, 0, 'an empty inbox to start with');
  assert.equal(before.title, 'NeuroChat console', 'no count in the title yet');

  // First ticket.
  const cust1 = fx.track(await connectCustomer(server, { name: 'Carla Customer' }));
  const t1 = await cust1.createTicket('Parcel lost in transit', 'My parcel never arrived.');
  const row1 = await c.waitForRow(t1.ticketId, { label: 'the first new ticket listed live' });
  assert.equal(row1.status, 'new');
  assert.equal(row1.isNew, true, 'new-badge on the live row');
  assert.equal(row1.assignee, 'unassigned');
  assert.match(row1.text, /Parcel lost in transit/);
  await until(async () => (await c.state()).title === '(1) NeuroChat console', {
    label: 'title "(1) NeuroChat console"',
  });

  // Second ticket, from another customer: on top of the list (sorted by
  // last update), the count goes to 2.
  const cust2 = fx.track(await connectCustomer(server, { name: 'Dan Customer' }));
  const t2 = await cust2.createTicket('Refund please', 'The mug arrived broken.');
  await c.waitForRow(t2.ticketId, { label: 'the second new ticket listed live' });
  const s2 = await until(
    async () => {
      const s = await c.state();
      return s.title === '(2) NeuroChat console' ? s : null;
    },
    { label: 'title "(2) NeuroChat console"' },
  );
  assert.deepEqual(
    s2.rows.map((r) => r.id),
    [t2.ticketId, t1.ticketId],
    'the newest ticket first',
  );
  assert.ok(s2.rows.every((r) => r.isNew), 'both rows carry new-badge');

  // Nothing reloaded the page.
  assert.equal(await c.page.evaluate(() => window.__ncNoReload), 'still here', 'no reload happened');
  assert.equal(navigations, 0, 'no navigation of the main frame');

  // A toast announced them.
  assert.ok((await c.t('toast').count()) >= 1, 'a toast announced the new tickets');

  // Opening one clears its "new" mark and the count drops to 1.
  await c.openTicket(t1.ticketId);
  await until(async () => (await c.state()).title === '(1) NeuroChat console', {
    label: 'title back to "(1) NeuroChat console" after opening one',
  });
  const s3 = await c.state();
  assert.equal(s3.rows.find((r) => r.id === t1.ticketId).isNew, false, 'the opened row is no longer new');
  assert.equal(s3.rows.find((r) => r.id === t1.ticketId).open, true, 'the opened row has data-open');
  assert.equal(s3.rows.find((r) => r.id === t2.ticketId).isNew, true);

  // A new message on the listed, not open, unassigned ticket: its unread
  // count rises live (the inbox's `activity` event), 1 -> 2.
  const unreadBefore = (await c.state()).rows.find((r) => r.id === t2.ticketId)?.unread;
  assert.equal(unreadBefore, 1, 'the first message unread');
  await cust2.send(t2.ticketId, 'Also the handle came off.');
  await until(async () => (await c.state()).rows.find((r) => r.id === t2.ticketId)?.unread === 2, {
    label: 'data-unread=2 on the other ticket after its customer wrote',
  });
  assert.equal(await c.page.evaluate(() => window.__ncNoReload), 'still here', 'still no reload');
  assert.deepEqual(c.log.errors, [], 'no uncaught page errors');
});

// Unread counts: a message on the agent's own ticket while another is open
// raises its count and a toast; the read position is kept locally, so a
// reload keeps the counts, and opening the ticket clears it for good.
scenario('inbox: unread counts and a toast for a message on my ticket; read positions survive a reload', async (fx) => {
  const { server } = fx;
  const agent = await newAgent(server, { name: 'Alice Agent' });
  const c = await openConsole(fx, { email: agent.user.email, password: agent.password });
  const custA = fx.track(await connectCustomer(server, { name: 'Carla Customer' }));
  const custB = fx.track(await connectCustomer(server, { name: 'Dan Customer' }));
  const a = (await custA.createTicket('Ticket A', 'a-1')).ticketId;
  const b = (await custB.createTicket('Ticket B', 'b-1')).ticketId;
  await c.waitForRow(a);
  await c.waitForRow(b);

  // Alice takes A and reads it, then opens B.
  await c.openTicket(a);
  await c.t('claim').click();
  await until(async () => (await c.state()).assignee === 'Assigned to you', { label: '"Assigned to you" on A' });
  await c.waitForMessage('a-1');
  await c.openTicket(b);
  await until(async () => (await c.state()).rows.find((r) => r.id === a)?.unread === 0, { label: 'A read: data-unread=0' });

  // Carla writes on A while B is open: a toast, and A's count goes up.
  const toastsBefore = await c.t('toast').count();
  await custA.send(a, 'a-2');
  await custA.send(a, 'a-3');
  await until(async () => (await c.state()).rows.find((r) => r.id === a)?.unread === 2, { label: 'A: data-unread=2' });
  const badge = c.page.locator(`${tid('inbox-row')}[data-ticket-id="${a}"] ${tid('unread-count')}`);
  assert.equal((await badge.textContent()).trim(), '2', 'the unread badge says 2');
  await until(
    async () => (await c.t('toast').allTextContents()).some((t) => t.includes('Ticket A') && t.includes('a-2')),
    { label: 'a toast names ticket A and the new message' },
  );
  assert.ok((await c.t('toast').count()) > toastsBefore);

  // A reload keeps the counts (read positions are local, last_seq the server's).
  await c.page.reload();
  await c.t('current-user').waitFor({ state: 'visible' });
  await until(async () => (await c.state()).rows.find((r) => r.id === a)?.unread === 2, { label: 'A still data-unread=2 after a reload' });
  // Opening A reads it; after another reload it stays read.
  await c.openTicket(a);
  await c.waitForMessage('a-3');
  await until(async () => (await c.state()).rows.find((r) => r.id === a)?.unread === 0, { label: 'A read after opening' });
  assert.equal(await badge.count(), 0, 'no unread badge at 0');
  await c.page.goto(`${server.url}/console#/inbox`);
  await c.page.reload();
  await c.t('current-user').waitFor({ state: 'visible' });
  await c.waitForRow(a);
  await until(async () => (await c.state()).rows.find((r) => r.id === a)?.unread === 0, { label: 'A still read after a reload' });
  const stored = await c.page.evaluate((id) => localStorage.getItem(`neurochat.console.read.${id}`), agent.user.id);
  assert.ok(stored, 'read positions kept under neurochat.console.read.<user id>');
  assert.deepEqual(c.log.errors, [], 'no uncaught page errors');
});
