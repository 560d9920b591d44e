// docs/CONSOLE.md, "Layout and accessibility": every control has a label
// (visible or aria-label), the connection state is a role=status, the
// login error and the claimed-by notice are role=alert, the message list
// is aria-live=polite, and focus order follows the page (top bar, filters,
// list, ticket header, messages, composer): no positive tabindex, regions
// in that document order. Checked on every page of the console.

import assert from 'node:assert/strict';

import { scenario } from './lib/browser.mjs';
import { connectCustomer, newAgent, openConsole, until } from './lib/console.mjs';
import { ADMIN_EMAIL, ADMIN_PASSWORD } from './lib/server.mjs';

/** Controls without an accessible name, and elements with a positive tabindex. */
function audit(page) {
  return page.evaluate(() => {
    const name = (el) => {
      const aria = el.getAttribute('aria-label')?.trim();
      if (aria) return aria;
      const by = el.getAttribute('aria-labelledby');
      if (by) return by.split(/\s+/).map((id) => document.getElementById(id)?.textContent?.trim() ?? '').join(' ').trim();
      if (el.labels && el.labels.length) return [...el.labels].map((l) => l.textContent.trim()).join(' ').trim();
      if (el.tagName === 'BUTTON') return el.textContent.trim();
      if (el.getAttribute('title')) return el.getAttribute('title').trim();
      return '';
    };
    const visible = (el) => el.getClientRects().length > 0 && getComputedStyle(el).visibility !== 'hidden';
    const controls = [...document.querySelectorAll('button, input, select, textarea')].filter(visible);
    const unnamed = controls
      .filter((el) => !(el.type === 'hidden') && !name(el))
      .map((el) => `${el.tagName.toLowerCase()}[data-testid=${el.getAttribute('data-testid')}]`);
    const positive = [...document.querySelectorAll('[tabindex]')]
      .filter((el) => Number(el.getAttribute('tabindex')) > 0)
      .map((el) => el.getAttribute('data-testid') ?? el.tagName);
    return { count: controls.length, unnamed, positive };
  });
}

async function check(c, where) {
  const r = await audit(c.page);
  assert.ok(r.count > 0, `${where}: controls found`);
  assert.deepEqual(r.unnamed, [], `${where}: every control has a label`);
  assert.deepEqual(r.positive, [], `${where}: no positive tabindex`);
}

scenario('accessibility: labels on every control, live regions and roles, focus order by region', async (fx) => {
  const { server } = fx;
  const alice = await newAgent(server, { name: 'Alice Agent' });

  // Login page, with a wrong password: the error is an alert.
  const c = await openConsole(fx, {});
  await c.t('login-form').waitFor({ state: 'visible', timeout: 20_000 });
  // The form's controls are drawn after the form itself: wait for the last.
  await c.t('login-submit').waitFor({ state: 'visible', timeout: 20_000 });
  await check(c, 'login');
  await c.submitLogin(alice.user.email, 'wrong password');
  await until(async () => (await c.state()).loginError, { label: 'login-error after a wrong password' });
  assert.equal(await c.t('login-error').getAttribute('role'), 'alert');
  await c.login(alice.user.email, alice.password);

  const cust = fx.track(await connectCustomer(server, { name: 'Carla Customer' }));
  const { ticketId } = await cust.createTicket('Accessible?', 'hello');
  await c.waitForRow(ticketId);
  await c.openTicket(ticketId);
  await c.waitForMessage('hello');
  await check(c, 'inbox with an open ticket');

  // Roles and live regions.
  const roles = await c.page.evaluate(() => {
    const q = (id) => document.querySelector(`[data-testid="${id}"]`);
    const conn = q('connection-state');
    return {
      conn: conn?.getAttribute('role') ?? conn?.closest('[role="status"]')?.getAttribute('role') ?? null,
      list: q('message-list')?.getAttribute('aria-live'),
      toasts: q('toasts')?.getAttribute('aria-live'),
    };
  });
  assert.equal(roles.conn, 'status', 'connection-state is (inside) a role=status');
  assert.equal(roles.list, 'polite', 'message-list aria-live=polite');
  assert.equal(roles.toasts, 'polite', 'toasts aria-live=polite');

  // Focus order: the regions in document order.
  const order = await c.page.evaluate(() => {
    const ids = ['current-user', 'filter-status', 'inbox-list', 'ticket-subject', 'message-list', 'composer'];
    const els = ids.map((id) => document.querySelector(`[data-testid="${id}"]`));
    const missing = ids.filter((_, i) => !els[i]);
    const wrong = [];
    for (let i = 1; i < els.length; i++) {
      if (els[i - 1] && els[i] && !(els[i - 1].compareDocumentPosition(els[i]) & Node.DOCUMENT_POSITION_FOLLOWING)) {
        wrong.push(`${ids[i - 1]} before ${ids[i]}`);
      }
    }
    return { missing, wrong };
  });
  assert.deepEqual(order.missing, []);
  assert.deepEqual(order.wrong, [], 'top bar, filters, list, ticket header, messages, composer in document order');

  // The composer is reachable with Tab from the ticket header.
  let reached = false;
  await c.t('ticket-subject').click();
  for (let i = 0; i < 40 && !reached; i++) {
    await c.page.keyboard.press('Tab');
    reached = await c.page.evaluate(() => document.activeElement?.getAttribute('data-testid') === 'composer');
  }
  assert.ok(reached, 'the composer is reachable with Tab from the ticket header');

  // (The claimed-by notice's role=alert is asserted by the claim race tests.)

  // Admin pages.
  const admin = await openConsole(fx, { email: ADMIN_EMAIL, password: ADMIN_PASSWORD });
  for (const [nav, page, rows] of [
    ['nav-users', 'users-page', 'user-row'],
    ['nav-categories', 'categories-page', null],
    ['nav-audit', 'audit-page', 'audit-row'],
    ['nav-metrics', 'metrics-page', 'metric'],
  ]) {
    await admin.t(nav).click();
    await admin.t(page).waitFor({ state: 'visible' });
    if (rows) await until(async () => (await admin.t(rows).count()) > 0, { label: `${page} filled` });
    assert.equal(await admin.t(nav).getAttribute('aria-current'), 'page', `${nav} aria-current=page`);
    await check(admin, page);
  }
  for (const x of [c, admin]) assert.deepEqual(x.log.errors, [], 'no uncaught page errors');
});
