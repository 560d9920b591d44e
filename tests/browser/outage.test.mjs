// (b) The server is killed with SIGKILL mid-conversation. The visitor keeps
// writing (messages stay pending), the server comes back on the same port
// and database, the agent writes right away; after the widget reconnects it
// shows every message exactly once and in order, and the agent got every
// visitor message exactly once.

import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';

import { AgentSocket, connectAgent, createAgent, ticketMessages } from './lib/agent.mjs';
import { scenario } from './lib/browser.mjs';
import { shopPage } from './lib/host.mjs';
import { until, Widget } from './lib/widget.mjs';

scenario(
  'outage: kill -9 mid-conversation, pending messages, restart; every message exactly once, in order',
  async (fx) => {
    const { server, host } = fx;
    const agent = await createAgent(server);
    const sock1 = fx.track(await connectAgent(server, agent));

    const { page, log } = await fx.newVisitor();
    await page.goto(host.page('/', shopPage(server)));
    const w = new Widget(page);
    await w.ready();
    await w.open();

    await w.send('before-1');
    await w.waitForMessage('before-1', { who: 'own', withSeq: true });
    const ticket = await sock1.waitForNewTicket();
    await sock1.claim(ticket.id);
    await sock1.subscribe(ticket.id, 0);
    await sock1.waitForMessage(ticket.id, 'before-1');
    await sock1.send(ticket.id, 'agent-before');
    await w.waitForMessage('agent-before', { who: 'agent', withSeq: true });
    await until(async () => (await w.state()).connection === 'online', { label: 'online before the outage' });
    const heldByAgent = Math.max(...sock1.messages(ticket.id).map((m) => m.seq));

    // Outage.
    await server.kill9();
    await until(async () => (await w.state()).connection !== 'online', {
      label: '.nc-connection leaves "online" after the server died',
      timeout: 20_000,
    });
    const during = ['outage-1', 'outage-2 (typed while offline)', 'outage-3'];
    for (const body of during) {
      await w.send(body);
      await w.waitForMessage(body, { who: 'own' });
    }
    const offline = await w.state();
    for (const body of during) {
      const m = offline.msgs.filter((x) => x.body === body);
      assert.equal(m.length, 1, `${body} shown once while offline`);
      assert.equal(m[0].seq, null, `${body} has no seq while offline`);
      assert.equal(m[0].ticks, 'pending', `${body} is pending while offline`);
    }
    // Give the widget's reconnect loop a few failed attempts.
    await sleep(1_500);

    // Back on the same port and database; the agent writes at once, most
    // likely before the widget's backoff lets it reconnect.
    await server.restart();
    const sock2 = fx.track(new AgentSocket(server, agent.token));
    await sock2.connect();
    await sock2.subscribe(ticket.id, heldByAgent);
    const after = ['agent-after-1', 'agent-after-2'];
    for (const body of after) await sock2.send(ticket.id, body);
    const when = await w.state();
    console.log(
      `# the agent wrote after the restart while the widget was ${when.connection} ` +
        `(${when.msgs.filter((m) => m.seq === null).length} visitor message(s) still pending)`,
    );

    // Everything lands, exactly once.
    const expectedOwn = ['before-1', ...during];
    const expectedAgent = ['agent-before', ...after];
    const final = await until(
      async () => {
        const s = await w.state();
        const done =
          s.connection === 'online' &&
          s.msgs.every((m) => m.seq !== null) &&
          [...expectedOwn, ...expectedAgent].every((b) => s.msgs.some((m) => m.body === b));
        return done && s;
      },
      { timeout: 45_000, label: 'the widget back online with every message acknowledged' },
    );
    // Settle, then look again: late duplicates would show up now.
    await sleep(1_000);
    const settled = await w.state();
    assert.deepEqual(settled.msgs, final.msgs, 'nothing changed after settling');

    const bodies = settled.msgs.map((m) => m.body);
    for (const b of [...expectedOwn, ...expectedAgent]) {
      assert.equal(bodies.filter((x) => x === b).length, 1, `${JSON.stringify(b)} shown exactly once`);
    }
    const seqs = settled.msgs.map((m) => m.seq);
    assert.deepEqual(seqs, [...seqs].sort((a, b) => a - b), 'shown in seq order');
    assert.equal(new Set(seqs).size, seqs.length, 'no seq shown twice');
    const ownOrder = settled.msgs.filter((m) => m.who === 'own').map((m) => m.body);
    assert.deepEqual(ownOrder, expectedOwn, 'the visitor’s messages in the order typed');
    assert.deepEqual(
      settled.msgs.filter((m) => m.who === 'agent').map((m) => m.body),
      expectedAgent,
      'the agent’s messages in the order sent',
    );
    for (const m of settled.msgs.filter((x) => x.who === 'own')) {
      assert.notEqual(m.ticks, 'pending', `${m.body} is no longer pending`);
    }

    // The stored conversation is exactly what the widget shows.
    const stored = (await ticketMessages(server, agent.token, ticket.id)).filter((m) => m.kind !== 'internal_note');
    assert.deepEqual(
      settled.msgs.map((m) => [m.seq, m.body]),
      stored.map((m) => [m.seq, m.body]),
      'widget == stored history (seq, body)',
    );

    // The agent received every visitor message exactly once over its two
    // connections (the second resumed after the last seq the first held).
    await until(() => expectedOwn.every((b) => [...sock1.messages(ticket.id), ...sock2.messages(ticket.id)].some((m) => m.body === b)), {
      label: 'the agent has every visitor message',
    });
    await sleep(500);
    const received = [...sock1.messages(ticket.id), ...sock2.messages(ticket.id)].filter((m) => m.kind === 'customer');
    assert.deepEqual(
      received.map((m) => m.body),
      expectedOwn,
      'the agent got each visitor message exactly once, in order',
    );
    assert.deepEqual(log.errors, [], 'no uncaught page errors');
  },
  { timeout: 180_000 },
);

