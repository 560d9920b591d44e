// The console's passwords (docs/CONSOLE.md, "Passwords"): "Change
// password" from the account menu (client-side checks, the server's
// `invalid_credentials` shown as a wrong current password, the old
// password stops working, the other sessions end, this one stays), and a
// forgotten password: "Forgot password?" → the neutral confirmation → the
// link of the real reset mail, read from the server's outbox table in its
// SQLite file → a new password → log in with it. The link is single-use;
// a bad token says so and offers a new link. Tokens and passwords are
// never printed.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';

import { api } from './lib/agent.mjs';
import { scenario } from './lib/browser.mjs';
import { config } from './lib/config.mjs';
import { newAgent, openConsole, until } from './lib/console.mjs';

/**
 * The server's outbox rows to `recipient` (oldest first), read with the
 * sqlite3 CLI from the live database (WAL: a reader sees every committed
 * write). The example server's mailer only logs that a mail would go out;
 * the row, body included, stays in the table.
 */
function outbox(server, recipient) {
  const sql = `SELECT recipient, subject, body FROM outbox WHERE recipient = '${recipient.replace(/'/g, "''")}' ORDER BY created_at, rowid;`;
  let out;
  try {
    out = execFileSync('sqlite3', ['-readonly', '-json', server.dbPath, sql], { encoding: 'utf8' });
  } catch (e) {
    throw new Error(`reading the outbox with sqlite3 failed (is the sqlite3 CLI installed? .ci/run installs it): ${e.message}`);
  }
  return out.trim() ? JSON.parse(out) : [];
}

/** Waits for the `n`th reset mail to `email`; returns the link it carries. */
async function resetLink(server, email, n = 1) {
  const mails = await until(
    () => {
      const rows = outbox(server, email).filter((m) => /reset/i.test(m.subject));
      return rows.length >= n ? rows : null;
    },
    { timeout: 15_000, label: `reset mail #${n} to ${email} in the outbox` },
  );
  const m = mails[n - 1].body.match(/https?:\/\/\S+/);
  assert.ok(m, 'the reset mail carries a link (not only a bare code)');
  return m[0];
}

/** The HTTP status of a REST call (200 for any 2xx). */
async function status(fn) {
  try {
    await fn();
    return 200;
  } catch (e) {
    if (!e.status) throw e;
    return e.status;
  }
}

const loginStatus = (server, email, password) =>
  status(() => api(server, 'POST', '/api/v1/auth/login', { body: { email, password } }));

/** Calls to `suffix` the page made (URL ends with it), by status. */
function recordCalls(page, suffix) {
  const seen = [];
  page.on('response', (r) => {
    if (new URL(r.url()).pathname === suffix) seen.push(r.status());
  });
  return seen;
}

