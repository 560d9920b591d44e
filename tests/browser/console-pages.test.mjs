// The console's other pages (docs/CONSOLE.md, "Pages"): admin categories
// (create, rename, archive; offered on a ticket and in the filter), the
// audit log (action and actor filters), metrics (own figures, the team
// table); and agents see none of the admin pages.

import assert from 'node:assert/strict';

import { api, connectAgent } from './lib/agent.mjs';
import { scenario } from './lib/browser.mjs';
import { connectCustomer, newAgent, openConsole, tid, until } from './lib/console.mjs';
import { ADMIN_EMAIL, ADMIN_PASSWORD } from './lib/server.mjs';

scenario('admin pages: categories used on a ticket, audit filters, metrics; none of them for an agent', async (fx) => {
  const { server } = fx;
  const bob = await newAgent(server, { name: 'Bob Agent' });
  const bobSock = fx.track(await connectAgent(server, bob));
  const cust = fx.track(await connectCustomer(server, { name: 'Carla Customer' }));
  const { ticketId } = await cust.createTicket('Categorise me', 'hello');
  await bobSock.claim(ticketId);
  const admin = await openConsole(fx, { email: ADMIN_EMAIL, password: ADMIN_PASSWORD });

  // Categories: create two, rename one, archive the other.
  await admin.t('nav-categories').click();
  await admin.t('categories-page').waitFor({ state: 'visible' });
  assert.equal(await admin.t('nav-categories').getAttribute('aria-current'), 'page');
  for (const name of ['Billing', 'Shipping']) {
    await admin.t('category-name').fill(name);
    await admin.t('category-create').click();
    await until(
      async () => (await admin.page.locator(`${tid('category-row')} ${tid('category-rename')}`).evaluateAll((els) => els.map((e) => e.value))).includes(name),
      { label: `category-row "${name}"` },
    );
  }
  const cats = await api(server, 'GET', '/api/v1/categories', { token: bob.admin.token });
  const billing = cats.find((c) => c.name === 'Billing');
  const shipping = cats.find((c) => c.name === 'Shipping');
  assert.ok(billing && shipping, 'both stored');
  const billingRow = admin.page.locator(`${tid('category-row')}[data-category-id="${billing.id}"]`);
  await billingRow.locator(tid('category-rename')).fill('Billing & refunds');
  await billingRow.locator(tid('category-save')).click();
  await until(
    async () => (await api(server, 'GET', '/api/v1/categories', { token: bob.admin.token })).find((c) => c.id === billing.id)?.name === 'Billing & refunds',
    { label: 'the rename stored' },
  );
  const shippingRow = admin.page.locator(`${tid('category-row')}[data-category-id="${shipping.id}"]`);
  await shippingRow.locator(tid('category-archive')).click();
  await until(async () => (await shippingRow.textContent())?.includes('archived'), { label: 'Shipping shows "archived"' });
  assert.equal((await shippingRow.locator(tid('category-archive')).textContent()).trim(), 'Restore');

  // On a ticket: the active category is offered, the archived one not.
  await admin.t('nav-inbox').click();
  await admin.waitForRow(ticketId);
  await admin.openTicket(ticketId);
  const options = await admin.t('category-select').locator('option').evaluateAll((os) => os.map((o) => [o.value, o.textContent]));
  assert.ok(options.some(([v, t]) => v === billing.id && t === 'Billing & refunds'), `category-select offers the renamed one: ${JSON.stringify(options)}`);
  assert.ok(!options.some(([v]) => v === shipping.id), 'no archived category offered');
  await admin.t('category-select').selectOption(billing.id);
  await until(
    async () => (await api(server, 'GET', `/api/v1/tickets/${ticketId}`, { token: bob.token })).category_id === billing.id,
    { label: 'the ticket has the category on the server' },
  );
  const filterOpts = await admin.t('filter-category').locator('option').evaluateAll((os) => os.map((o) => o.value));
  assert.ok(filterOpts.includes(billing.id), 'the inbox filter offers the category');
  await admin.t('filter-category').selectOption(billing.id);
  await until(async () => {
    const rows = (await admin.state()).rows;
    return rows.length === 1 && rows[0].id === ticketId;
  }, { label: 'the category filter lists the ticket' });

  // Audit log: by action, then by actor.
  await admin.t('nav-audit').click();
  await admin.t('audit-page').waitFor({ state: 'visible' });
  await until(async () => (await admin.t('audit-row').count()) > 0, { label: 'audit rows' });
  await admin.t('audit-action').selectOption('ticket_claimed');
  await admin.t('audit-go').click();
  await until(
    async () => {
      const rows = await admin.t('audit-row').allTextContents();
      return rows.length === 1 && rows[0].includes('ticket claimed') && rows[0].includes('Bob Agent') && rows[0].includes(ticketId);
    },
    { label: 'one "ticket claimed" row: Bob, this ticket' },
  );
  await admin.t('audit-action').selectOption('');
  await admin.t('audit-actor').fill(bob.user.id);
  await admin.t('audit-go').click();
  await until(
    async () => {
      const rows = await admin.t('audit-row').allTextContents();
      return rows.length > 0 && rows.every((r) => r.includes('Bob Agent'));
    },
    { label: "the actor filter lists Bob's entries only" },
  );

  // Metrics: the team table names Bob with his claim.
  await admin.t('nav-metrics').click();
  await admin.t('metrics-page').waitFor({ state: 'visible' });
  await until(async () => (await admin.t('metric').count()) >= 3, { label: 'metric cards' });
  await until(async () => (await admin.t('metrics-page').textContent())?.includes('Bob Agent'), { label: 'the team table names Bob' });
  const bobRow = await admin.page.evaluate(() =>
    [...document.querySelectorAll('[data-testid="metrics-page"] tr')].map((tr) => [...tr.children].map((td) => td.textContent)).find((r) => r[0] === 'Bob Agent'),
  );
  assert.equal(bobRow?.[1], '1', `Bob claimed 1: ${JSON.stringify(bobRow)}`);

  // An agent: no admin links; typing an admin address (on load, or while
  // the console runs) lands in the inbox, with no admin page or data and
  // no refusal toasts (docs/CONSOLE.md).
  const cb = await openConsole(fx, { email: bob.user.email, password: bob.password });
  for (const id of ['nav-users', 'nav-categories', 'nav-audit']) assert.equal(await cb.t(id).count(), 0, `no ${id} for an agent`);
  for (const [hash, page, rows] of [
    ['/admin/users', 'users-page', 'user-row'],
    ['/admin/categories', 'categories-page', 'category-row'],
    ['/admin/audit', 'audit-page', 'audit-row'],
  ]) {
    for (const how of ['load', 'hashchange']) {
      if (how === 'load') {
        await cb.page.goto(`${server.url}/console#${hash}`);
        await cb.t('current-user').waitFor({ state: 'visible' });
      } else {
        await cb.page.evaluate((h) => { location.hash = h; }, `#${hash}`);
      }
      await until(async () => (await cb.page.evaluate(() => location.hash)) === '#/inbox', {
        label: `an agent at #${hash} (${how}) is sent to #/inbox`,
      });
      await cb.t('inbox-list').waitFor({ state: 'visible' });
      assert.equal(await cb.t(page).count(), 0, `no ${page} for an agent (${how})`);
      assert.equal(await cb.t(rows).count(), 0, `an agent at #${hash} sees no ${rows} (${how})`);
      const toasts = await cb.t('toast').allTextContents();
      assert.ok(!toasts.some((t) => /not allowed/i.test(t)), `no refusal toast at #${hash} (${how}): ${JSON.stringify(toasts)}`);
    }
  }
  await cb.t('nav-metrics').click();
  await cb.t('metrics-page').waitFor({ state: 'visible' });
  for (const c of [admin, cb]) assert.deepEqual(c.log.errors, [], 'no uncaught page errors');
});