// The visitor reloads the page while the server is down: the messages
// written during the outage wait in the stored outbox and go out exactly
// once when the server is back.
scenario(
  'outage with a reload: pending messages survive the reload and are sent exactly once',
  async (fx) => {
    const { server, host } = fx;
    const agent = await createAgent(server);
    const sock1 = fx.track(await connectAgent(server, agent));

    const { page, log } = await fx.newVisitor();
    await page.goto(host.page('/', shopPage(server)));
    const w = new Widget(page);
    await w.ready();
    await w.open();
    await w.send('hello before');
    await w.waitForMessage('hello before', { who: 'own', withSeq: true });
    const ticket = await sock1.waitForNewTicket();
    await sock1.claim(ticket.id);

    await server.kill9();
    await until(async () => (await w.state()).connection !== 'online', { label: 'offline', timeout: 20_000 });
    const during = ['written offline 1', 'written offline 2'];
    for (const body of during) {
      await w.send(body);
      await w.waitForMessage(body, { who: 'own' });
    }

    await page.reload();
    await w.ready();
    if (!(await w.state()).panelOpen) await w.launcher.click();
    await w.input.waitFor({ state: 'visible' });
    const reloaded = await until(
      async () => {
        const s = await w.state();
        return during.every((b) => s.msgs.some((m) => m.body === b)) && s;
      },
      { label: 'the pending messages shown again after the reload (from the stored outbox)' },
    );
    for (const body of during) {
      const m = reloaded.msgs.filter((x) => x.body === body);
      assert.equal(m.length, 1, `${body} shown once after the reload`);
      assert.equal(m[0].seq, null, `${body} still pending after the reload`);
    }

    await server.restart();
    const final = await until(
      async () => {
        const s = await w.state();
        const all = ['hello before', ...during].every((b) => s.msgs.some((m) => m.body === b && m.seq !== null));
        return s.connection === 'online' && all && s.msgs.every((m) => m.seq !== null) && s;
      },
      { timeout: 45_000, label: 'every message acknowledged after the restart' },
    );
    await sleep(1_000);
    const settled = await w.state();
    assert.deepEqual(settled.msgs, final.msgs, 'nothing changed after settling');
    assert.deepEqual(
      settled.msgs.filter((m) => m.who === 'own').map((m) => m.body),
      ['hello before', ...during],
      'each visitor message once, in the order written',
    );
    const stored = await ticketMessages(server, agent.token, ticket.id);
    assert.deepEqual(
      stored.filter((m) => m.kind === 'customer').map((m) => m.body),
      ['hello before', ...during],
      'stored exactly once each, in the same ticket',
    );
    assert.deepEqual(
      settled.msgs.map((m) => [m.seq, m.body]),
      stored.filter((m) => m.kind !== 'internal_note').map((m) => [m.seq, m.body]),
      'widget == stored history',
    );
    assert.deepEqual(log.errors, []);
  },
  { timeout: 180_000 },
);

// The browser itself goes offline (no server outage): the widget says so
// (`.nc-connection[data-state=offline]` with visible text), keeps what the
// visitor writes pending, and sends it once when the network is back.
scenario('browser offline: the widget shows "offline", keeps messages pending, sends them once back online', async (fx) => {
  const { server, host } = fx;
  const agent = await createAgent(server);
  const inbox = fx.track(await connectAgent(server, agent));
  const { page, context, log } = await fx.newVisitor();
  await page.goto(host.page('/', shopPage(server)));
  const w = new Widget(page);
  await w.ready();
  await w.open();
  await w.send('online first');
  await w.waitForMessage('online first', { who: 'own', withSeq: true });
  const ticket = await inbox.waitForNewTicket();
  await inbox.claim(ticket.id);
  await inbox.subscribe(ticket.id, 0);

  await context.setOffline(true);
  await until(async () => (await w.state()).connection === 'offline', { label: '.nc-connection[data-state=offline]' });
  const text = (await w.connection.textContent()).trim();
  assert.ok(text.length > 0 && (await w.connection.isVisible()), `the offline state is shown in words ("${text}")`);
  await w.send('written without network');
  const pending = await w.waitForMessage('written without network', { who: 'own' });
  assert.equal(pending.seq, null);
  assert.equal(pending.ticks, 'pending');

  await context.setOffline(false);
  await w.waitForMessage('written without network', { who: 'own', withSeq: true, timeout: 30_000 });
  await until(async () => (await w.state()).connection === 'online', { label: 'online again' });
  await inbox.waitForMessage(ticket.id, 'written without network');
  await sleep(1_000);
  const stored = await ticketMessages(server, agent.token, ticket.id);
  assert.deepEqual(
    stored.filter((m) => m.kind === 'customer').map((m) => m.body),
    ['online first', 'written without network'],
    'each stored once',
  );
  const s = await w.state();
  assert.deepEqual(
    s.msgs.map((m) => [m.seq, m.body]),
    stored.filter((m) => m.kind !== 'internal_note').map((m) => [m.seq, m.body]),
    'widget == stored history',
  );
  assert.deepEqual(log.errors, []);
});
