// Issue #7, point 1: two agents in two browser contexts race to claim a new
// ticket a customer just opened. Exactly one wins (the server says so, and
// so do both consoles); the other sees who did, in the "claimed by" notice
// of docs/CONSOLE.md (`data-testid=claimed-by`, `role=alert`).

import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';

import { api, connectAgent, loginAdmin } from './lib/agent.mjs';
import { scenario } from './lib/browser.mjs';
import { connectCustomer, newAgent, openConsole, tid, until } from './lib/console.mjs';
import { shopPage } from './lib/host.mjs';
import { Widget } from './lib/widget.mjs';

/**
 * Clicks the `claim` button of both pages at the same wall-clock instant
 * (a timer in each page, both in the same Chromium), so neither console can
 * have heard of the other's claim before its own click. Returns, per page,
 * whether its button was enabled when clicked.
 */
async function clickBothAt(pages, sel = tid('claim')) {
  const at = Date.now() + 400;
  return Promise.all(
    pages.map((p) =>
      p.evaluate(
        ({ at, sel }) =>
          new Promise((resolve) => {
            setTimeout(() => {
              const b = document.querySelector(sel);
              const enabled = !!b && !b.disabled;
              b?.click();
              resolve({ enabled, at: Date.now() });
            }, Math.max(0, at - Date.now()));
          }),
        { at, sel },
      ),
    ),
  );
}

scenario('claim race: two agents claim a new ticket at once; exactly one wins, the other is told who', async (fx) => {
  const { server } = fx;
  const alice = await newAgent(server, { name: 'Alice Agent' });
  const bob = await newAgent(server, { name: 'Bob Agent' });
  // The admin's socket counts the `claimed` events the server publishes.
  const admin = await loginAdmin(server);
  const watch = fx.track(await connectAgent(server, admin));

  const [ca, cb] = await Promise.all([
    openConsole(fx, { email: alice.user.email, password: alice.password }),
    openConsole(fx, { email: bob.user.email, password: bob.password }),
  ]);

  const cust = fx.track(await connectCustomer(fx.server, { name: 'Carla Customer' }));
  const { ticketId } = await cust.createTicket('Where is my parcel?', 'Order #77 has not arrived.');

  // Both consoles list it live, and open it: unassigned, claim enabled.
  await Promise.all([ca.waitForRow(ticketId), cb.waitForRow(ticketId)]);
  await Promise.all([ca.openTicket(ticketId), cb.openTicket(ticketId)]);
  for (const c of [ca, cb]) {
    await until(
      async () => {
        const s = await c.state();
        return s.ticketId === ticketId && s.claimDisabled === false && s.assignee === 'Unassigned' && s.msgs.length > 0;
      },
      { label: 'ticket open, "Unassigned", claim enabled, first message shown' },
    );
  }

  const clicks = await clickBothAt([ca.page, cb.page]);
  assert.deepEqual(
    clicks.map((c) => c.enabled),
    [true, true],
    `both claim buttons were enabled when clicked (a real race): ${JSON.stringify(clicks)}`,
  );

  // The server: exactly one assignee, one of the two.
  const stored = await until(
    async () => {
      const t = await api(server, 'GET', `/api/v1/tickets/${ticketId}`, { token: admin.token });
      return t.assignee_id ? t : null;
    },
    { label: 'the ticket has an assignee on the server' },
  );
  const ids = { [alice.user.id]: 'alice', [bob.user.id]: 'bob' };
  assert.ok(ids[stored.assignee_id], `assignee is Alice or Bob, got ${stored.assignee_id}`);
  const [winner, loser] = ids[stored.assignee_id] === 'alice' ? [ca, cb] : [cb, ca];
  const winnerName = ids[stored.assignee_id] === 'alice' ? 'Alice Agent' : 'Bob Agent';

  // The winner: "Assigned to you", claim disabled, no claimed-by notice.
  await until(
    async () => {
      const s = await winner.state();
      return s.assignee === 'Assigned to you' && s.claimDisabled === true;
    },
    { label: 'winner shows "Assigned to you" and a disabled claim button' },
  );
  // The loser: the notice names the winner, as an alert.
  const ls = await until(
    async () => {
      const s = await loser.state();
      return s.claimedBy ? s : null;
    },
    { label: 'loser shows [data-testid=claimed-by]' },
  );
  assert.equal(ls.claimedBy, `Already claimed by ${winnerName}.`);
  assert.equal(ls.claimedByRole, 'alert');
  await until(
    async () => {
      const s = await loser.state();
      return s.assignee === `Assigned to ${winnerName}` && s.claimDisabled === true;
    },
    { label: `loser's header says "Assigned to ${winnerName}", claim disabled` },
  );

  // Exactly one claim went through: one `claimed` event, over a quiet second.
  await sleep(1_000);
  const claimedEvents = watch.frames.filter(
    (f) => f.type === 'ticket_event' && f.ticket.id === ticketId && f.change === 'claimed',
  );
  assert.equal(claimedEvents.length, 1, `one claimed event: ${JSON.stringify(claimedEvents.map((f) => f.ticket.assignee_id))}`);
  assert.equal(claimedEvents[0].ticket.assignee_id, stored.assignee_id);
  const ws = await winner.state();
  assert.equal(ws.claimedBy, null, 'the winner has no claimed-by notice');
  // Both inbox rows agree on who has it.
  const rowOf = async (c) => (await c.state()).rows.find((r) => r.id === ticketId)?.assignee;
  await until(async () => (await rowOf(winner)) === 'you', { label: 'winner row-assignee "you"' });
  await until(async () => (await rowOf(loser)) === winnerName, { label: `loser row-assignee "${winnerName}"` });

  for (const c of [ca, cb]) {
    assert.deepEqual(c.log.errors, [], 'no uncaught page errors');
    assert.deepEqual(c.log.dialogs, []);
  }
});

