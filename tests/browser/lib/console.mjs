// The agent console (docs/CONSOLE.md) as the browser tests drive it: the
// page at `SERVER/console`, its stable `data-testid` hooks, and a customer
// on a raw protocol-v1 WebSocket (a widget visitor session, no browser).

import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';

import { AgentSocket, api, createAgent, signIdentity } from './agent.mjs';
import { until } from './widget.mjs';

export { until };

/** `[data-testid="…"]`. */
export const tid = (id) => `[data-testid="${id}"]`;

/**
 * One console tab. `sockets` records every WebSocket the page opened
 * (Playwright's view: url, closed or not), to assert that the console's
 * connection really ended.
 */
export class ConsolePage {
  constructor(fx, { context, page, log }) {
    this.fx = fx;
    this.server = fx.server;
    this.context = context;
    this.page = page;
    this.log = log;
    this.sockets = [];
    // The close codes the page's sockets saw (Playwright's own WebSocket
    // events carry none): a subclass records them in the page.
    this.initDone = page
      .addInitScript(() => {
        const Native = window.WebSocket;
        window.__ncWsCloses = [];
        window.__ncSockets = [];
        class Recorded extends Native {
          constructor(...args) {
            super(...args);
            window.__ncSockets.push(this);
            this.addEventListener('close', (e) =>
              window.__ncWsCloses.push({ url: this.url, code: e.code, reason: e.reason, at: Date.now() }),
            );
          }
        }
        window.WebSocket = Recorded;
        window.__ncCsp = [];
        document.addEventListener('securitypolicyviolation', (e) =>
          window.__ncCsp.push(`${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`),
        );
      })
      .catch(() => {});
    page.on('websocket', (ws) => {
      const entry = { url: ws.url(), closed: false, openedAt: Date.now(), closedAt: null, ws };
      this.sockets.push(entry);
      ws.on('close', () => {
        entry.closed = true;
        entry.closedAt = Date.now();
      });
    });
  }

  /** A locator of a test hook. */
  t(id) {
    return this.page.locator(tid(id));
  }

