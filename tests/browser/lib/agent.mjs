// The support side of the browser tests: REST calls as the admin, an agent
// account, and the agent's WebSocket client speaking protocol v1 (frames as
// in protocol/src/v1/frames.rs: JSON with a `type` tag, `req` numbers
// answered by exactly one `ack` or `error`).

import crypto from 'node:crypto';
import WebSocket from 'ws';

import { ADMIN_EMAIL, ADMIN_PASSWORD, HMAC_SECRET } from './server.mjs';

/** A REST call; throws with the problem body on a non-2xx answer. */
export async function api(server, method, route, { token, body } = {}) {
  const headers = { accept: 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${server.url}${route}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = null;
  }
  if (!res.ok) {
    const err = new Error(`${method} ${route} → ${res.status}: ${text.slice(0, 300)}`);
    err.status = res.status;
    err.problem = json;
    throw err;
  }
  return json;
}

/** Logs in; returns `{ token, user }`. */
export async function login(server, email, password) {
  const r = await api(server, 'POST', '/api/v1/auth/login', { body: { email, password } });
  return { token: r.tokens.access_token, user: r.user };
}

export async function loginAdmin(server) {
  return login(server, ADMIN_EMAIL, ADMIN_PASSWORD);
}

/**
 * Registers `email` as a customer and makes it an agent (the admin's
 * `PUT /users/{id}/role`); returns its login.
 */
export async function createAgent(server, { email = 'agent@shop.test', name = 'Ada Agent', password = 'agent-password-1' } = {}) {
  const admin = await loginAdmin(server);
  const reg = await api(server, 'POST', '/api/v1/auth/register', {
    body: { email, password, display_name: name },
  });
  await api(server, 'PUT', `/api/v1/users/${reg.user.id}/role`, {
    token: admin.token,
    body: { role: 'agent' },
  });
  // The role applies to the next request: log in again for a staff token.
  const agent = await login(server, email, password);
  if (agent.user.role !== 'agent') throw new Error(`expected an agent, got role ${agent.user.role}`);
  return { ...agent, password, admin };
}

/** Lowercase hex HMAC-SHA256 of core's `identity_message` (core/src/service/identity.rs). */
export function signIdentity({ userId, email, name }, secret = HMAC_SECRET) {
  const message = `neurochat-identity-v1\n${userId}\n${email ?? ''}\n${name ?? ''}`;
  return crypto.createHmac('sha256', secret).update(message, 'utf8').digest('hex');
}

/**
 * A ticket opened by a host-verified customer through REST, as the widget
 * of another visit would have: a visitor session with the HMAC identity,
 * then `POST /api/v1/tickets`.
 */
export async function openTicketAs(server, identity, { subject, body }) {
  const session = await api(server, 'POST', '/api/v1/widget/sessions', {
    body: {
      identity: {
        method: 'hmac',
        user_id: identity.userId,
        email: identity.email,
        name: identity.name,
        signature: signIdentity(identity),
      },
    },
  });
  const ticket = await api(server, 'POST', '/api/v1/tickets', {
    token: session.visitor_token,
    body: { subject, body, client_msg_id: `rest-${crypto.randomUUID()}` },
  });
  return { ticket, user: session.user, visitorToken: session.visitor_token };
}

/** Every stored message of a ticket (staff view), in `seq` order. */
export async function ticketMessages(server, token, ticketId) {
  const all = [];
  let after = 0;
  for (let i = 0; i < 50; i++) {
    const page = await api(server, 'GET', `/api/v1/tickets/${ticketId}/messages?after_seq=${after}&limit=200`, { token });
    all.push(...page.items);
    if (page.items.length < 200) break;
    after = page.items[page.items.length - 1].seq;
  }
  return all;
}

/** The agent's WebSocket connection. */
export class AgentSocket {
  constructor(server, token) {
    this.server = server;
    this.token = token;
    this.frames = [];
    this.waiters = [];
    this.nextReq = 1;
    this.pending = new Map();
    this.closed = null;
  }

  /** Opens `/ws`, sends `auth`, waits for `hello`. */
  async connect() {
    const ws = new WebSocket(this.server.wsUrl);
    this.ws = ws;
    ws.on('message', (data) => this.onFrame(JSON.parse(String(data))));
    ws.on('close', (code, reason) => {
      this.closed = { code, reason: String(reason) };
      for (const [, p] of this.pending) p.reject(new Error(`socket closed (${code}) before the reply`));
      this.pending.clear();
    });
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    ws.on('error', () => {});
    ws.send(JSON.stringify({ type: 'auth', token: this.token }));
    this.hello = await this.waitFor((f) => f.type === 'hello', { label: 'hello' });
    return this;
  }

