// Shared browser set-up for Lumen's end-to-end tests: Debian's headless Chromium driven by
// playwright-core (from the asset cache; never a downloaded browser).
//
//   const { withBrowser } = require('./browser.js');
//   await withBrowser(async (page) => { ... });
//
// Environment: LUMEN_PLAYWRIGHT (folder of the playwright-core package), LUMEN_CHROMIUM
// (default /usr/bin/chromium), LUMEN_ARTIFACTS (folder for screenshots).
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');

const playwright = require(process.env.LUMEN_PLAYWRIGHT);

// `userAgent` overrides Chromium's own, which says "HeadlessChrome" — a bot to Lumen's
// invalid-traffic filter, so tests of sponsored slots present themselves as a desktop browser.
async function withBrowser(fn, { width = 1280, height = 900, colorScheme = 'light',
                                 userAgent = undefined } = {}) {
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lumen-e2e-chromium-'));
  const context = await playwright.chromium.launchPersistentContext(userDataDir, {
    executablePath: process.env.LUMEN_CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
           '--disable-component-update', '--disable-sync', '--disable-quic'],
    viewport: { width, height },
    colorScheme,
    userAgent,
  });
  try {
    const page = context.pages()[0] || await context.newPage();
    page.setDefaultTimeout(15000);
    return await fn(page);
  } finally {
    await context.close();
    fs.rmSync(userDataDir, { recursive: true, force: true });
  }
}

function artifact(name) {
  const dir = process.env.LUMEN_ARTIFACTS || os.tmpdir();
  fs.mkdirSync(dir, { recursive: true });
  return path.join(dir, name);
}

function check(condition, message) {
  if (!condition) throw new Error('check failed: ' + message);
}

module.exports = { withBrowser, artifact, check };