scenario('password: change password from the account menu (checks, wrong current password, old one refused, other sessions end, this one stays); a reset link in a signed-in tab', async (fx) => {
  const { server } = fx;
  const agent = await newAgent(server, { name: 'Pat Password' });
  const email = agent.user.email;
  // Another session of the same agent (another machine): it must end.
  const elsewhere = await api(server, 'POST', '/api/v1/auth/login', { body: { email, password: agent.password } });

  const c = await openConsole(fx, { email, password: agent.password });
  const changes = recordCalls(c.page, '/api/v1/auth/change-password');
  const refreshes = recordCalls(c.page, '/api/v1/auth/refresh');

  // The account menu (a disclosure) → the change-password page.
  await c.page.locator('[data-testid="account-menu"] > summary').click();
  await c.t('account-password').click();
  await c.t('password-form').waitFor({ state: 'visible' });
  assert.equal(await c.page.evaluate(() => location.hash), '#/account/password');
  assert.equal(await c.page.evaluate(() => document.getElementById('account-menu').open), false, 'the menu closed');
  assert.equal(
    await c.page.evaluate(() => document.activeElement?.getAttribute('data-testid')),
    'password-current',
    'focus starts in the current password',
  );

  const fill = async (current, next, confirm) => {
    await c.t('password-current').fill(current);
    await c.t('password-new').fill(next);
    await c.t('password-confirm').fill(confirm);
    await c.t('password-submit').click();
  };
  const errorText = () => c.t('password-error').textContent();

  // Client-side checks: nothing is sent.
  await fill(agent.password, 'short', 'short');
  await until(async () => /at least 8 characters/.test(await errorText()), { label: 'too-short message' });
  await fill(agent.password, 'long enough 1', 'long enough 2');
  await until(async () => /do not match/.test(await errorText()), { label: 'mismatch message' });
  assert.equal(
    await c.page.evaluate(() => document.activeElement?.getAttribute('data-testid')),
    'password-confirm',
    'a mismatch focuses the confirmation',
  );
  assert.deepEqual(changes, [], 'the client-side checks sent nothing');

  // The wrong current password: the server's invalid_credentials, and no
  // token refresh for that 401.
  const NEW = 'a-brand-new-password-2';
  await fill('not-my-password', NEW, NEW);
  await until(async () => (await errorText()) === 'The current password is wrong.', {
    label: 'wrong current password message',
  });
  assert.deepEqual(changes, [401], 'one call, refused');
  assert.deepEqual(refreshes, [], 'a wrong current password is not taken for an expired token');
  assert.equal(await c.t('password-error').getAttribute('role'), 'alert');

  // The right one.
  await fill(agent.password, NEW, NEW);
  await until(async () => /password was changed/.test(await c.t('password-success').textContent()), {
    label: 'success message',
  });
  assert.deepEqual(changes, [401, 204]);
  assert.equal(await errorText(), '', 'the error is gone');
  for (const id of ['password-current', 'password-new', 'password-confirm']) {
    assert.equal(await c.t(id).inputValue(), '', `${id} emptied`);
  }

  // This session stays: still live, and a reload (a refresh rotation)
  // keeps it signed in.
  assert.equal(await c.connectionState(), 'online');
  await c.page.reload();
  await c.t('current-user').waitFor({ state: 'visible', timeout: 20_000 });
  await c.waitOnline();

  // The other session ended.
  assert.equal(
    await status(() => api(server, 'POST', '/api/v1/auth/refresh', { body: { refresh_token: elsewhere.tokens.refresh_token } })),
    401,
    "the other session's refresh token is revoked",
  );

  // Log out: the old password is refused at the login form, the new one
  // works. (Logins are rate limited per account: 5 at once, then one per
  // 6 s; this test stays within that.)
  await c.t('logout').click();
  await c.submitLogin(email, agent.password);
  await until(async () => /incorrect/i.test((await c.state()).loginError ?? ''), { label: 'old password refused at login' });
  await c.login(email, NEW);
  assert.equal((await c.state()).currentUser, 'Pat Password (agent)');

  // A reset link opened in this signed-in tab: it logs out first (the
  // refresh token revoked, the storage cleared), then shows the reset form.
  const signedIn = JSON.parse(await c.storedSession());
  await api(server, 'POST', '/api/v1/auth/password-reset', { body: { email } });
  const link = await resetLink(server, email);
  await c.page.goto(link);
  await c.t('reset-form').waitFor({ state: 'visible' });
  await c.t('reset-new').waitFor({ state: 'visible' });
  assert.equal(await c.page.evaluate(() => location.hash), '#/reset', 'the token left the address');
  await until(async () => (await c.storedSession()) === null, { label: 'the session storage cleared' });
  assert.equal(
    await status(() => api(server, 'POST', '/api/v1/auth/refresh', { body: { refresh_token: signedIn.tokens.refresh_token } })),
    401,
    "the tab's session was logged out",
  );
  await until(() => c.sockets.every((w) => w.closed), { label: "the tab's socket closed" });
  await c.t('reset-new').fill('third-password-for-pat');
  await c.t('reset-confirm').fill('third-password-for-pat');
  await c.t('reset-submit').click();
  await until(async () => /password was changed/i.test(await c.t('login-notice').textContent()), {
    label: 'back at the login form with the notice',
  });
  assert.deepEqual(c.log.errors, [], 'no uncaught page errors');
});