// The same race from the queue: the customer writes in the widget, both
// agents press the row's one-click Claim (data-testid=row-claim) at once.
scenario('claim race from the inbox rows (row-claim), widget customer: one wins, the other is told who', async (fx) => {
  const { server, host } = fx;
  const alice = await newAgent(server, { name: 'Alice Agent' });
  const bob = await newAgent(server, { name: 'Bob Agent' });
  const [ca, cb] = await Promise.all([
    openConsole(fx, { email: alice.user.email, password: alice.password }),
    openConsole(fx, { email: bob.user.email, password: bob.password }),
  ]);

  const { page } = await fx.newVisitor();
  await page.goto(host.page('/', shopPage(server)));
  const w = new Widget(page);
  await w.ready();
  await w.open();
  await w.send('Anyone there? My order is late.');
  await w.waitForMessage('Anyone there? My order is late.', { who: 'own', withSeq: true });

  const row = await until(async () => (await ca.state()).rows[0], { label: 'the widget ticket in Alice\'s inbox' });
  const ticketId = row.id;
  await cb.waitForRow(ticketId);
  const sel = `${tid('inbox-row')}[data-ticket-id="${ticketId}"] ${tid('row-claim')}`;
  for (const c of [ca, cb]) await c.page.locator(sel).waitFor({ state: 'visible' });

  const clicks = await clickBothAt([ca.page, cb.page], sel);
  assert.deepEqual(clicks.map((c) => c.enabled), [true, true], `both row-claim buttons clicked: ${JSON.stringify(clicks)}`);

  const admin = await loginAdmin(server);
  const stored = await until(
    async () => {
      const t = await api(server, 'GET', `/api/v1/tickets/${ticketId}`, { token: admin.token });
      return t.assignee_id ? t : null;
    },
    { label: 'the ticket has an assignee on the server' },
  );
  const aliceWon = stored.assignee_id === alice.user.id;
  assert.ok(aliceWon || stored.assignee_id === bob.user.id, 'Alice or Bob has it');
  const [winner, loser, winnerName] = aliceWon ? [ca, cb, 'Alice Agent'] : [cb, ca, 'Bob Agent'];

  // Both opened the ticket (one click from the queue).
  for (const c of [ca, cb]) {
    await until(async () => (await c.state()).ticketId === ticketId, { label: 'row-claim opened the ticket' });
  }
  await until(async () => (await winner.state()).assignee === 'Assigned to you', { label: 'winner: "Assigned to you"' });
  const ls = await until(
    async () => {
      const s = await loser.state();
      return s.claimedBy ? s : null;
    },
    { label: 'loser shows [data-testid=claimed-by]' },
  );
  assert.equal(ls.claimedBy, `Already claimed by ${winnerName}.`);
  await sleep(500);
  assert.equal((await winner.state()).claimedBy, null, 'the winner has no claimed-by notice');
  // The winner's reply reaches the widget.
  await winner.send('I have it, one moment.');
  await w.waitForMessage('I have it, one moment.', { who: 'agent', withSeq: true });
  for (const c of [ca, cb]) assert.deepEqual(c.log.errors, [], 'no uncaught page errors');
});

