// Issue #7, point 4: the admin users page at work.
// (a) A customer is turned away by the console; an admin promotes them to
//     agent on the users page; they log in again and get the console.
// (b) An admin disables an agent who has the console open in two browser
//     contexts: both end on the login screen, their session storage is
//     cleared, and each one's WebSocket is closed (and not reopened).

import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';

import { api, login } from './lib/agent.mjs';
import { scenario } from './lib/browser.mjs';
import { newAgent, openConsole, tid, until } from './lib/console.mjs';
import { ADMIN_EMAIL, ADMIN_PASSWORD } from './lib/server.mjs';

/** The admin's console on the users page, searched for `email`; returns the row locator. */
async function adminUserRow(admin, email, userId) {
  await admin.t('nav-users').click();
  await admin.t('users-page').waitFor({ state: 'visible' });
  await admin.t('users-search').fill(email);
  await admin.t('users-go').click();
  const row = admin.page.locator(`${tid('user-row')}[data-user-id="${userId}"]`);
  // The page first lists everyone; the search's answer replaces the table.
  await until(async () => (await admin.t('user-row').count()) === 1 && (await row.count()) === 1, {
    label: `the search for ${email} lists that one user`,
  });
  await row.waitFor({ state: 'visible' });
  return row;
}

scenario('admin promotes a customer to agent on the users page; they log in again and see the console', async (fx) => {
  const { server } = fx;
  const email = 'carla@example.test';
  const password = 'customer-password-1';
  const reg = await api(server, 'POST', '/api/v1/auth/register', {
    body: { email, password, display_name: 'Carla Customer' },
  });
  assert.equal(reg.user.role, 'customer');

  // The customer is turned away by the console.
  const carla = await openConsole(fx, {});
  await carla.submitLogin(email, password);
  const refused = await until(
    async () => {
      const s = await carla.state();
      return s.loginError ? s : null;
    },
    { label: 'login-error for a customer' },
  );
  assert.equal(refused.loginForm, true, 'still on the login form');
  assert.equal(refused.currentUser, null, 'no signed-in shell for a customer');
  assert.equal(await carla.t('login-error').getAttribute('role'), 'alert');
  assert.equal(await carla.storedSession(), null, 'no session kept for a customer');

  // The admin promotes them.
  const admin = await openConsole(fx, { email: ADMIN_EMAIL, password: ADMIN_PASSWORD });
  assert.equal(await admin.t('nav-users').isVisible(), true, 'admins see the users link');
  const row = await adminUserRow(admin, email, reg.user.id);
  assert.equal(await row.getAttribute('data-role'), 'customer');
  assert.equal(await row.locator(tid('promote-customer')).count(), 0, 'no button for the current role');
  await row.locator(tid('promote-agent')).click();
  await until(async () => (await row.getAttribute('data-role')) === 'agent', { label: 'row data-role=agent' });
  const adminTok = await login(server, ADMIN_EMAIL, ADMIN_PASSWORD);
  const u = await api(server, 'GET', `/api/v1/users/${reg.user.id}`, { token: adminTok.token });
  assert.equal(u.role, 'agent', 'the server has the new role');

  // Carla logs in again: the console, as an agent.
  await carla.login(email, password);
  const s = await carla.state();
  assert.equal(s.currentUser, 'Carla Customer (agent)');
  assert.equal(s.loginForm, false);
  await carla.t('inbox-list').waitFor({ state: 'visible' });
  assert.equal(await carla.t('nav-users').count(), 0, 'no admin links for an agent');
  assert.equal(await carla.t('nav-inbox').isVisible(), true);
  for (const c of [carla, admin]) assert.deepEqual(c.log.errors, [], 'no uncaught page errors');
});