scenario('password: forgot → the mailed reset link → a new password → log in; the link works once; a bad link says so', async (fx) => {
  const { server } = fx;
  const agent = await newAgent(server, { name: 'Rita Reset' });
  const email = agent.user.email;
  const c = await openConsole(fx, {});
  const page = c.page;

  // "Forgot password?" on the login form takes the typed email along.
  await c.t('login-form').waitFor({ state: 'visible', timeout: 20_000 });
  await c.t('login-email').fill(email);
  await c.t('forgot-link').click();
  await c.t('forgot-form').waitFor({ state: 'visible' });
  assert.equal(await page.evaluate(() => location.hash), '#/forgot');
  assert.equal(await c.t('forgot-email').inputValue(), email, 'the typed email is kept');
  await c.t('forgot-submit').click();
  await until(async () => /If an account exists/.test(await c.t('forgot-done').textContent()), {
    label: 'the neutral confirmation',
  });
  const sentText = await c.t('forgot-done').textContent();

  // An address without an account: word for word the same answer, no mail.
  const nobody = `nobody-${Date.now()}@shop.test`;
  await c.t('forgot-email').fill(nobody);
  await c.t('forgot-submit').click();
  await until(async () => (await c.t('forgot-done').textContent()) === sentText, { label: 'the same confirmation' });

  // The real mail, from the server's outbox, links to the console's reset page.
  const link = await resetLink(server, email);
  assert.ok(link.startsWith(`${server.url}/console#/reset?token=`), 'the link is the console reset page on the server itself');
  assert.deepEqual(outbox(server, nobody), [], 'no mail for an address without an account');

  // Open it: the token leaves the address bar at once.
  await page.goto(link);
  await c.t('reset-form').waitFor({ state: 'visible' });
  const where = await page.evaluate(() => ({ hash: location.hash, href: location.href }));
  assert.equal(where.hash, '#/reset');
  assert.ok(!where.href.includes('token'), 'the token is gone from the address');
  assert.equal(
    await page.evaluate(() => document.activeElement?.getAttribute('data-testid')),
    'reset-new',
    'focus in the new password',
  );
  assert.ok(await c.t('reset-request-new').isHidden(), '"Request a new link" stays hidden while the link may work');

  // Checks first, then the new password.
  const NEW = 'reset-password-for-rita';
  await c.t('reset-new').fill(NEW);
  await c.t('reset-confirm').fill(`${NEW}x`);
  await c.t('reset-submit').click();
  await until(async () => /do not match/.test(await c.t('reset-error').textContent()), { label: 'mismatch on the reset form' });
  await c.t('reset-confirm').fill(NEW);
  await c.t('reset-submit').click();

  // Back at the login form with a notice.
  await c.t('login-form').waitFor({ state: 'visible' });
  assert.match(await c.t('login-notice').textContent(), /password was changed/i);
  assert.equal(await c.t('login-notice').getAttribute('role'), 'status');
  assert.equal(await page.evaluate(() => location.hash), '#/inbox');
  assert.equal(await loginStatus(server, email, agent.password), 401, 'the old password is refused');
  await c.login(email, NEW);
  assert.equal((await c.state()).currentUser, 'Rita Reset (agent)');

  // The same link again (signed out): refused, with a way to a new link.
  await c.t('logout').click();
  await c.t('login-form').waitFor({ state: 'visible' });
  await page.goto(link);
  await c.t('reset-form').waitFor({ state: 'visible' });
  await c.t('reset-new').fill('yet-another-password');
  await c.t('reset-confirm').fill('yet-another-password');
  await c.t('reset-submit').click();
  await until(async () => /invalid, expired or already used/.test(await c.t('reset-error').textContent()), {
    label: 'a used link is refused',
  });
  assert.equal(await c.t('reset-error').getAttribute('role'), 'alert');
  await c.t('reset-request-new').waitFor({ state: 'visible' });
  assert.equal(
    await page.evaluate(() => document.activeElement?.getAttribute('data-testid')),
    'reset-request-new',
    'focus on "Request a new link"',
  );
  assert.equal(await loginStatus(server, email, 'yet-another-password'), 401, 'the used link changed nothing');
  await c.t('reset-request-new').click();
  await c.t('forgot-form').waitFor({ state: 'visible' });

  // A made-up token: the same error.
  await page.goto(`${server.url}/console#/reset?token=ncp_00000000000000000000000000000000_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA`);
  await c.t('reset-form').waitFor({ state: 'visible' });
  await c.t('reset-new').fill('whatever-password');
  await c.t('reset-confirm').fill('whatever-password');
  await c.t('reset-submit').click();
  await until(async () => /invalid, expired or already used/.test(await c.t('reset-error').textContent()), {
    label: 'a bad token is refused',
  });

  // The reset page without a token (reloaded: the token lives in memory only).
  assert.equal(await page.evaluate(() => location.hash), '#/reset');
  await page.reload();
  await c.t('reset-form').waitFor({ state: 'visible' });
  assert.match(await c.t('reset-error').textContent(), /needs the link/);
  assert.equal(await c.t('reset-new').count(), 0, 'no password fields without a token');
  assert.deepEqual(c.log.errors, [], 'no uncaught page errors');
});

