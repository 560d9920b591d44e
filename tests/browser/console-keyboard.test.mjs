// The console's keyboard shortcuts (docs/CONSOLE.md, "Keyboard"): outside
// text fields j / k next / previous ticket of the list, c claims the open
// ticket, r focuses the composer, ? shows the list and Esc closes it; in
// the composer the same keys are just text, Enter sends and Shift+Enter is
// a new line.

import assert from 'node:assert/strict';

import { api } from './lib/agent.mjs';
import { scenario } from './lib/browser.mjs';
import { connectCustomer, newAgent, openConsole, until } from './lib/console.mjs';

scenario('keyboard: j/k move through the list, c claims, r focuses the composer, ? and Esc, Enter/Shift+Enter', async (fx) => {
  const { server } = fx;
  const agent = await newAgent(server, { name: 'Alice Agent' });
  const c = await openConsole(fx, { email: agent.user.email, password: agent.password });
  const cust = fx.track(await connectCustomer(server, { name: 'Carla Customer' }));
  const ids = [];
  for (const n of [1, 2, 3]) ids.push((await cust.createTicket(`Question ${n}`, `Body of question ${n}`)).ticketId);
  for (const id of ids) await c.waitForRow(id);
  const order = (await c.state()).rows.map((r) => r.id);
  assert.equal(order.length, 3);

  const blur = () => c.page.evaluate(() => document.activeElement?.blur());
  const openId = async () => (await c.state()).ticketId;
  const expectOpen = (id, label) =>
    until(
      async () => {
        const s = await c.state();
        return s.ticketId === id && s.rows.find((r) => r.id === id)?.open;
      },
      { label },
    );

  await blur();
  assert.equal(await openId(), null, 'no ticket open yet');
  await c.page.keyboard.press('j');
  await expectOpen(order[0], 'j opens the first ticket of the list');
  await blur();
  await c.page.keyboard.press('j');
  await expectOpen(order[1], 'j opens the second');
  await blur();
  await c.page.keyboard.press('j');
  await expectOpen(order[2], 'j opens the third');
  await blur();
  await c.page.keyboard.press('j');
  await expectOpen(order[2], 'j at the end stays on the last');
  await blur();
  await c.page.keyboard.press('k');
  await expectOpen(order[1], 'k goes back one');

  // r: the composer gets the focus, without an "r" in it.
  await blur();
  await c.page.keyboard.press('r');
  await until(() => c.page.evaluate(() => document.activeElement?.getAttribute('data-testid') === 'composer'), {
    label: 'r focuses the composer',
  });
  assert.equal(await c.t('composer').inputValue(), '', 'the r is not typed into the composer');
  // In the composer, j/k/c/? are text.
  await c.page.keyboard.type('jkc?');
  assert.equal(await c.t('composer').inputValue(), 'jkc?');
  assert.equal(await openId(), order[1], 'typing j/k in the composer moves nothing');
  assert.equal(await c.t('shortcuts-help').count(), 0, 'typing ? in the composer opens no help');
  assert.equal((await c.state()).assignee, 'Unassigned', 'typing c in the composer claims nothing');
  // Shift+Enter: a new line; Enter: sends.
  await c.page.keyboard.press('Shift+Enter');
  await c.page.keyboard.type('second line');
  assert.equal(await c.t('composer').inputValue(), 'jkc?\nsecond line', 'Shift+Enter is a new line');
  assert.equal((await c.state()).msgs.filter((m) => m.kind === 'agent').length, 0, 'nothing sent yet');

  // ?: the help; Esc closes it.
  await blur();
  await c.page.keyboard.press('?');
  const help = c.t('shortcuts-help');
  await help.waitFor({ state: 'visible' });
  assert.equal(await help.locator('[role="dialog"]').count(), 1, 'the help is a dialog');
  const helpText = await help.textContent();
  for (const k of ['j', 'k', 'c', 'r', '?']) assert.ok(helpText.includes(k), `the help names ${k}`);
  await c.page.keyboard.press('Escape');
  await help.waitFor({ state: 'detached' });
  await c.page.keyboard.press('?');
  await help.waitFor({ state: 'visible' });
  await c.t('help-close').click();
  await help.waitFor({ state: 'detached' });

  // c: claims the open ticket.
  await blur();
  await c.page.keyboard.press('c');
  await until(async () => (await c.state()).assignee === 'Assigned to you', { label: 'c claims: "Assigned to you"' });
  const t = await api(server, 'GET', `/api/v1/tickets/${order[1]}`, { token: agent.token });
  assert.equal(t.assignee_id, agent.user.id, 'the server has the claim');

  // Enter in the composer sends the two lines (the draft was kept).
  await c.t('composer').focus();
  assert.equal(await c.t('composer').inputValue(), 'jkc?\nsecond line', 'the draft is still there');
  await c.page.keyboard.press('Enter');
  const sent = await c.waitForMessage('jkc?\nsecond line');
  assert.equal(sent.kind, 'agent');
  // The customer follows all three of its tickets (createTicket subscribes).
  const got = await cust.waitForMessage(order[1], 'jkc?\nsecond line');
  assert.equal(got.seq, sent.seq);
  assert.equal(await c.t('composer').inputValue(), '', 'composer empty after Enter');
  assert.deepEqual(c.log.errors, [], 'no uncaught page errors');
});
