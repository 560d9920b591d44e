// The harness itself, without the widget: the server starts, dies with
// SIGKILL and comes back on the same port and database; the agent's REST
// and WebSocket helpers work; and a shop page on another origin may call
// the server (CORS for `--allowed-origin`, and the WebSocket).

import assert from 'node:assert/strict';

import { api, AgentSocket, connectAgent, createAgent, openTicketAs } from './lib/agent.mjs';
import { scenario } from './lib/browser.mjs';
import { shopPage } from './lib/host.mjs';

scenario('harness: restart keeps port and data; agent socket; inbox event; claim; send', async (fx) => {
  const { server } = fx;
  const agent = await createAgent(server);
  const sock = fx.track(await connectAgent(server, agent));
  assert.equal(sock.hello.protocol, 1);

  const customer = { userId: 'harness-1', email: 'h@example.com', name: 'Harness' };
  const opened = await openTicketAs(server, customer, { subject: 'Harness', body: 'first words' });
  const ticket = await sock.waitForNewTicket();
  assert.equal(ticket.id, opened.ticket.id);
  await sock.claim(ticket.id);
  await sock.subscribe(ticket.id, 0);
  const first = await sock.waitForMessage(ticket.id, 'first words');
  assert.equal(first.seq, 1);
  const ack = await sock.send(ticket.id, 'agent words');
  assert.ok(ack.seq > first.seq);

  const port = server.port;
  await server.kill9();
  await assert.rejects(fetch(`${server.url}/readyz`), 'nothing listens after kill -9');
  await server.restart();
  assert.equal(server.port, port, 'same port after the restart');
  // The JWT key file survived: the agent's token is still good.
  const again = fx.track(new AgentSocket(server, agent.token));
  await again.connect();
  await again.subscribe(ticket.id, 0);
  await again.waitForMessage(ticket.id, 'agent words');
  const seqs = again.messages(ticket.id).map((m) => m.seq);
  assert.deepEqual(seqs, [...new Set(seqs)].sort((a, b) => a - b), 'replay after restart: each seq once, in order');
  const visitor = await api(server, 'GET', `/api/v1/tickets/${ticket.id}`, { token: opened.visitorToken });
  assert.equal(visitor.id, ticket.id, 'the data survived the restart');
});

scenario('harness: the shop origin may call the REST API and open the WebSocket', async (fx) => {
  const { server, host } = fx;
  const { page, log } = await fx.newVisitor();
  await page.goto(host.page('/plain', shopPage(server, { embed: false })));
  const origin = await page.evaluate(() => location.origin);
  assert.equal(origin, host.origin);
  const r = await page.evaluate(async (base) => {
    const out = {};
    const res = await fetch(`${base}/api/v1/widget/sessions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    out.status = res.status;
    const body = await res.json();
    out.hasToken = typeof body.visitor_token === 'string';
    out.ws = await new Promise((resolve) => {
      const ws = new WebSocket(base.replace('http', 'ws') + '/ws');
      ws.onopen = () => ws.send(JSON.stringify({ type: 'auth', token: body.visitor_token }));
      ws.onmessage = (e) => {
        resolve(JSON.parse(e.data).type);
        ws.close();
      };
      ws.onerror = () => resolve('error');
    });
    return out;
  }, server.url);
  assert.deepEqual(r, { status: 201, hasToken: true, ws: 'hello' }, `from ${origin}: ${log.console.join(' | ')}`);

  // And an origin that is not allowed gets no CORS grant.
  const other = await fetch(`${server.url}/api/v1/widget/sessions`, {
    method: 'OPTIONS',
    headers: {
      origin: 'http://evil.test',
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'content-type',
    },
  });
  assert.equal(other.headers.get('access-control-allow-origin'), null, 'no CORS grant for other origins');
});