scenario('password: keyboard and layout at 1280 and 768 px (forgot link, reset and change-password forms)', async (fx) => {
  const { server } = fx;
  const agent = await newAgent(server, { name: 'Kim Keys' });
  const email = agent.user.email;
  const focused = (page) => page.evaluate(() => document.activeElement?.getAttribute('data-testid') ?? document.activeElement?.tagName);
  const noSideScroll = (page) => page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);

  for (const width of [1280, 768]) {
    const c = await openConsole(fx, { viewport: { width, height: 800 } });
    const page = c.page;
    await c.t('login-form').waitFor({ state: 'visible', timeout: 20_000 });
    // Keyboard only: email → password → Log in → Forgot password? (Enter).
    assert.equal(await focused(page), 'login-email');
    await page.keyboard.press('Tab');
    assert.equal(await focused(page), 'login-password');
    await page.keyboard.press('Tab');
    assert.equal(await focused(page), 'login-submit');
    await page.keyboard.press('Tab');
    assert.equal(await focused(page), 'forgot-link');
    await page.keyboard.press('Enter');
    await c.t('forgot-form').waitFor({ state: 'visible' });
    assert.equal(await focused(page), 'forgot-email');
    // Submit with Enter from the field.
    await page.keyboard.type(email);
    await page.keyboard.press('Enter');
    await until(async () => /If an account exists/.test(await c.t('forgot-done').textContent()), { label: 'sent' });
    assert.ok(await noSideScroll(page), `forgot form fits ${width} px`);
    await page.screenshot({ path: path.join(config.artifacts, `console-forgot-${width}.png`) });

    // The reset form: labels tied to the fields, Tab order, Enter submits.
    const link = await resetLink(server, email, width === 1280 ? 1 : 2);
    await page.goto(link);
    await c.t('reset-form').waitFor({ state: 'visible' });
    for (const id of ['reset-new', 'reset-confirm']) {
      const label = await page.evaluate((i) => document.getElementById(i)?.labels?.[0]?.textContent ?? null, id);
      assert.ok(label, `${id} has a label`);
    }
    assert.equal(await focused(page), 'reset-new');
    const pw = width === 1280 ? 'keyboard-password-1' : 'keyboard-password-2';
    await page.keyboard.type(pw);
    await page.keyboard.press('Tab');
    assert.equal(await focused(page), 'reset-confirm');
    await page.keyboard.type(pw);
    assert.ok(await noSideScroll(page), `reset form fits ${width} px`);
    await page.screenshot({ path: path.join(config.artifacts, `console-reset-${width}.png`) });
    await page.keyboard.press('Enter');
    await c.t('login-notice').waitFor({ state: 'visible' });
    await until(async () => /password was changed/i.test(await c.t('login-notice').textContent()), { label: 'notice' });

    // Signed in: the account menu by keyboard, then the change-password form.
    await c.login(email, pw);
    await page.locator('[data-testid="account-menu"] > summary').focus();
    await page.keyboard.press('Enter');
    await page.keyboard.press('Tab');
    assert.equal(await focused(page), 'account-password');
    await page.keyboard.press('Enter');
    await c.t('password-form').waitFor({ state: 'visible' });
    const order = [];
    for (let i = 0; i < 4; i += 1) {
      order.push(await focused(page));
      await page.keyboard.press('Tab');
    }
    assert.deepEqual(order, ['password-current', 'password-new', 'password-confirm', 'password-submit']);
    assert.equal(
      await page.evaluate(() => document.getElementById('password-new').getAttribute('aria-describedby')),
      'password-new-hint',
      'the length hint is tied to the new password',
    );
    assert.ok(await noSideScroll(page), `change-password page fits ${width} px`);
    await page.screenshot({ path: path.join(config.artifacts, `console-change-password-${width}.png`) });
    await c.t('logout').click();
    await c.t('login-form').waitFor({ state: 'visible' });
    assert.deepEqual(c.log.errors, [], 'no uncaught page errors');
  }
});
