// The open ticket's controls and side panel (docs/CONSOLE.md, "Claim",
// "Side panel"): an admin assigns a ticket to an agent, who sees it as
// theirs live; the agent resolves it with the status control (it leaves
// the default "open" list); the side panel shows the customer, their
// earlier tickets and, for admins, the ticket's audit trail.

import assert from 'node:assert/strict';

import { api } from './lib/agent.mjs';
import { scenario } from './lib/browser.mjs';
import { connectCustomer, newAgent, openConsole, tid, until } from './lib/console.mjs';
import { ADMIN_EMAIL, ADMIN_PASSWORD } from './lib/server.mjs';

scenario('ticket controls and side panel: admin assigns, the agent sees it live and resolves; profile, earlier tickets, audit', async (fx) => {
  const { server } = fx;
  const bob = await newAgent(server, { name: 'Bob Agent' });
  const admin = await openConsole(fx, { email: ADMIN_EMAIL, password: ADMIN_PASSWORD });
  const cb = await openConsole(fx, { email: bob.user.email, password: bob.password });
  const cust = fx.track(await connectCustomer(server, { name: 'Carla Customer', email: 'carla@example.test' }));
  const older = (await cust.createTicket('My first question', 'an older one')).ticketId;
  const { ticketId } = await cust.createTicket('Please assign me', 'hello');

  // Side panel (admin): profile, the earlier ticket, the audit trail.
  await admin.waitForRow(ticketId);
  await admin.openTicket(ticketId);
  const profile = admin.t('customer-profile');
  await until(async () => (await profile.textContent())?.includes('Carla Customer'), { label: 'customer-profile names the customer' });
  assert.match(await profile.textContent(), /carla@example\.test/);
  const earlier = admin.t('earlier-tickets');
  await until(async () => (await earlier.textContent())?.includes('My first question'), { label: 'earlier-tickets lists the older ticket' });
  assert.equal(await earlier.locator('a').count(), 1, 'one earlier ticket (not the open one)');
  assert.equal(await earlier.textContent().then((t) => t.includes('Please assign me')), false, 'the open ticket is not among the earlier ones');

  // The admin assigns it to Bob.
  await admin.t('assign-select').selectOption(bob.user.id);
  await until(async () => (await admin.state()).assignee === 'Assigned to Bob Agent', { label: 'admin: "Assigned to Bob Agent"' });
  const t1 = await api(server, 'GET', `/api/v1/tickets/${ticketId}`, { token: bob.token });
  assert.equal(t1.assignee_id, bob.user.id, 'the server has Bob');
  // Bob's inbox says so live; opening it, it is his.
  await until(async () => (await cb.state()).rows.find((r) => r.id === ticketId)?.assignee === 'you', {
    label: "Bob's row-assignee becomes \"you\" live",
  });
  await cb.openTicket(ticketId);
  await until(async () => (await cb.state()).assignee === 'Assigned to you', { label: 'Bob: "Assigned to you"' });
  assert.equal((await cb.state()).claimDisabled, true, 'claim disabled on an assigned ticket');
  // The admin's audit trail shows the assignment (admins only).
  await until(async () => (await admin.t('audit-entry').count()) >= 1, {
    timeout: 20_000,
    label: "the admin's ticket-audit lists at least one audit-entry",
  });
  assert.equal(await cb.t('audit-entry').count(), 0, 'no audit entries for an agent');

  // Bob resolves it with the status control.
  await cb.t('status-select').selectOption('resolved');
  await until(
    async () => (await api(server, 'GET', `/api/v1/tickets/${ticketId}`, { token: bob.token })).status === 'resolved',
    { label: 'the server has "resolved"' },
  );
  // Default inbox filter "open": it leaves both lists live.
  for (const [who, c] of [['Bob', cb], ['the admin', admin]]) {
    await until(async () => !(await c.state()).rows.some((r) => r.id === ticketId), {
      label: `the resolved ticket leaves ${who}'s "open" list`,
    });
  }
  await until(async () => (await admin.t('status-select').inputValue()) === 'resolved', {
    label: "the admin's open ticket shows \"resolved\" live",
  });

  // Priority from the header.
  await admin.t('priority-select').selectOption('high');
  await until(
    async () => (await api(server, 'GET', `/api/v1/tickets/${ticketId}`, { token: bob.token })).priority === 'high',
    { label: 'priority high stored' },
  );
  await until(async () => (await cb.t('priority-select').inputValue()) === 'high', { label: "Bob's header shows priority high live" });

  // The earlier ticket link opens it.
  await admin.page.locator(`${tid('earlier-tickets')} a`).click();
  await until(async () => (await admin.state()).ticketId === older, { label: 'the earlier-ticket link opens that ticket' });
  for (const c of [admin, cb]) assert.deepEqual(c.log.errors, [], 'no uncaught page errors');
});
