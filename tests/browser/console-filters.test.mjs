// The inbox's filters kept live (docs/CONSOLE.md, "Inbox"): a ticket that
// no longer matches leaves the list when another agent claims it, a new
// one that matches is added; with a text search live events update listed
// rows but add none. And the availability switch reaches the server and
// the other staff.

import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';

import { api, connectAgent, loginAdmin } from './lib/agent.mjs';
import { scenario } from './lib/browser.mjs';
import { connectCustomer, newAgent, openConsole, until } from './lib/console.mjs';

scenario('filters: unassigned and status filters drop a ticket claimed elsewhere, live; search adds none', async (fx) => {
  const { server } = fx;
  const alice = await newAgent(server, { name: 'Alice Agent' });
  const bob = await newAgent(server, { name: 'Bob Agent' });
  const bobSock = fx.track(await connectAgent(server, bob));
  const c = await openConsole(fx, { email: alice.user.email, password: alice.password });
  const cust = fx.track(await connectCustomer(server, { name: 'Carla Customer' }));
  const t1 = (await cust.createTicket('Refund for order 1', 'one')).ticketId;
  const t2 = (await cust.createTicket('Shipping question', 'two')).ticketId;
  await c.waitForRow(t1);
  await c.waitForRow(t2);

  // Assignee: unassigned. Bob claims t1 over his socket: it leaves Alice's list.
  await c.t('filter-assignee').selectOption('unassigned');
  await until(async () => (await c.state()).rows.length === 2, { label: 'both unassigned tickets listed' });
  await bobSock.claim(t1);
  await until(async () => !(await c.state()).rows.some((r) => r.id === t1), {
    label: 'the ticket Bob claimed leaves the "unassigned" list live',
  });
  // A new ticket matches: added live.
  const t3 = (await cust.createTicket('Another refund', 'three')).ticketId;
  await c.waitForRow(t3, { label: 'a new unassigned ticket joins the filtered list' });

  // Status: new. Bob claims t2 (now in progress): it leaves.
  await c.t('filter-assignee').selectOption('anyone');
  await c.t('filter-status').selectOption('new');
  await until(
    async () => {
      const ids = (await c.state()).rows.map((r) => r.id).sort();
      return JSON.stringify(ids) === JSON.stringify([t2, t3].sort());
    },
    { label: 'status=new lists t2 and t3 (t1 is in progress)' },
  );
  await bobSock.claim(t2);
  await until(async () => !(await c.state()).rows.some((r) => r.id === t2), {
    label: 'the ticket Bob claimed leaves the "new" list live',
  });

  // Search: the server's answer; a matching row is updated live, no row added.
  await c.t('filter-status').selectOption('all');
  await c.t('filter-q').fill('refund');
  await until(
    async () => {
      const ids = (await c.state()).rows.map((r) => r.id).sort();
      return JSON.stringify(ids) === JSON.stringify([t1, t3].sort());
    },
    { label: 'search "refund" lists t1 and t3' },
  );
  await bobSock.claim(t3);
  await until(async () => (await c.state()).rows.find((r) => r.id === t3)?.assignee === 'Bob Agent', {
    label: 'a listed row is updated live during a search (row-assignee "Bob Agent")',
  });
  const t4 = (await cust.createTicket('Refund again', 'four')).ticketId;
  await sleep(1_500);
  assert.equal((await c.state()).rows.some((r) => r.id === t4), false, 'a search adds no live row');
  // Clearing the search reloads: all four.
  await c.t('filter-q').fill('');
  await until(async () => (await c.state()).rows.length === 4, { label: 'all four tickets after clearing the search' });
  assert.deepEqual(c.log.errors, [], 'no uncaught page errors');
});

scenario('availability: the switch reaches the server and other staff', async (fx) => {
  const { server } = fx;
  const alice = await newAgent(server, { name: 'Alice Agent' });
  const admin = await loginAdmin(server);
  const watch = fx.track(await connectAgent(server, admin));
  const c = await openConsole(fx, { email: alice.user.email, password: alice.password });
  for (const value of ['away', 'offline', 'online']) {
    const since = watch.frames.length;
    await c.t('availability').selectOption(value);
    const f = await watch.waitFor(
      (x) => x.type === 'availability' && x.user_id === alice.user.id && x.availability === value,
      { since, label: `availability ${value} pushed to other staff` },
    );
    assert.ok(f);
    const view = await api(server, 'GET', `/api/v1/users/${alice.user.id}/agent`, { token: admin.token });
    assert.equal(view.availability, value, `the server has ${value}`);
  }
  // A reload shows the stored one.
  await c.t('availability').selectOption('away');
  await until(async () => (await api(server, 'GET', `/api/v1/users/${alice.user.id}/agent`, { token: admin.token })).availability === 'away', {
    label: 'away stored',
  });
  await c.page.reload();
  await c.t('current-user').waitFor({ state: 'visible' });
  await until(async () => (await c.t('availability').inputValue()) === 'away', { label: 'availability select shows "away" after a reload' });
  assert.deepEqual(c.log.errors, [], 'no uncaught page errors');
});