  /** Goes to `/console` (and `#hash`, e.g. `/inbox`). */
  async goto(hash = '') {
    await this.initDone;
    await this.page.goto(`${this.server.url}/console${hash ? `#${hash}` : ''}`);
  }

  /** Waits for the login form, fills it in, submits. */
  async submitLogin(email, password) {
    await this.t('login-form').waitFor({ state: 'visible', timeout: 20_000 });
    await this.t('login-email').fill(email);
    await this.t('login-password').fill(password);
    await this.t('login-submit').click();
  }

  /** Logs in and waits for the signed-in shell and an online connection. */
  async login(email, password, { online = true } = {}) {
    await this.submitLogin(email, password);
    await until(
      async () => {
        if (await this.t('current-user').isVisible()) return true;
        const err = this.page.locator(tid('login-error'));
        if ((await err.count()) && (await err.isVisible())) {
          const text = (await err.textContent())?.trim();
          if (text) throw new Error(`login refused: ${text}`);
        }
        return false;
      },
      { timeout: 20_000, label: `the console signed in as ${email} (current-user shown)` },
    ).catch(async (e) => {
      throw new Error(`${e.message}\n${await this.diagnose()}`);
    });
    if (online) await this.waitOnline();
  }

  async waitOnline(timeout = 20_000) {
    await until(async () => (await this.connectionState()) === 'online', {
      timeout,
      label: 'connection-state data-state=online',
    });
  }

  connectionState() {
    return this.page.evaluate(
      (sel) => document.querySelector(sel)?.getAttribute('data-state') ?? null,
      tid('connection-state'),
    );
  }

  /**
   * What the console shows, read in one go from the DOM: the inbox rows,
   * the open ticket, its messages (the body is the `<li>`'s own text
   * nodes: docs/CONSOLE.md names no hook for it), the typing indicator,
   * the claimed-by notice, the connection, the title.
   */
  state() {
    return this.page.evaluate(() => {
      const q = (id, root = document) => root.querySelector(`[data-testid="${id}"]`);
      const qa = (id, root = document) => [...root.querySelectorAll(`[data-testid="${id}"]`)];
      const visible = (el) => !!el && !el.hidden && el.getClientRects().length > 0;
      const ownText = (el) =>
        [...el.childNodes]
          .filter((n) => n.nodeType === Node.TEXT_NODE)
          .map((n) => n.textContent)
          .join('');
      const ticket = q('ticket');
      const typing = q('typing-indicator');
      const claimedBy = q('claimed-by');
      return {
        title: document.title,
        hash: location.hash,
        connection: q('connection-state')?.getAttribute('data-state') ?? null,
        loginForm: visible(q('login-form')),
        loginError: q('login-error')?.textContent?.trim() ?? null,
        currentUser: q('current-user')?.textContent?.trim() ?? null,
        rows: qa('inbox-row').map((li) => ({
          id: li.getAttribute('data-ticket-id'),
          status: li.getAttribute('data-status'),
          unread: Number(li.getAttribute('data-unread')),
          open: li.getAttribute('data-open') === 'true',
          isNew: !!q('new-badge', li),
          assignee: q('row-assignee', li)?.textContent?.trim() ?? null,
          text: li.textContent,
        })),
        ticketId: ticket?.getAttribute('data-ticket-id') ?? null,
        subject: q('ticket-subject')?.textContent?.trim() ?? null,
        assignee: q('ticket-assignee')?.textContent?.trim() ?? null,
        claimDisabled: q('claim') ? q('claim').disabled : null,
        claimedBy: claimedBy && visible(claimedBy) ? claimedBy.textContent.trim() : null,
        claimedByRole: claimedBy?.getAttribute('role') ?? null,
        msgs: qa('message').map((li) => ({
          seq: li.hasAttribute('data-seq') ? Number(li.getAttribute('data-seq')) : null,
          kind: li.getAttribute('data-kind'),
          pending: li.getAttribute('data-pending') === 'true',
          clientMsgId: li.getAttribute('data-client-msg-id'),
          body: ownText(li),
          who: li.querySelector('.who')?.textContent?.trim() ?? null,
          tick: q('tick', li)?.getAttribute('data-tick') ?? null,
        })),
        typing: typing
          ? { active: typing.getAttribute('data-active'), text: typing.textContent.trim(), visible: visible(typing) }
          : null,
      };
    });
  }

  /** Waits until a message with exactly `body` is shown (with a `seq` unless `pending`). */
  async waitForMessage(body, { pending = false, timeout = 15_000 } = {}) {
    return until(
      async () => {
        const s = await this.state();
        return s.msgs.find((m) => m.body === body && (pending || m.seq !== null));
      },
      { timeout, label: `console message ${JSON.stringify(body.slice(0, 80))}${pending ? '' : ' with data-seq'}` },
    );
  }

  /** Waits until the inbox lists `ticketId`; returns its row. */
  async waitForRow(ticketId, { timeout = 15_000, label } = {}) {
    return until(async () => (await this.state()).rows.find((r) => r.id === ticketId), {
      timeout,
      label: label ?? `inbox-row data-ticket-id=${ticketId}`,
    });
  }

  /** Opens a ticket by clicking its inbox row; waits for the ticket view. */
  async openTicket(ticketId) {
    await this.page.locator(`${tid('inbox-row')}[data-ticket-id="${ticketId}"]`).click();
    await this.page.locator(`${tid('ticket')}[data-ticket-id="${ticketId}"]`).waitFor({ state: 'visible' });
  }

  /** Types into the composer (fill) and sends with Enter. */
  async send(text, { internal = false } = {}) {
    const toggle = this.t('internal-toggle');
    if ((await toggle.isChecked()) !== internal) await toggle.setChecked(internal);
    await this.t('composer').fill(text);
    await this.t('composer').press('Enter');
  }

  /** Why the console may not be where a test expected, for failure messages. */
  async diagnose() {
    try {
      const s = await this.state();
      const res = await fetch(`${this.server.url}/console`).catch((e) => ({ status: `fetch failed: ${e.message}` }));
      return `console diagnosis: GET /console → ${res.status}; hash ${s.hash}; login form ${s.loginForm}; login-error ${JSON.stringify(s.loginError)}; current-user ${JSON.stringify(s.currentUser)}; connection ${s.connection}; page errors: ${JSON.stringify(this.log.errors.slice(-5))}`;
    } catch (e) {
      return `console diagnosis failed: ${e.message}`;
    }
  }

  /** Close events of the page's WebSockets since its last load: `[{ url, code, reason }]`. */
  wsCloses() {
    return this.page.evaluate(() => window.__ncWsCloses ?? null);
  }

  /** CSP violations the page reported since its last load (the console's own CSP, docs/CONSOLE.md). */
  cspViolations() {
    return this.page.evaluate(() => window.__ncCsp ?? null);
  }

  /** `sessionStorage['neurochat.console.session']` (null once signed out). */
  storedSession() {
    return this.page.evaluate(() => sessionStorage.getItem('neurochat.console.session'));
  }
}

/**
 * A new browser context (own storage) with the console open and, when
 * `email` is given, signed in. Viewport 1280×800 unless given; `init` is
 * an init script (see Playwright's `addInitScript`).
 */
export async function openConsole(fx, { email, password, viewport, online = true, hash = '', init } = {}) {
  const visitor = await fx.newVisitor(viewport ? { viewport } : {});
  // `init`: a function run in the page before its scripts on every load.
  if (init) await visitor.page.addInitScript(init);
  const c = new ConsolePage(fx, visitor);
  await c.goto(hash);
  if (email) await c.login(email, password, { online });
  return c;
}

let agentCounter = 0;
/** A fresh agent account (unique email); see `createAgent`. */
export async function newAgent(server, { name, email, password = 'agent-password-1' } = {}) {
  agentCounter += 1;
  const n = agentCounter;
  return createAgent(server, {
    email: email ?? `agent${n}-${crypto.randomUUID().slice(0, 8)}@shop.test`,
    name: name ?? `Agent ${n}`,
    password,
  });
}

/**
 * A customer on a raw WebSocket: a widget visitor session (anonymous with a
 * name and email, or an HMAC identity), authenticated with the visitor
 * token. Frames are asserted directly (`frames`, `waitFor`).
 */
export class CustomerSocket extends AgentSocket {
  /** Opens a ticket with its first message (`create_ticket`); subscribes to it. */
  async createTicket(subject, body) {
    const ack = await this.request({
      type: 'create_ticket',
      subject,
      body,
      client_msg_id: `cust-${crypto.randomUUID()}`,
    });
    const ticketId = ack.ticket_id;
    assert.ok(ticketId, `create_ticket ack names the ticket: ${JSON.stringify(ack)}`);
    await this.subscribe(ticketId, 0);
    return { ticketId, seq: ack.seq, ack };
  }
}

/** Starts a visitor session and connects its socket; returns the socket with `user`, `visitorToken`. */
export async function connectCustomer(server, { name = 'Carla Customer', email, identity } = {}) {
  const body = identity
    ? {
        identity: {
          method: 'hmac',
          user_id: identity.userId,
          email: identity.email,
          name: identity.name,
          signature: signIdentity(identity),
        },
      }
    : { display_name: name, email: email ?? `cust-${crypto.randomUUID().slice(0, 8)}@example.test` };
  const session = await api(server, 'POST', '/api/v1/widget/sessions', { body });
  const sock = new CustomerSocket(server, session.visitor_token);
  sock.user = session.user;
  sock.visitorToken = session.visitor_token;
  await sock.connect();
  return sock;
}

/**
 * Asserts that over `ms` no frame matching `bad` arrives on `sock`
 * (frames from index `since` on). Returns the frames seen meanwhile.
 */
export async function assertQuiet(sock, bad, { since = 0, ms = 3_000, label = 'unexpected frame' } = {}) {
  await sleep(ms);
  const seen = sock.frames.slice(since);
  const hit = seen.find(bad);
  assert.equal(hit, undefined, `${label}: ${JSON.stringify(hit)}`);
  return seen;
}
