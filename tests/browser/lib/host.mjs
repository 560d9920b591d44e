// Host pages: the shop sites that embed the widget, served from a
// different origin than the NeuroChat server.
//
// They are served by a small HTTP server on 127.0.0.1 that Chromium reaches
// as `http://shop.test:PORT` (`--host-resolver-rules` maps the name). A real
// server rather than `page.route` on purpose: Chromium's Local Network
// Access checks block a page whose address it does not know (a fulfilled
// route counts as public) from calling a loopback server, so a routed page
// could not reach 127.0.0.1 at all. Here page and server are both on
// loopback, as a shop and its support server are both public in production.
// Chromium treats the shop's origin as secure (see `launchBrowser`), as it
// would an https shop.

import http from 'node:http';

/** The host name of the shop's pages (mapped to 127.0.0.1 in Chromium). */
export const SHOP_HOST = 'shop.test';

/**
 * CSS of a site that tramples on everything: the widget must still show,
 * sized sanely, from its shadow root.
 */
export const HOSTILE_CSS = `
* { all: unset !important; font-size: 40px !important; color: red !important }
div, button, section { display: none !important }
textarea, input, form, ol, li, span { display: none !important; visibility: hidden !important }
:root, body { line-height: 5 !important; letter-spacing: 10px !important }
`;

const escapeAttr = (s) =>
  String(s).replaceAll('&', '&amp;').replaceAll('"', '&quot;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');

/**
 * A shop page embedding the widget with its one script tag.
 * `attrs` are extra `data-*` attributes (`{ 'data-open': 'true' }`).
 */
export function shopPage(server, { hostile = false, attrs = {}, head = '', body = '', embed = true } = {}) {
  const extra = Object.entries(attrs)
    .map(([k, v]) => ` ${k}="${escapeAttr(v)}"`)
    .join('');
  const tag = embed
    ? `<script src="${server.url}/widget/neurochat.js" data-server="${server.url}"${extra} async></script>`
    : '';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Shop</title>
${hostile ? `<style>${HOSTILE_CSS}</style>` : '<style>body{font-family:sans-serif;margin:2rem}</style>'}
${head}
</head>
<body>
<h1>The Shop</h1>
<p>Fine things, shipped fast. <a href="#products" id="shop-link">Products</a></p>
<p><input id="shop-search" placeholder="Search the shop"></p>
${body}
${tag}
</body>
</html>
`;
}

/** The shop's HTTP server; `page(path, html)` publishes a page. */
export async function startHost() {
  const pages = new Map();
  const srv = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    if (url.pathname === '/favicon.ico') {
      res.writeHead(204);
      res.end();
      return;
    }
    const entry = pages.get(url.pathname);
    if (entry === undefined) {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not found');
      return;
    }
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', ...entry.headers });
    res.end(entry.html);
  });
  await new Promise((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const port = srv.address().port;
  const origin = `http://${SHOP_HOST}:${port}`;
  return {
    port,
    origin,
    /** Publishes `html` at `path` (with extra response `headers`); returns its URL. */
    page(path, html, headers = {}) {
      pages.set(path, { html, headers });
      return `${origin}${path}`;
    },
    close: () =>
      new Promise((resolve) => {
        srv.closeAllConnections?.();
        srv.close(() => resolve());
      }),
  };
}