/**
 * Presses `c` (keydown on the document, as a keyboard would) in both pages
 * at the same instant; returns per page whether its claim button was
 * enabled just before.
 */
async function pressCBothAt(pages) {
  const at = Date.now() + 400;
  return Promise.all(
    pages.map((p) =>
      p.evaluate(
        ({ at, sel }) =>
          new Promise((resolve) => {
            setTimeout(() => {
              const b = document.querySelector(sel);
              const enabled = !!b && !b.disabled;
              document.activeElement?.blur?.();
              document.body.dispatchEvent(new KeyboardEvent('keydown', { key: 'c', bubbles: true, cancelable: true }));
              resolve({ enabled, at: Date.now() });
            }, Math.max(0, at - Date.now()));
          }),
        { at, sel: tid('claim') },
      ),
    ),
  );
}

// Several rounds, one per ticket, with the three ways to claim (header
// button, the row's one-click Claim, the `c` shortcut): every round has
// exactly one winner on the server and one claimed-by notice naming it.
scenario('claim races, three rounds (button, row-claim, c key): always exactly one winner, the loser told who', async (fx) => {
  const { server } = fx;
  const alice = await newAgent(server, { name: 'Alice Agent' });
  const bob = await newAgent(server, { name: 'Bob Agent' });
  const admin = await loginAdmin(server);
  const watch = fx.track(await connectAgent(server, admin));
  const [ca, cb] = await Promise.all([
    openConsole(fx, { email: alice.user.email, password: alice.password }),
    openConsole(fx, { email: bob.user.email, password: bob.password }),
  ]);
  const wins = { alice: 0, bob: 0 };
  for (const [round, how] of ['button', 'row-claim', 'c key'].entries()) {
    const cust = fx.track(await connectCustomer(server, { name: `Customer ${round + 1}` }));
    const { ticketId } = await cust.createTicket(`Race ${round + 1}`, `round ${round + 1}`);
    await Promise.all([ca.waitForRow(ticketId), cb.waitForRow(ticketId)]);
    let clicks;
    if (how === 'row-claim') {
      const sel = `${tid('inbox-row')}[data-ticket-id="${ticketId}"] ${tid('row-claim')}`;
      clicks = await clickBothAt([ca.page, cb.page], sel);
    } else {
      await Promise.all([ca.openTicket(ticketId), cb.openTicket(ticketId)]);
      for (const c of [ca, cb]) {
        await until(async () => (await c.state()).claimDisabled === false, { label: `${how}: claim enabled before the race` });
      }
      clicks = how === 'button' ? await clickBothAt([ca.page, cb.page]) : await pressCBothAt([ca.page, cb.page]);
    }
    assert.deepEqual(clicks.map((x) => x.enabled), [true, true], `${how}: both raced (${JSON.stringify(clicks)})`);
    const stored = await until(
      async () => {
        const t = await api(server, 'GET', `/api/v1/tickets/${ticketId}`, { token: admin.token });
        return t.assignee_id ? t : null;
      },
      { label: `${how}: an assignee on the server` },
    );
    const aliceWon = stored.assignee_id === alice.user.id;
    assert.ok(aliceWon || stored.assignee_id === bob.user.id);
    wins[aliceWon ? 'alice' : 'bob'] += 1;
    const [winner, loser, name] = aliceWon ? [ca, cb, 'Alice Agent'] : [cb, ca, 'Bob Agent'];
    const ls = await until(
      async () => {
        const s = await loser.state();
        return s.ticketId === ticketId && s.claimedBy ? s : null;
      },
      { label: `${how}: the loser's claimed-by notice` },
    );
    assert.equal(ls.claimedBy, `Already claimed by ${name}.`, how);
    await until(async () => (await winner.state()).assignee === 'Assigned to you', { label: `${how}: winner "Assigned to you"` });
    assert.equal((await winner.state()).claimedBy, null, `${how}: no notice for the winner`);
    await sleep(300);
    const claimed = watch.frames.filter((f) => f.type === 'ticket_event' && f.ticket.id === ticketId && f.change === 'claimed');
    assert.equal(claimed.length, 1, `${how}: one claimed event`);
  }
  console.log(`# winners over three rounds: ${JSON.stringify(wins)}`);
  for (const c of [ca, cb]) assert.deepEqual(c.log.errors, [], 'no uncaught page errors');
});
