// The open ticket's controls and side panel (docs/CONSOLE.md, "Claim",
// "Staff directory", "Side panel"): an admin assigns a ticket to an agent,
// who sees it as theirs live and hands it on to another agent from the
// staff directory (assignee options labelled `NAME · availability ·
// open/capacity`, `(you)` on one's own); the load chips follow; the new
// assignee resolves it (it leaves the default "open" lists). The side
// panel shows the customer, their earlier tickets and the ticket's audit
// trail (agents and admins, `audit-entry[data-action]`).

import assert from 'node:assert/strict';

import { api } from './lib/agent.mjs';
import { scenario } from './lib/browser.mjs';
import { connectCustomer, newAgent, openConsole, tid, until } from './lib/console.mjs';
import { ADMIN_EMAIL, ADMIN_PASSWORD } from './lib/server.mjs';

/** `my-load`'s data attributes, or null while hidden. */
const load = (c) =>
  c.page.evaluate((sel) => {
    const el = document.querySelector(sel);
    if (!el || el.hidden) return null;
    return { open: el.getAttribute('data-open-tickets'), capacity: el.getAttribute('data-capacity'), full: el.getAttribute('data-full'), text: el.textContent.trim() };
  }, tid('my-load'));

/** The assignee select's options: `[value, label]`. */
const assigneeOptions = (c) => c.t('assign-select').locator('option').evaluateAll((os) => os.map((o) => [o.value, o.textContent]));

