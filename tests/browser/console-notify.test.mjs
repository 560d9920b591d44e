// Desktop notifications and the hidden tab (docs/CONSOLE.md, "Conversation"
// and "Notifications"). Headless Chromium has no real desktop
// notifications and its tab is always visible, so an init script stands
// in for both: a recording `Notification` (permission `default` until
// asked) and a switchable `document.visibilityState`. Checked: the
// `Desktop alerts` button asks and goes away; while the tab is hidden a
// customer message on the open ticket is only `mark_delivered`, a new
// ticket makes one desktop notification; showing the tab again sends
// `mark_read`.

import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';

import { scenario } from './lib/browser.mjs';
import { connectCustomer, newAgent, openConsole, until } from './lib/console.mjs';

function fakeNotificationsAndVisibility() {
  window.__ncHidden = false;
  window.__ncPermission = 'default';
  window.__ncNotifications = [];
  Object.defineProperty(Document.prototype, 'visibilityState', {
    configurable: true,
    get() {
      return window.__ncHidden ? 'hidden' : 'visible';
    },
  });
  Object.defineProperty(Document.prototype, 'hidden', {
    configurable: true,
    get() {
      return window.__ncHidden;
    },
  });
  class RecordedNotification extends EventTarget {
    constructor(title, options = {}) {
      super();
      window.__ncNotifications.push({ title, body: options.body ?? null, tag: options.tag ?? null });
    }
    static get permission() {
      return window.__ncPermission;
    }
    static requestPermission() {
      window.__ncPermission = 'granted';
      return Promise.resolve('granted');
    }
    close() {}
  }
  window.Notification = RecordedNotification;
}

async function setHidden(c, hidden) {
  await c.page.evaluate((h) => {
    window.__ncHidden = h;
    document.dispatchEvent(new Event('visibilitychange'));
  }, hidden);
}

scenario('hidden tab: mark_delivered only, a desktop notification for a new ticket; mark_read when shown again', async (fx) => {
  const { server } = fx;
  const agent = await newAgent(server, { name: 'Alice Agent' });
  const c = await openConsole(fx, { email: agent.user.email, password: agent.password, init: fakeNotificationsAndVisibility });

  // The permission button asks once and goes away.
  await c.t('notify-permission').waitFor({ state: 'visible' });
  await c.t('notify-permission').click();
  await c.t('notify-permission').waitFor({ state: 'detached' });
  assert.equal(await c.page.evaluate(() => window.__ncPermission), 'granted');

  const cust = fx.track(await connectCustomer(server, { name: 'Carla Customer' }));
  const { ticketId } = await cust.createTicket('Seen or not', 'm-1');
  await c.waitForRow(ticketId);
  await c.openTicket(ticketId);
  await c.t('claim').click();
  await until(async () => (await c.state()).assignee === 'Assigned to you', { label: '"Assigned to you"' });
  await cust.waitFor((f) => f.type === 'receipt' && f.receipt.user_id === agent.user.id && f.receipt.read_seq >= 1, {
    label: 'read_seq 1 while visible',
  });
  // No desktop notification while the tab is visible (toasts only).
  assert.deepEqual(await c.page.evaluate(() => window.__ncNotifications), [], 'no desktop notification while visible');

  // Hidden: a message on the open ticket is delivered, not read.
  await setHidden(c, true);
  const since = cust.frames.length;
  const { seq } = await cust.send(ticketId, 'm-2 while hidden');
  await c.waitForMessage('m-2 while hidden');
  await cust.waitFor(
    (f) => f.type === 'receipt' && f.receipt.user_id === agent.user.id && f.receipt.delivered_seq >= seq,
    { since, label: `delivered_seq >= ${seq} while hidden` },
  );
  await sleep(1_000);
  const readWhileHidden = cust.frames
    .slice(since)
    .filter((f) => f.type === 'receipt' && f.receipt.user_id === agent.user.id && f.receipt.read_seq >= seq);
  assert.deepEqual(readWhileHidden, [], 'no read receipt for a message that arrived while hidden');

  // A new ticket while hidden: a desktop notification names it.
  const other = fx.track(await connectCustomer(server, { name: 'Dan Customer' }));
  await other.createTicket('Hidden-tab ticket', 'hello?');
  const notes = await until(
    async () => {
      const n = await c.page.evaluate(() => window.__ncNotifications);
      return n.length ? n : null;
    },
    { label: 'a desktop Notification while hidden' },
  );
  console.log(`# notifications: ${JSON.stringify(notes)}`);
  assert.ok(
    notes.some((n) => `${n.title} ${n.body}`.includes('Hidden-tab ticket')),
    `the notification names the new ticket: ${JSON.stringify(notes)}`,
  );
  assert.ok(notes.every((n) => n.tag === 'neurochat-console'), 'one tag: they replace each other');

  // Shown again: mark_read.
  await setHidden(c, false);
  await cust.waitFor(
    (f) => f.type === 'receipt' && f.receipt.user_id === agent.user.id && f.receipt.read_seq >= seq,
    { since, label: `read_seq >= ${seq} once the tab is shown again` },
  );
  assert.deepEqual(c.log.errors, [], 'no uncaught page errors');
});