scenario('admin disables an agent: both of their open consoles end on the login screen, sockets closed', async (fx) => {
  const { server } = fx;
  const agent = await newAgent(server, { name: 'Eve Agent' });
  const [s1, s2] = await Promise.all([
    openConsole(fx, { email: agent.user.email, password: agent.password }),
    openConsole(fx, { email: agent.user.email, password: agent.password }),
  ]);
  for (const c of [s1, s2]) {
    assert.ok(await c.storedSession(), 'signed in: session stored');
    assert.ok(
      c.sockets.some((w) => !w.closed && w.url.endsWith('/ws')),
      `an open /ws socket: ${JSON.stringify(c.sockets.map((w) => [w.url, w.closed]))}`,
    );
  }

  const admin = await openConsole(fx, { email: ADMIN_EMAIL, password: ADMIN_PASSWORD });
  const row = await adminUserRow(admin, agent.user.email, agent.user.id);
  assert.equal(await row.getAttribute('data-disabled'), 'false');
  const disabledAt = Date.now();
  await row.locator(tid('disable-user')).click();
  await until(async () => (await row.getAttribute('data-disabled')) === 'true', { label: 'row data-disabled=true' });
  await row.locator(tid('enable-user')).waitFor({ state: 'visible' });

  // Both sessions end: login form, storage cleared, sockets closed.
  for (const [i, c] of [s1, s2].entries()) {
    const st = await until(
      async () => {
        const s = await c.state();
        return s.loginForm && s.currentUser === null ? s : null;
      },
      { timeout: 15_000, label: `session ${i + 1}: back on the login form after the disable` },
    );
    console.log(`# session ${i + 1} on the login form ${Date.now() - disabledAt} ms after the disable click: ${JSON.stringify(st.loginError)}`);
    assert.ok(st.loginError, `session ${i + 1}: login-error says why (${JSON.stringify(st.loginError)})`);
    assert.equal(await c.storedSession(), null, `session ${i + 1}: sessionStorage cleared`);
    await until(() => c.sockets.length > 0 && c.sockets.every((w) => w.closed), {
      label: `session ${i + 1}: every WebSocket closed`,
    });
    const closes = await c.wsCloses();
    assert.ok(
      closes?.some((x) => x.code === 4011),
      `session ${i + 1}: the server closed the socket with 4011 session_revoked: ${JSON.stringify(closes)}`,
    );
  }
  // ...and stay closed: no reconnect loop with a dead session.
  await sleep(2_500);
  for (const [i, c] of [s1, s2].entries()) {
    const open = c.sockets.filter((w) => !w.closed);
    assert.deepEqual(open.map((w) => w.url), [], `session ${i + 1}: no socket reopened`);
    assert.equal((await c.state()).loginForm, true, `session ${i + 1}: still on the login form`);
  }

  // The agent cannot sign back in.
  const answer = s1.page.waitForResponse((r) => r.url().endsWith('/api/v1/auth/login'), { timeout: 15_000 });
  await s1.submitLogin(agent.user.email, agent.password);
  const res = await answer;
  assert.ok(res.status() >= 400, `login of a disabled agent refused by the server (HTTP ${res.status()})`);
  const again = await until(
    async () => {
      const s = await s1.state();
      return s.loginError && s.currentUser === null ? s : null;
    },
    { label: 'a disabled agent is refused at login' },
  );
  console.log(`# login-error after the refused login: ${JSON.stringify(again.loginError)}`);
  await sleep(500);
  assert.equal((await s1.state()).currentUser, null, 'still signed out');
  assert.equal(again.loginForm, true);
  for (const c of [s1, s2, admin]) assert.deepEqual(c.log.errors, [], 'no uncaught page errors');
});

// A console that was offline while its agent was disabled (a laptop
// asleep) also ends on the login screen once it is back: its reconnect
// (or its refresh) is refused, and it does not keep retrying.
scenario('admin disables an agent whose console is offline; back online, it ends on the login screen', async (fx) => {
  const { server } = fx;
  const agent = await newAgent(server, { name: 'Olly Offline' });
  const c = await openConsole(fx, { email: agent.user.email, password: agent.password });
  // The browser's `offline` event: the console gives its socket up at once.
  await c.context.setOffline(true);
  await until(async () => (await c.connectionState()) !== 'online', { timeout: 5_000, label: 'the console notices it is offline' });

  const admin = await openConsole(fx, { email: ADMIN_EMAIL, password: ADMIN_PASSWORD });
  const row = await adminUserRow(admin, agent.user.email, agent.user.id);
  await row.locator(tid('disable-user')).click();
  await until(async () => (await row.getAttribute('data-disabled')) === 'true', { label: 'row data-disabled=true' });

  await c.context.setOffline(false);
  const back = Date.now();
  const st = await until(
    async () => {
      const s = await c.state();
      return s.loginForm && s.currentUser === null ? s : null;
    },
    { timeout: 45_000, label: 'the returning console ends on the login form' },
  );
  console.log(`# back online → login form in ${Date.now() - back} ms: ${JSON.stringify(st.loginError)}`);
  assert.equal(await c.storedSession(), null, 'sessionStorage cleared');
  await until(() => c.sockets.every((w) => w.closed), { label: 'no socket left open' });
  const n = c.sockets.length;
  await sleep(3_000);
  assert.equal(c.sockets.length, n, 'no reconnect attempts after the session ended');
  assert.deepEqual(c.log.errors, [], 'no uncaught page errors');
});