scenario('ticket controls and side panel: assign, hand on to another agent, loads, resolve; profile, earlier tickets, audit trail', async (fx) => {
  const { server } = fx;
  const bob = await newAgent(server, { name: 'Bob Agent' });
  const cara = await newAgent(server, { name: 'Cara Agent' });
  const admin = await openConsole(fx, { email: ADMIN_EMAIL, password: ADMIN_PASSWORD });
  const cb = await openConsole(fx, { email: bob.user.email, password: bob.password });
  const cc = await openConsole(fx, { email: cara.user.email, password: cara.password });
  const cust = fx.track(await connectCustomer(server, { name: 'Carla Customer', email: 'carla@example.test' }));
  const older = (await cust.createTicket('My first question', 'an older one')).ticketId;
  const { ticketId } = await cust.createTicket('Please assign me', 'hello');

  // Side panel (admin): profile, the earlier ticket.
  await admin.waitForRow(ticketId);
  await admin.openTicket(ticketId);
  const profile = admin.t('customer-profile');
  await until(async () => (await profile.textContent())?.includes('Carla Customer'), { label: 'customer-profile names the customer' });
  assert.match(await profile.textContent(), /carla@example\.test/);
  const earlier = admin.t('earlier-tickets');
  await until(async () => (await earlier.textContent())?.includes('My first question'), { label: 'earlier-tickets lists the older ticket' });
  assert.equal(await earlier.locator('a').count(), 1, 'one earlier ticket (not the open one)');
  assert.equal((await earlier.textContent()).includes('Please assign me'), false, 'the open ticket is not among the earlier ones');

  // Loads before: nothing open.
  await until(async () => (await load(cb))?.open === '0', { label: "Bob's my-load shows 0 open" });

  // The admin assigns it to Bob (the directory lists every agent and admin).
  const adminOpts = await assigneeOptions(admin);
  for (const [who, id] of [['Bob Agent', bob.user.id], ['Cara Agent', cara.user.id]]) {
    const o = adminOpts.find(([v]) => v === id);
    assert.ok(o && o[1].startsWith(`${who} · `), `the admin's assignee options list ${who} as "NAME · …": ${JSON.stringify(adminOpts)}`);
  }
  await admin.t('assign-select').selectOption(bob.user.id);
  await until(async () => (await admin.state()).assignee === 'Assigned to Bob Agent', { label: 'admin: "Assigned to Bob Agent"' });
  assert.equal((await api(server, 'GET', `/api/v1/tickets/${ticketId}`, { token: bob.token })).assignee_id, bob.user.id, 'the server has Bob');

  // Bob's inbox says so live; opening it, it is his; his load is 1.
  await until(async () => (await cb.state()).rows.find((r) => r.id === ticketId)?.assignee === 'you', {
    label: "Bob's row-assignee becomes \"you\" live",
  });
  await cb.openTicket(ticketId);
  await until(async () => (await cb.state()).assignee === 'Assigned to you', { label: 'Bob: "Assigned to you"' });
  assert.equal((await cb.state()).claimDisabled, true, 'claim disabled on an assigned ticket');
  await until(async () => (await load(cb))?.open === '1', { timeout: 15_000, label: "Bob's my-load shows 1 open" });

  // The audit trail, for the agent too: the assignment.
  await until(
    async () => (await cb.page.locator(`${tid('audit-entry')}[data-action="ticket_assigned"]`).count()) >= 1,
    { label: "Bob's ticket-audit has an audit-entry[data-action=ticket_assigned]" },
  );
  await until(
    async () => (await admin.page.locator(`${tid('audit-entry')}[data-action="ticket_assigned"]`).count()) >= 1,
    { label: "the admin's ticket-audit has it too" },
  );

  // Bob hands it on to Cara from the directory: his own option says (you).
  const bobOpts = await assigneeOptions(cb);
  assert.ok(bobOpts.some(([v, l]) => v === bob.user.id && l.includes('(you)')), `Bob's own option says (you): ${JSON.stringify(bobOpts)}`);
  assert.ok(bobOpts.some(([v]) => v === cara.user.id), 'an agent can pick another agent');
  await cb.t('assign-select').selectOption(cara.user.id);
  await until(async () => (await cb.state()).assignee === 'Assigned to Cara Agent', { label: 'Bob: "Assigned to Cara Agent"' });
  await until(async () => (await cc.state()).rows.find((r) => r.id === ticketId)?.assignee === 'you', {
    label: "Cara's row-assignee becomes \"you\" live",
  });
  await until(async () => (await load(cc))?.open === '1', { timeout: 15_000, label: "Cara's my-load shows 1 open" });
  await until(async () => (await load(cb))?.open === '0', { timeout: 15_000, label: "Bob's my-load back to 0" });

  // Cara resolves it with the status control.
  await cc.openTicket(ticketId);
  await until(async () => (await cc.state()).assignee === 'Assigned to you', { label: 'Cara: "Assigned to you"' });
  await cc.t('status-select').selectOption('resolved');
  await until(
    async () => (await api(server, 'GET', `/api/v1/tickets/${ticketId}`, { token: bob.token })).status === 'resolved',
    { label: 'the server has "resolved"' },
  );
  for (const [who, c] of [['Cara', cc], ['Bob', cb], ['the admin', admin]]) {
    await until(async () => !(await c.state()).rows.some((r) => r.id === ticketId), {
      label: `the resolved ticket leaves ${who}'s "open" list`,
    });
  }
  await until(async () => (await admin.t('status-select').inputValue()) === 'resolved', {
    label: "the admin's open ticket shows \"resolved\" live",
  });
  await until(
    async () => (await admin.page.locator(`${tid('audit-entry')}[data-action="ticket_status_changed"]`).count()) >= 1,
    { label: "the admin's trail gains the status change (reloaded when the ticket changes)" },
  );

  // Priority from the header, live on another console.
  await admin.t('priority-select').selectOption('high');
  await until(
    async () => (await api(server, 'GET', `/api/v1/tickets/${ticketId}`, { token: bob.token })).priority === 'high',
    { label: 'priority high stored' },
  );
  await until(async () => (await cc.t('priority-select').inputValue()) === 'high', { label: "Cara's header shows priority high live" });

  // The earlier ticket link opens it.
  await admin.page.locator(`${tid('earlier-tickets')} a`).click();
  await until(async () => (await admin.state()).ticketId === older, { label: 'the earlier-ticket link opens that ticket' });
  for (const c of [admin, cb, cc]) assert.deepEqual(c.log.errors, [], 'no uncaught page errors');
});
