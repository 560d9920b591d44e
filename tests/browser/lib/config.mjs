// Where the tests find the server binary, the widget build, Chromium and
// the artifacts directory. `cargo xtask test-browser` sets every variable;
// the defaults let `npm test` in this directory work after
// `cargo build -p neurochat-server && cargo xtask web`.

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..', '..', '..');
const targetDir = process.env.CARGO_TARGET_DIR
  ? path.resolve(root, process.env.CARGO_TARGET_DIR)
  : path.join(root, 'target');

export const config = {
  root,
  serverBin: process.env.NC_BROWSER_SERVER_BIN || path.join(targetDir, 'debug', 'neurochat-server'),
  webDir: process.env.NC_BROWSER_WEB_DIR || path.join(targetDir, 'web', 'widget'),
  chromium: process.env.NC_BROWSER_CHROMIUM || '/usr/bin/chromium',
  artifacts: process.env.NC_BROWSER_ARTIFACTS || path.join(targetDir, 'browser-artifacts'),
};

fs.mkdirSync(config.artifacts, { recursive: true });
