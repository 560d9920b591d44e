// Issue #7, point 6: screenshots of the console with real data, into the
// artifacts directory (`target/browser-artifacts/`, under CARGO_TARGET_DIR
// when set): the inbox, a ticket view and the admin users page at 1280×800,
// and the inbox at 768 px wide. Each shot also checks the page fits its
// viewport (no horizontal scrolling) and shows what it should.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

import { scenario } from './lib/browser.mjs';
import { config } from './lib/config.mjs';
import { connectCustomer, newAgent, openConsole, until } from './lib/console.mjs';
import { ADMIN_EMAIL, ADMIN_PASSWORD } from './lib/server.mjs';

/** No toast over the shot (they leave after 5 s), then the screenshot; returns its path. */
async function shot(c, name) {
  await until(async () => (await c.t('toast').count()) === 0, { timeout: 10_000, label: 'toasts gone before the screenshot' });
  const fits = await c.page.evaluate(() => ({
    scroll: document.documentElement.scrollWidth,
    width: window.innerWidth,
  }));
  assert.ok(fits.scroll <= fits.width, `${name}: no horizontal scrolling (${fits.scroll} > ${fits.width})`);
  const file = path.join(config.artifacts, name);
  await c.page.screenshot({ path: file });
  const size = fs.statSync(file).size;
  assert.ok(size > 5_000, `${name} is a real image (${size} bytes)`);
  console.log(`# wrote ${file} (${size} bytes)`);
  return file;
}

scenario('screenshots: inbox, ticket view and admin users page at 1280×800, the inbox at 768 px', async (fx) => {
  const { server } = fx;
  const agent = await newAgent(server, { name: 'Alice Agent' });
  await newAgent(server, { name: 'Bob Agent' });
  const c = await openConsole(fx, { email: agent.user.email, password: agent.password });

  // Some real work in the queue.
  const customers = [
    ['Carla Customer', 'Parcel lost in transit', 'My parcel #1042 never arrived, the tracking stopped on Monday.'],
    ['Dan Dupont', 'Refund for a broken mug', 'The mug arrived in pieces. Can I get a refund?'],
    ['Erin Example', 'Change my delivery address', 'I moved last week; please ship to my new address.'],
    ['Femi Folake', 'Invoice with VAT number', 'Could you add our VAT number to invoice 2024-118?'],
  ];
  const socks = [];
  for (const [name, subject, body] of customers) {
    const s = fx.track(await connectCustomer(server, { name }));
    socks.push({ s, ...(await s.createTicket(subject, body)) });
  }
  for (const { ticketId } of socks) await c.waitForRow(ticketId);

  // A conversation on the first one.
  const [first] = socks;
  await c.openTicket(first.ticketId);
  await c.t('claim').click();
  await until(async () => (await c.state()).assignee === 'Assigned to you', { label: '"Assigned to you"' });
  await first.s.send(first.ticketId, 'I ordered it three weeks ago.');
  await c.waitForMessage('I ordered it three weeks ago.');
  await c.send('Sorry about that, Carla! I am checking with the carrier right now.');
  await c.waitForMessage('Sorry about that, Carla! I am checking with the carrier right now.');
  await c.send('Carrier ticket opened: DHL-55120. Refund if not found by Friday.', { internal: true });
  await c.waitForMessage('Carrier ticket opened: DHL-55120. Refund if not found by Friday.');
  await first.s.send(first.ticketId, 'Thank you, that is kind.');
  await c.waitForMessage('Thank you, that is kind.');
  first.s.typing(first.ticketId, true);
  await until(async () => (await c.state()).typing?.active === 'true', { label: 'the customer typing' });
  await socks[1].s.send(socks[1].ticketId, 'Photos attached in my next mail.');
  await until(async () => (await c.state()).rows.find((r) => r.id === socks[1].ticketId)?.unread >= 1, {
    label: 'an unread count on another ticket',
  });
  // The ticket view: header, messages (incl. the dashed note), composer, side panel.
  await c.t('customer-profile').waitFor({ state: 'visible' });
  await shot(c, 'console-ticket-1280x800.png');

  // The inbox alone.
  await c.page.goto(`${server.url}/console#/inbox`);
  await c.t('inbox-list').waitFor({ state: 'visible' });
  await until(
    async () => {
      const s = await c.state();
      return s.rows.length === customers.length && s.ticketId === null;
    },
    { label: `${customers.length} inbox rows, no ticket open` },
  );
  await c.waitOnline();
  await shot(c, 'console-inbox-1280x800.png');

  // The inbox at 768 px wide (same session: sessionStorage survives in the tab).
  await c.page.setViewportSize({ width: 768, height: 1024 });
  await until(async () => (await c.state()).rows.length === customers.length, { label: 'rows at 768 px' });
  const listBox = await c.t('inbox-list').boundingBox();
  assert.ok(listBox && listBox.width > 200, `the inbox list is usable at 768 px: ${JSON.stringify(listBox)}`);
  assert.ok(listBox.x + listBox.width <= 768 + 0.5, 'the inbox list fits 768 px');
  await shot(c, 'console-inbox-768x1024.png');
  // At 768 px, the ticket view folds the side panel behind "Details".
  await c.openTicket(first.ticketId);
  await c.t('toggle-side').waitFor({ state: 'visible' });
  await shot(c, 'console-ticket-768x1024.png');

  // The admin users page.
  const admin = await openConsole(fx, { email: ADMIN_EMAIL, password: ADMIN_PASSWORD });
  await admin.t('nav-users').click();
  await admin.t('users-page').waitFor({ state: 'visible' });
  await until(async () => (await admin.t('user-row').count()) >= 3 + customers.length, {
    label: 'the users table filled (admin, agents, customers)',
  });
  await shot(admin, 'console-admin-users-1280x800.png');

  for (const x of [c, admin]) assert.deepEqual(await x.cspViolations(), [], 'no CSP violation under the console\'s own policy');
  for (const x of [c, admin]) assert.deepEqual(x.log.errors, [], 'no uncaught page errors');
});
