// The widget as a visitor sees it, through the DOM contract of
// docs/WIDGET.md: host `#neurochat-root` with an open shadow root, classes
// `nc-*` as the stable hooks. Playwright's CSS locators pierce open shadow
// roots; `state()` reads the shadow DOM directly for exact comparisons.

import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';

/** Polls `fn` until it returns a truthy value; fails with the last value seen. */
export async function until(fn, { timeout = 15_000, interval = 50, label = 'condition' } = {}) {
  const deadline = Date.now() + timeout;
  let last;
  let lastErr;
  while (Date.now() < deadline) {
    try {
      last = await fn();
      lastErr = undefined;
      if (last) return last;
    } catch (e) {
      lastErr = e;
    }
    await sleep(interval);
  }
  const seen = lastErr ? `error: ${lastErr.message}` : `last value: ${JSON.stringify(last)}`;
  throw new Error(`timed out after ${timeout} ms waiting for ${label} (${seen})`);
}

/** A long text cut for messages: its start, its length. */
export function short(text) {
  const t = String(text);
  return t.length > 80 ? `${JSON.stringify(t.slice(0, 60))}… (${[...t].length} chars)` : JSON.stringify(t);
}

export class Widget {
  constructor(page) {
    this.page = page;
    this.host = page.locator('#neurochat-root');
    this.launcher = this.host.locator('button.nc-launcher');
    this.panel = this.host.locator('section.nc-panel');
    this.input = this.host.locator('form.nc-composer textarea.nc-input');
    this.sendButton = this.host.locator('form.nc-composer button.nc-send');
    this.typing = this.host.locator('.nc-typing');
    this.connection = this.host.locator('.nc-connection');
    this.messages = this.host.locator('ol.nc-messages li.nc-msg');
  }

  /** Waits for the loader to put the launcher on the page. */
  async ready() {
    try {
      await this.launcher.waitFor({ state: 'visible', timeout: 20_000 });
    } catch (e) {
      throw new Error(`${e.message.split('\n')[0]}\n${await this.diagnose()}`);
    }
    const open = await this.page.evaluate(() => {
      const host = document.getElementById('neurochat-root');
      return { hasShadow: !!host?.shadowRoot, mode: host?.shadowRoot?.mode };
    });
    assert.equal(open.hasShadow, true, '#neurochat-root has an open shadow root');
  }

  /** Why the widget may not have appeared: the loader's status, the DOM. */
  async diagnose() {
    const info = await this.page.evaluate(() => ({
      loader: document.querySelector('script[src*="/widget/neurochat.js"]')?.src ?? null,
      host: !!document.getElementById('neurochat-root'),
      shadow: !!document.getElementById('neurochat-root')?.shadowRoot,
      api: typeof window.NeuroChat,
      hostDisplay: (() => {
        const h = document.getElementById('neurochat-root');
        return h ? getComputedStyle(h).display : null;
      })(),
      launcher: (() => {
        const l = document.getElementById('neurochat-root')?.shadowRoot?.querySelector('.nc-launcher');
        if (!l) return 'absent';
        const r = l.getBoundingClientRect();
        return `${getComputedStyle(l).display} ${r.width}x${r.height}`;
      })(),
    }));
    let status = 'not fetched';
    if (info.loader) {
      try {
        const r = await fetch(info.loader);
        status = `${r.status} ${r.headers.get('content-type') ?? ''}`;
      } catch (e) {
        status = `fetch failed: ${e.message}`;
      }
    }
    return `widget diagnosis: GET ${info.loader} → ${status}; #neurochat-root ${info.host ? 'present' : 'absent'}; shadow root ${info.shadow ? 'open' : 'absent'}; host display: ${info.hostDisplay}; launcher: ${info.launcher}; window.NeuroChat: ${info.api}`;
  }

  /** Clicks the launcher and waits for the composer. */
  async open() {
    await this.launcher.click();
    await this.input.waitFor({ state: 'visible', timeout: 20_000 });
  }

  /** Types `text` into the composer and presses Enter. */
  async send(text) {
    await this.input.fill(text);
    await this.input.press('Enter');
  }

  /**
   * The conversation as rendered: one entry per `li.nc-msg`, in DOM order,
   * with its author class, `data-seq` (null while pending), body text,
   * ticks and client message id.
   */
  state() {
    return this.page.evaluate(() => {
      const root = document.getElementById('neurochat-root')?.shadowRoot;
      if (!root) return null;
      const msgs = [...root.querySelectorAll('ol.nc-messages li.nc-msg')].map((li) => ({
        who: li.classList.contains('nc-own')
          ? 'own'
          : li.classList.contains('nc-agent')
            ? 'agent'
            : li.classList.contains('nc-system')
              ? 'system'
              : 'unknown',
        seq: li.hasAttribute('data-seq') ? Number(li.getAttribute('data-seq')) : null,
        clientMsgId: li.getAttribute('data-client-msg-id'),
        body: li.querySelector('.nc-body')?.textContent ?? null,
        ticks: li.querySelector('.nc-ticks')?.getAttribute('data-state') ?? null,
      }));
      const conn = root.querySelector('.nc-connection');
      const typing = root.querySelector('.nc-typing');
      const panel = root.querySelector('section.nc-panel');
      return {
        msgs,
        connection: conn?.getAttribute('data-state') ?? null,
        typingShown: !!typing && !typing.hidden && typing.getClientRects().length > 0,
        panelOpen: !!panel && !panel.hidden && panel.getClientRects().length > 0,
      };
    });
  }

  /** Waits until a message with exactly `body` is shown; returns its entry. */
  async waitForMessage(body, { who, withSeq = false, timeout = 15_000 } = {}) {
    let found;
    await until(
      async () => {
        const s = await this.state();
        found = s?.msgs.find((m) => m.body === body && (!who || m.who === who) && (!withSeq || m.seq !== null));
        return found;
      },
      { timeout, label: `message ${short(body)}${who ? ` (${who})` : ''}${withSeq ? ' with a seq' : ''}` },
    );
    return found;
  }

  /** `shadowRoot.activeElement` matches `selector`. */
  focusIs(selector) {
    return this.page.evaluate((sel) => {
      const host = document.getElementById('neurochat-root');
      if (document.activeElement !== host) return false;
      const el = host.shadowRoot.activeElement;
      return !!el && el.matches(sel);
    }, selector);
  }

  /** What has focus, for failure messages. */
  describeFocus() {
    return this.page.evaluate(() => {
      const d = (el) => (el ? `${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''}${el.className ? '.' + String(el.className).split(' ').join('.') : ''}` : 'none');
      const a = document.activeElement;
      return a?.shadowRoot ? `${d(a)} > ${d(a.shadowRoot.activeElement)}` : d(a);
    });
  }
}
