// The shop's strict Content-Security-Policy from docs/WIDGET.md ("Server
// side"): scripts only from the shop and the NeuroChat server plus
// 'wasm-unsafe-eval', connections only to the server, no inline styles or
// scripts at all. The widget must load, look right and chat without a
// single CSP violation.

import assert from 'node:assert/strict';

import { connectAgent, createAgent } from './lib/agent.mjs';
import { scenario } from './lib/browser.mjs';
import { shopPage } from './lib/host.mjs';
import { Widget } from './lib/widget.mjs';

scenario('strict CSP shop: the widget loads and chats without a CSP violation', async (fx) => {
  const { server, host } = fx;
  const agent = await createAgent(server);
  const inbox = fx.track(await connectAgent(server, agent));
  const ws = server.url.replace(/^http/, 'ws');
  const csp = [
    "default-src 'none'",
    `script-src 'self' ${server.url} 'wasm-unsafe-eval'`,
    `connect-src ${server.url} ${ws}`,
    "style-src 'self'",
    "img-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ');

  const { page, log } = await fx.newVisitor();
  // Record violations before any script of the page runs.
  await page.addInitScript(() => {
    window.__cspViolations = [];
    document.addEventListener('securitypolicyviolation', (e) =>
      window.__cspViolations.push(`${e.violatedDirective} ${e.blockedURI} ${e.sourceFile ?? ''}:${e.lineNumber ?? ''}`),
    );
  });
  // shopPage's own inline <style> is dropped: the page must not need it.
  const html = shopPage(server).replace(/<style>[\s\S]*?<\/style>/, '');
  await page.goto(host.page('/csp', html, { 'content-security-policy': csp }));
  const w = new Widget(page);
  await w.ready();
  await w.open();

  const styled = await page.evaluate(() => {
    const root = document.getElementById('neurochat-root').shadowRoot;
    const panel = root.querySelector('section.nc-panel');
    const cs = getComputedStyle(panel);
    return { position: getComputedStyle(root.querySelector('.nc-launcher')).position, panelBg: cs.backgroundColor, panelWidth: panel.getBoundingClientRect().width };
  });
  assert.notEqual(styled.panelBg, 'rgba(0, 0, 0, 0)', 'the panel is styled (its stylesheet applied)');
  assert.ok(styled.panelWidth >= 280 && styled.panelWidth <= 800, `panel width ${styled.panelWidth}`);

  await w.send('Hello from a strict CSP page');
  await w.waitForMessage('Hello from a strict CSP page', { who: 'own', withSeq: true });
  const ticket = await inbox.waitForNewTicket();
  await inbox.claim(ticket.id);
  await inbox.subscribe(ticket.id, 0);
  await inbox.send(ticket.id, 'Hello back: https://example.com/help');
  await w.waitForMessage('Hello back: https://example.com/help', { who: 'agent', withSeq: true });

  const violations = await page.evaluate(() => window.__cspViolations);
  assert.deepEqual(violations, [], 'no CSP violation');
  assert.deepEqual(log.errors, [], 'no uncaught page errors');
  assert.deepEqual(
    log.console.filter((l) => /Content Security Policy|Refused to/i.test(l)),
    [],
    'no CSP complaints on the console',
  );
});
