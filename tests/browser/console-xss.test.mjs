// Text stays text in the console: markup in a customer's name, a ticket's
// subject and message bodies, an agent's name (and in the agent's own
// note) is shown
// literally. Checked on the DOM itself, not only by "no script ran": the
// console's CSP would stop an inline handler even if markup were parsed,
// so the test asserts that no element of the payloads exists, that the
// literal text is there, and that no CSP violation was reported.

import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';

import { connectAgent } from './lib/agent.mjs';
import { scenario } from './lib/browser.mjs';
import { connectCustomer, newAgent, openConsole, until } from './lib/console.mjs';

const NAME = `<img src=x onerror="window.__xss='name'">Mallory`;
const SUBJECT = `<script>window.__xss='subject'</script><b id="xss-b">Bold</b> order`;
const BODY = `<img id="xss-img" src=x onerror="window.__xss='body'"><a id="xss-a" href="javascript:window.__xss='link'">click</a> & "quotes" 'too' &amp;`;
const AGENT_NAME = `<b id="xss-agent" onclick="window.__xss='agent'">Evil</b> Agent`;
const NOTE = `<svg id="xss-svg" onload="window.__xss='note'"></svg><iframe id="xss-frame" src="javascript:alert(1)"></iframe>`;

scenario('xss: markup in a customer name, subject, messages and a note shows as inert text', async (fx) => {
  const { server } = fx;
  const agent = await newAgent(server, { name: 'Alice Agent' });
  const c = await openConsole(fx, { email: agent.user.email, password: agent.password });
  await c.page.evaluate(() => {
    window.__cspViolations = [];
    document.addEventListener('securitypolicyviolation', (e) =>
      window.__cspViolations.push(`${e.violatedDirective} ${e.blockedURI}`),
    );
  });

  const cust = fx.track(await connectCustomer(server, { name: NAME }));
  const { ticketId } = await cust.createTicket(SUBJECT, BODY);
  const row = await c.waitForRow(ticketId);
  assert.ok(row.text.includes(SUBJECT), `the inbox row shows the subject literally: ${JSON.stringify(row.text)}`);

  await c.openTicket(ticketId);
  await c.t('claim').click();
  const m = await c.waitForMessage(BODY);
  assert.equal(m.kind, 'customer');
  assert.ok(m.who?.includes(NAME), `the author name shown literally: ${JSON.stringify(m.who)}`);
  await until(async () => (await c.state()).subject?.includes(SUBJECT), { label: 'ticket-subject shows the subject literally' });
  await until(async () => (await c.t('customer-profile').textContent())?.includes(NAME), {
    label: 'customer-profile shows the name literally',
  });
  cust.typing(ticketId, true);
  await until(async () => (await c.state()).typing?.text === `${NAME} is typing…`, { label: 'typing indicator names the customer literally' });

  await c.send(NOTE, { internal: true });
  const n = await c.waitForMessage(NOTE);
  assert.equal(n.kind, 'internal_note');

  // An agent whose name is markup claims another ticket: the row, the
  // header and the assignee options show the name as text.
  const evil = await newAgent(server, { name: AGENT_NAME });
  const evilSock = fx.track(await connectAgent(server, evil));
  const cust2 = fx.track(await connectCustomer(server, { name: 'Plain Customer' }));
  const t2 = (await cust2.createTicket('Second', 'hi')).ticketId;
  await c.waitForRow(t2);
  await evilSock.claim(t2);
  await until(async () => (await c.state()).rows.find((r) => r.id === t2)?.assignee === AGENT_NAME, {
    label: 'row-assignee shows the agent name literally',
  });
  await c.openTicket(t2);
  await until(async () => (await c.state()).assignee === `Assigned to ${AGENT_NAME}`, { label: 'ticket-assignee shows the name literally' });
  const opts = await c.t('assign-select').locator('option').allTextContents();
  assert.ok(opts.some((o) => o.startsWith(AGENT_NAME)), `an assignee option starts with the literal name: ${JSON.stringify(opts)}`);
  await c.openTicket(ticketId);

  // The toast of the new ticket (if any is still up) is text too.
  await sleep(1_000);
  const dom = await c.page.evaluate(() => ({
    injected: ['#xss-b', '#xss-img', '#xss-a', '#xss-svg', '#xss-frame', '#xss-agent'].filter((s) => document.querySelector(s)),
    imgs: document.querySelectorAll('img').length,
    iframes: document.querySelectorAll('iframe').length,
    handlers: [...document.querySelectorAll('*')].filter((el) => [...el.attributes].some((a) => a.name.startsWith('on'))).length,
    jsLinks: [...document.querySelectorAll('a[href]')].filter((a) => a.getAttribute('href').trim().toLowerCase().startsWith('javascript:')).length,
    scripts: [...document.querySelectorAll('script')].map((s) => s.getAttribute('src')),
    xss: window.__xss ?? null,
    csp: window.__cspViolations,
    title: document.title,
  }));
  assert.deepEqual(dom.injected, [], 'no element of the payloads exists');
  assert.equal(dom.imgs, 0, 'no <img>');
  assert.equal(dom.iframes, 0, 'no <iframe>');
  assert.equal(dom.handlers, 0, 'no inline event handler attribute anywhere');
  assert.equal(dom.jsLinks, 0, 'no javascript: link');
  assert.ok(
    dom.scripts.every((s) => s && s.startsWith('/console/neurochat-console-boot-')),
    `only the boot module is a script: ${JSON.stringify(dom.scripts)}`,
  );
  assert.equal(dom.xss, null, 'no payload ran');
  assert.deepEqual(dom.csp, [], 'no CSP violation (nothing tried to run)');
  assert.deepEqual(c.log.dialogs, [], 'no dialog opened');
  assert.deepEqual(c.log.errors, [], 'no uncaught page errors');
});