  onFrame(frame) {
    frame.receivedAt = Date.now();
    if (frame.type === 'ack' || (frame.type === 'error' && frame.req !== undefined && frame.req !== null)) {
      const p = this.pending.get(frame.req);
      if (p) {
        this.pending.delete(frame.req);
        if (frame.type === 'ack') p.resolve(frame);
        else {
          const e = new Error(`${p.what} → ${frame.error.code}: ${frame.error.message}`);
          e.code = frame.error.code;
          p.reject(e);
        }
      }
    }
    this.frames.push(frame);
    for (const w of [...this.waiters]) {
      if (w.pred(frame)) {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        clearTimeout(w.timer);
        w.resolve(frame);
      }
    }
  }

  /** Sends a frame that takes a `req`; resolves with its `ack`. */
  request(frame) {
    const req = this.nextReq++;
    const what = `${frame.type} (req ${req})`;
    return new Promise((resolve, reject) => {
      this.pending.set(req, { resolve, reject, what });
      this.ws.send(JSON.stringify({ ...frame, req }));
    });
  }

  /** Sends a frame without `req` (typing, receipts). */
  notify(frame) {
    this.ws.send(JSON.stringify(frame));
  }

  /**
   * The first frame matching `pred`, among those received already (from
   * index `since`) or arriving within `timeout` ms.
   */
  waitFor(pred, { since = 0, timeout = 15_000, label = 'frame' } = {}) {
    const found = this.frames.slice(since).find(pred);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const w = {
        pred,
        resolve,
        timer: setTimeout(() => {
          this.waiters.splice(this.waiters.indexOf(w), 1);
          const types = this.frames.map((f) => f.type).join(', ');
          reject(new Error(`agent: no ${label} within ${timeout} ms (frames so far: ${types})`));
        }, timeout),
      };
      this.waiters.push(w);
    });
  }

  subscribeInbox() {
    return this.request({ type: 'subscribe_inbox' });
  }

  /**
   * Waits for the inbox's `created` event of a ticket this method has not
   * returned before; returns the ticket.
   */
  async waitForNewTicket(opts = {}) {
    this.returnedTickets ??= new Set();
    const f = await this.waitFor(
      (x) => x.type === 'ticket_event' && x.change === 'created' && !this.returnedTickets.has(x.ticket.id),
      { label: 'ticket_event created', ...opts },
    );
    this.returnedTickets.add(f.ticket.id);
    return f.ticket;
  }

  claim(ticketId) {
    return this.request({ type: 'claim', ticket_id: ticketId });
  }

  subscribe(ticketId, lastSeq = 0) {
    return this.request({ type: 'subscribe', ticket_id: ticketId, last_seq: lastSeq });
  }

  send(ticketId, body, clientMsgId = `agent-${crypto.randomUUID()}`) {
    return this.request({ type: 'send', ticket_id: ticketId, client_msg_id: clientMsgId, body, internal: false });
  }

  typing(ticketId, active = true) {
    this.notify({ type: active ? 'typing_start' : 'typing_stop', ticket_id: ticketId });
  }

  markRead(ticketId, seq) {
    this.notify({ type: 'mark_read', ticket_id: ticketId, seq });
  }

  markDelivered(ticketId, seq) {
    this.notify({ type: 'mark_delivered', ticket_id: ticketId, seq });
  }

  /** `message` frames of a ticket received on this connection. */
  messages(ticketId) {
    return this.frames.filter((f) => f.type === 'message' && f.message.ticket_id === ticketId).map((f) => f.message);
  }

  /** Waits for a message of `ticketId` whose body is `body`. */
  waitForMessage(ticketId, body, opts = {}) {
    return this.waitFor((f) => f.type === 'message' && f.message.ticket_id === ticketId && f.message.body === body, {
      label: `message ${body.length > 80 ? `${JSON.stringify(body.slice(0, 60))}… (${body.length} chars)` : JSON.stringify(body)}`,
      ...opts,
    }).then((f) => f.message);
  }

  close() {
    try {
      this.ws?.close();
    } catch {
      // already closed
    }
  }
}

/** Logs the agent in over REST and opens its socket (inbox subscribed). */
export async function connectAgent(server, agent) {
  const sock = new AgentSocket(server, agent.token);
  await sock.connect();
  await sock.subscribeInbox();
  return sock;
}
