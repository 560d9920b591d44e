// The example server (`neurochat-server`) as the browser tests use it: a
// fresh data directory per server, a fixed admin, an identity HMAC secret,
// the host page's origin allowed, started on a free port and probed through
// /readyz. `kill9()` + `restart()` keep the port and the database (the
// outage test). Every server is killed when the test process exits.

import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import { config } from './config.mjs';

/** Admin created on the first start of every test server. */
export const ADMIN_EMAIL = 'admin@shop.test';
export const ADMIN_PASSWORD = 'browser-tests-admin-pw';
/** The identity HMAC secret host pages sign with (at least 32 bytes). */
export const HMAC_SECRET = 'browser-tests-identity-secret-0123456789abcdef';

const live = new Set();
process.on('exit', () => {
  for (const child of live) {
    try {
      child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
});

// Ctrl-C, or `cargo xtask test-browser` stopping a hung file: exit through
// the 'exit' hook above, so no server outlives the tests. (Playwright
// closes its Chromium on these signals by itself.)
for (const [signal, code] of [
  ['SIGINT', 130],
  ['SIGTERM', 143],
]) {
  process.once(signal, () => process.exit(code));
}

let helpText;
/** The server's `--help`, read once, to find the web directory's flag. */
function serverHelp() {
  if (helpText === undefined) {
    try {
      helpText = execFileSync(config.serverBin, ['--help'], { encoding: 'utf8' });
    } catch (e) {
      throw new Error(`cannot run ${config.serverBin} --help: ${e.message}`);
    }
  }
  return helpText;
}

/**
 * Arguments that make the server serve the widget build under /widget/.
 * The flag is the server's own (`--web-dir`, per its `--help`); a server
 * without one cannot serve the widget, which the tests then show plainly.
 */
function webDirArgs(webDir) {
  const help = serverHelp();
  const m = help.match(/--(web-dir|widget-dir|assets-dir|static-dir)\b/);
  if (!m) {
    return { args: [], note: 'the server has no --web-dir flag (its --help names none)' };
  }
  return { args: [`--${m[1]}`, webDir], note: null };
}

export class TestServer {
  constructor({ allowedOrigins = [], extraArgs = [] } = {}) {
    this.dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'nc-browser-server-'));
    this.dbPath = path.join(this.dataDir, 'neurochat.db');
    this.keyFile = path.join(this.dataDir, 'neurochat.db.key');
    this.logPath = path.join(this.dataDir, 'server.log');
    this.allowedOrigins = allowedOrigins;
    this.extraArgs = extraArgs;
    this.port = 0;
    this.child = null;
    this.starts = 0;
    this.webNote = null;
  }

  /** `http://127.0.0.1:PORT` (after the first start). */
  get url() {
    return `http://127.0.0.1:${this.port}`;
  }

  get wsUrl() {
    return `ws://127.0.0.1:${this.port}/ws`;
  }

  args() {
    const web = webDirArgs(config.webDir);
    this.webNote = web.note;
    const args = [
      '--listen',
      `127.0.0.1:${this.port}`,
      '--database',
      `sqlite://${this.dbPath}`,
      '--key-file',
      this.keyFile,
      '--admin-email',
      ADMIN_EMAIL,
      '--admin-password',
      ADMIN_PASSWORD,
      '--identity-hmac-secret',
      HMAC_SECRET,
      '--shutdown-timeout',
      '2',
      ...web.args,
      ...this.extraArgs,
    ];
    for (const o of this.allowedOrigins) args.push('--allowed-origin', o);
    return args;
  }

  /** Starts the process and waits until /readyz answers 200. */
  async start() {
    if (this.child) throw new Error('server already running');
    const env = {};
    // The tests' own environment must not configure the server.
    for (const [k, v] of Object.entries(process.env)) {
      if (!k.startsWith('NEUROCHAT_')) env[k] = v;
    }
    env.RUST_LOG = process.env.NC_BROWSER_SERVER_LOG || 'info';
    env.NO_COLOR = '1';
    const log = fs.openSync(this.logPath, 'a');
    fs.writeSync(log, `\n==== start #${this.starts + 1} (port ${this.port || 'any'}) ${new Date().toISOString()}\n`);
    const child = spawn(config.serverBin, this.args(), {
      cwd: this.dataDir,
      env,
      stdio: ['ignore', 'pipe', log],
    });
    fs.closeSync(log);
    this.child = child;
    this.starts += 1;
    live.add(child);
    child.on('exit', () => live.delete(child));

    // The banner (stdout) names the bound address; with --listen :0 that is
    // how the first start learns its port. Later starts reuse it.
    const bound = await new Promise((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(`no banner within 20 s\n${this.logTail()}`)), 20_000);
      child.stdout.setEncoding('utf8');
      child.stdout.on('data', (chunk) => {
        out += chunk;
        fs.appendFileSync(this.logPath, chunk);
        const m = out.match(/NeuroChat listening on https?:\/\/([\d.]+):(\d+)/);
        if (m) {
          clearTimeout(timer);
          resolve(Number(m[2]));
        }
      });
      child.on('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`server exited during start (${code ?? signal})\n${this.logTail()}`));
      });
    });
    this.port = bound;
    await this.waitReady();
    return this;
  }

  async waitReady(timeoutMs = 20_000) {
    const deadline = Date.now() + timeoutMs;
    let last = '';
    while (Date.now() < deadline) {
      try {
        const res = await fetch(`${this.url}/readyz`);
        if (res.status === 200) return;
        last = `status ${res.status}`;
      } catch (e) {
        last = String(e.cause?.code ?? e.message);
      }
      await sleep(50);
    }
    throw new Error(`/readyz not ready within ${timeoutMs} ms (${last})\n${this.logTail()}`);
  }

  /** SIGKILL: no graceful shutdown, no 1001 close frames. */
  async kill9() {
    const child = this.child;
    if (!child) return;
    this.child = null;
    if (child.exitCode === null && child.signalCode === null) {
      const gone = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await gone;
    }
  }

  /** Starts again on the same port over the same database and key file. */
  async restart() {
    await this.kill9();
    return this.start();
  }

  /** SIGTERM (graceful), SIGKILL after 5 s; removes the data directory. */
  async stop({ keep = false } = {}) {
    const child = this.child;
    this.child = null;
    if (child && child.exitCode === null && child.signalCode === null) {
      const gone = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await gone;
      clearTimeout(t);
    }
    if (!keep && !process.env.NC_BROWSER_KEEP) {
      fs.rmSync(this.dataDir, { recursive: true, force: true });
    }
  }

  /** The last lines of the server's log, for failure messages. */
  logTail(lines = 40) {
    try {
      const text = fs.readFileSync(this.logPath, 'utf8').trimEnd().split('\n');
      return `--- server log (${this.logPath}), last ${lines} lines ---\n${text.slice(-lines).join('\n')}`;
    } catch {
      return '(no server log)';
    }
  }
}

/** Starts a server; see {@link TestServer}. */
export async function startServer(opts) {
  const s = new TestServer(opts);
  try {
    await s.start();
  } catch (e) {
    await s.stop({ keep: true });
    throw e;
  }
  return s;
}
