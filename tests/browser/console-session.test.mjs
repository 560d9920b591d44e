// The console's login session (docs/CONSOLE.md, "Session and token
// storage"): tokens in sessionStorage, so a reload keeps the agent signed
// in (the restored session is rotated first: a new refresh token each
// time) while another tab starts at the login form; logout revokes the
// refresh token server-side, clears the storage and closes the socket.

import assert from 'node:assert/strict';

import { api } from './lib/agent.mjs';
import { scenario } from './lib/browser.mjs';
import { connectCustomer, newAgent, openConsole, until } from './lib/console.mjs';

/** The REST refresh with `refresh_token`; resolves to the HTTP status. */
async function refreshStatus(server, refreshToken) {
  try {
    await api(server, 'POST', '/api/v1/auth/refresh', { body: { refresh_token: refreshToken } });
    return 200;
  } catch (e) {
    if (!e.status) throw e;
    return e.status;
  }
}

scenario('session: a reload keeps the agent signed in (refresh rotation), a new tab does not, logout ends it', async (fx) => {
  const { server } = fx;
  const agent = await newAgent(server, { name: 'Alice Agent' });
  const c = await openConsole(fx, { email: agent.user.email, password: agent.password });
  const s0 = JSON.parse(await c.storedSession());
  assert.equal(s0.user.id, agent.user.id);
  assert.ok(s0.tokens.refresh_token && s0.tokens.access_token, 'tokens stored in sessionStorage');
  const local = await c.page.evaluate(() => Object.fromEntries(Object.entries(localStorage)));
  assert.ok(
    !JSON.stringify(local).includes(s0.tokens.refresh_token) && !JSON.stringify(local).includes(s0.tokens.access_token),
    'no token in localStorage',
  );

  // Reload 1: signed in again without the form, after a rotation.
  const rotations = [];
  c.page.on('response', (r) => {
    if (r.url().endsWith('/api/v1/auth/refresh')) rotations.push(r.status());
  });
  for (const round of [1, 2]) {
    const before = JSON.parse(await c.storedSession());
    let sawForm = false;
    const probe = setInterval(() => {
      c.page
        .evaluate(() => !!document.querySelector('[data-testid="login-form"]'))
        .then((v) => {
          if (v) sawForm = true;
        })
        .catch(() => {});
    }, 20);
    await c.page.reload();
    try {
      await c.t('current-user').waitFor({ state: 'visible', timeout: 20_000 });
      await c.waitOnline();
    } finally {
      clearInterval(probe);
    }
    assert.equal(sawForm, false, `reload ${round}: the login form never showed`);
    assert.equal((await c.state()).currentUser, 'Alice Agent (agent)');
    const after = JSON.parse(await c.storedSession());
    assert.notEqual(after.tokens.refresh_token, before.tokens.refresh_token, `reload ${round}: the refresh token was rotated`);
    // (The access token may come out identical: same claims within the same second.)
  }
  assert.deepEqual(rotations, [200, 200], 'one successful refresh per reload');

  // Still live after two reloads: a new ticket shows up.
  const cust = fx.track(await connectCustomer(server, { name: 'Carla Customer' }));
  const { ticketId } = await cust.createTicket('After the reloads', 'Still there?');
  await c.waitForRow(ticketId, { label: 'a new ticket listed live after the reloads' });

  // Another tab (own sessionStorage): the login form.
  const other = await openConsole(fx, {});
  await other.t('login-form').waitFor({ state: 'visible' });
  assert.equal(await other.storedSession(), null, 'a new tab has no session');

  // Logout: storage cleared, socket closed, the refresh token revoked.
  const last = JSON.parse(await c.storedSession());
  await c.t('logout').click();
  await c.t('login-form').waitFor({ state: 'visible' });
  assert.equal(await c.storedSession(), null, 'sessionStorage cleared on logout');
  await until(() => c.sockets.every((w) => w.closed), { label: 'every console socket closed after logout' });
  assert.equal(await refreshStatus(server, last.tokens.refresh_token), 401, 'the last refresh token is revoked');
  // A reload after logout stays signed out.
  await c.page.reload();
  await c.t('login-form').waitFor({ state: 'visible' });
  assert.equal((await c.state()).currentUser, null);
  for (const x of [c, other]) assert.deepEqual(x.log.errors, [], 'no uncaught page errors');
});

// docs/CONSOLE.md's caveat: "Duplicate tab" copies sessionStorage, both
// tabs rotate the same refresh token. The copy rotates first (it is
// restored on load); when the original then rotates the spent token, the
// server sees a reuse and ends the session family: the original shows the
// reuse reason, and the copy's socket is closed with 4011 and it is back
// at the login form too (the doc names only "the second" tab: in fact both
// end, which is the safe answer to a possible theft).
scenario('session: a duplicated tab (copied sessionStorage) and a reuse of the spent refresh token end the session in both', async (fx) => {
  const { server } = fx;
  const agent = await newAgent(server, { name: 'Dup Agent' });
  const a = await openConsole(fx, { email: agent.user.email, password: agent.password });
  const stored = await a.storedSession();
  // The copy: a new tab with the same sessionStorage entry before load.
  const b = await openConsole(fx, {
    init: `if (!sessionStorage.getItem('neurochat.console.session')) sessionStorage.setItem('neurochat.console.session', ${JSON.stringify(stored)})`,
  });
  await b.t('current-user').waitFor({ state: 'visible', timeout: 20_000 });
  await b.waitOnline();
  assert.notEqual(JSON.parse(await b.storedSession()).tokens.refresh_token, JSON.parse(stored).tokens.refresh_token, 'the copy rotated on load');

  // The original reloads: it rotates the spent token.
  await a.page.reload();
  const sa = await until(
    async () => {
      const s = await a.state();
      return s.loginForm && s.loginError ? s : null;
    },
    { timeout: 20_000, label: 'the original tab ends on the login form with a reason' },
  );
  assert.match(sa.loginError, /already used|ended/i, `the reason: ${sa.loginError}`);
  const sb = await until(
    async () => {
      const s = await b.state();
      return s.loginForm ? s : null;
    },
    { timeout: 20_000, label: 'the copy ends on the login form too' },
  );
  console.log(`# original: ${JSON.stringify(sa.loginError)}; copy: ${JSON.stringify(sb.loginError)}`);
  assert.ok((await b.wsCloses()).some((x) => x.code === 4011), "the copy's socket was closed with 4011 session_revoked");
  for (const c of [a, b]) assert.equal(await c.storedSession(), null, 'storage cleared');
  for (const c of [a, b]) assert.deepEqual(c.log.errors, [], 'no uncaught page errors');
});
