// (d) Markup and `javascript:` URLs in names, settings and message bodies,
// from the visitor and from the agent, render as inert text; only http(s)
// URLs become links, opened with `rel="noopener noreferrer"`.

import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';

import { api, connectAgent, createAgent } from './lib/agent.mjs';
import { scenario } from './lib/browser.mjs';
import { shopPage } from './lib/host.mjs';
import { Widget } from './lib/widget.mjs';

const IMG = '<img src=x onerror=window.__xss=1>';
const SCRIPT = '<script>window.__xss=1</script>';
const JS_URL = 'javascript:window.__xss=1';
const ANCHOR = '<a href="javascript:window.__xss=1">click me</a>';
const SVG = '<svg onload=window.__xss=1>';
const LINK_URL = 'http://example.com/help?q=1';
const LINKS = `docs: ${LINK_URL} and ${JS_URL} (only the first is a link)`;

scenario('XSS: markup and javascript: URLs from visitor and agent render as inert text', async (fx) => {
  const { server, host } = fx;
  // The agent's own name is a payload too.
  const agent = await createAgent(server, { name: IMG });
  const inbox = fx.track(await connectAgent(server, agent));

  const { page, log } = await fx.newVisitor();
  const url = host.page(
    '/',
    shopPage(server, {
      attrs: { 'data-prechat': 'name,email', 'data-team-name': IMG, 'data-greeting': SCRIPT },
    }),
  );
  await page.goto(url);
  const w = new Widget(page);
  await w.ready();
  await w.launcher.click();

  // The pre-chat form, with a name that is markup.
  const prechat = w.host.locator('form.nc-prechat');
  await prechat.waitFor({ state: 'visible' });
  await prechat.locator('input[name=name]').fill(SVG);
  await prechat.locator('input[name=email]').fill('visitor@example.com');
  await prechat.locator('button[type=submit]').click();
  await w.input.waitFor({ state: 'visible' });

  const team = await w.host.locator('.nc-team').textContent();
  assert.equal(team, IMG, 'the team name is shown as text');

  const fromVisitor = [IMG, SCRIPT, JS_URL, ANCHOR, LINKS];
  for (const body of fromVisitor) {
    await w.send(body);
    await w.waitForMessage(body, { who: 'own', withSeq: true });
  }
  const ticket = await inbox.waitForNewTicket();
  await inbox.claim(ticket.id);
  await inbox.subscribe(ticket.id, 0);
  for (const body of fromVisitor) {
    const m = await inbox.waitForMessage(ticket.id, body);
    assert.equal(m.body, body, 'the server got the visitor’s text unchanged');
  }
  // The pre-chat answers reached the server as they were typed.
  const customer = await api(server, 'GET', `/api/v1/users/${ticket.customer_id}`, { token: agent.admin.token });
  assert.equal(customer.display_name, SVG, 'the pre-chat name is the visitor’s display name');
  assert.equal(customer.email, 'visitor@example.com');

  const fromAgent = [SVG, IMG, SCRIPT, JS_URL, ANCHOR, LINKS];
  for (const body of fromAgent) await inbox.send(ticket.id, body);
  for (const body of fromAgent) await w.waitForMessage(body, { who: 'agent', withSeq: true });
  await sleep(1_000);

  const report = await page.evaluate((linkUrl) => {
    const root = document.getElementById('neurochat-root').shadowRoot;
    const all = [...root.querySelectorAll('*'), ...document.querySelectorAll('*')];
    const onAttrs = all.flatMap((el) =>
      [...el.attributes].filter((a) => a.name.startsWith('on')).map((a) => `${el.tagName}[${a.name}]`),
    );
    const bodies = [...root.querySelectorAll('li.nc-msg .nc-body')];
    const nonText = bodies.flatMap((b) =>
      [...b.childNodes]
        .filter((n) => !(n.nodeType === Node.TEXT_NODE || (n.nodeType === Node.ELEMENT_NODE && n.tagName === 'A')))
        .map((n) => n.nodeName),
    );
    const nested = bodies.flatMap((b) => [...b.querySelectorAll('a *')].map((n) => n.nodeName));
    const links = bodies.flatMap((b) =>
      [...b.querySelectorAll('a')].map((a) => ({
        href: a.getAttribute('href'),
        text: a.textContent,
        target: a.getAttribute('target'),
        rel: (a.getAttribute('rel') || '').split(/\s+/).sort().join(' '),
      })),
    );
    return {
      xss: window.__xss,
      onAttrs,
      dangerous: [...root.querySelectorAll('script, iframe, object, embed, img[src="x"], .nc-body img, .nc-body svg, .nc-team img, .nc-team svg')].map((e) => e.tagName),
      docImgs: document.querySelectorAll('img').length,
      nonText,
      nested,
      links,
      linkCount: links.filter((l) => l.href === linkUrl).length,
    };
  }, LINK_URL);

  assert.equal(report.xss, undefined, 'window.__xss stays undefined');
  assert.deepEqual(report.onAttrs, [], 'no element carries an on* handler attribute');
  assert.deepEqual(report.dangerous, [], 'no script/img/iframe/svg from the payloads');
  assert.equal(report.docImgs, 0, 'nothing leaked into the host page');
  assert.deepEqual(report.nonText, [], '.nc-body holds only text nodes and links');
  assert.deepEqual(report.nested, [], 'links hold only text');
  for (const l of report.links) {
    assert.match(l.href, /^https?:\/\//, `only http(s) URLs are links: ${l.href}`);
    assert.equal(l.target, '_blank');
    assert.ok(l.rel.split(' ').includes('noopener') && l.rel.split(' ').includes('noreferrer'), `rel="${l.rel}"`);
  }
  assert.equal(report.linkCount, 2, `${LINK_URL} linkified once in the visitor’s and once in the agent’s message`);
  assert.ok(report.links.every((l) => l.text === LINK_URL), 'the link text is the URL');

  // Every body reads exactly as sent.
  const s = await w.state();
  assert.deepEqual(
    s.msgs.filter((m) => m.who === 'own').map((m) => m.body),
    fromVisitor,
  );
  assert.deepEqual(
    s.msgs.filter((m) => m.who === 'agent').map((m) => m.body),
    fromAgent,
  );

  // Even a click on the text that looks like a javascript: link runs nothing.
  const jsMsg = w.host.locator('li.nc-msg.nc-agent .nc-body', { hasText: JS_URL }).first();
  await jsMsg.click();
  await sleep(300);
  assert.equal(await page.evaluate(() => window.__xss), undefined);
  assert.deepEqual(log.errors, [], 'no uncaught page errors');
  assert.deepEqual(log.dialogs, []);
});
