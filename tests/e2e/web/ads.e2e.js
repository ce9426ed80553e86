// Sponsored slots and the advertiser dashboard as people use them, in headless Chromium against
// a real `lumen serve`:
//   1. the search page's sponsored slot is billed only once it is scrolled into view (not when
//      served), and only once;
//   2. a follow-up question streams into the answer page (search.js over SSE), related
//      questions included;
//   3. an advertiser signs in to /ads/, sees numbers equal to `lumen ads report` (the ledger's),
//      opens the campaign's chart, and a POST without the CSRF token is refused with 403.
// Screenshots go to $LUMEN_ARTIFACTS.
// Usage: LUMEN_BIN=<lumen> LUMEN_DATA_DIR=<dir> node ads.e2e.js BASE_URL EMAIL PASSWORD CAMPAIGN_ID
'use strict';
const { execFileSync } = require('child_process');
const { withBrowser, artifact, check } = require('./browser.js');

const [base, email, password, campaignId] = process.argv.slice(2);

// `lumen ads report --csv` rows keyed by id: the ledger's numbers.
function ledgerReport(by) {
  const csv = execFileSync(process.env.LUMEN_BIN,
      ['ads', 'report', '--by', by, '--csv', '--data-dir', process.env.LUMEN_DATA_DIR],
      { encoding: 'utf8' });
  const lines = csv.trim().split(/\r?\n/);
  const header = lines[0].split(',');
  const rows = {};
  for (const line of lines.slice(1)) {
    const cells = line.split(',');  // fixture names have no commas
    const row = {};
    header.forEach((h, i) => { row[h] = cells[i]; });
    rows[row.id] = row;
  }
  return rows;
}

function billable() {
  const rows = ledgerReport('campaign');
  return rows[campaignId] ? Number(rows[campaignId].billable) : 0;
}

// Chromium's own user agent says HeadlessChrome, which the invalid-traffic filter treats as a bot.
const DESKTOP = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) ' +
                'Chrome/120.0 Safari/537.36';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function waitFor(fn, what, ms = 10000) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (fn()) return;
    await sleep(200);
  }
  throw new Error('timed out waiting for ' + what);
}

async function sponsoredSlotIsBilledOnlyWhenSeen() {
  const before = billable();
  await withBrowser(async (page) => {
    const beacons = [];
    page.on('request', (r) => { if (r.url().includes('/api/v1/impression')) beacons.push(r.url()); });
    await page.goto(base + 'search?q=' + encodeURIComponent('how do I read a csv file'));
    const slot = page.locator('aside.sponsored');
    check(await slot.count() === 1, 'one sponsored slot on the page');
    const label = await slot.locator('.sponsored-label').textContent();
    check(label.trim() === 'Sponsored', 'labelled Sponsored, got ' + label);
    const below = await slot.evaluate((el) => el.getBoundingClientRect().top > window.innerHeight);
    check(below, 'the slot starts below the fold in this short window');
    await sleep(1500);  // the page had time to send a beacon if it (wrongly) would
    check(beacons.length === 0, 'no beacon while the slot is out of view');
    check(billable() === before, 'nothing billed while out of view');
    await page.screenshot({ path: artifact('ads-slot-out-of-view.png') });

    await slot.scrollIntoViewIfNeeded();
    await waitFor(() => beacons.length === 1, 'the impression beacon');
    await waitFor(() => billable() === before + 1, 'one billable impression in the ledger');
    await page.screenshot({ path: artifact('ads-slot-in-view.png') });
    // Scrolling away and back does not bill again.
    await page.evaluate(() => window.scrollTo(0, 0));
    await sleep(300);
    await slot.scrollIntoViewIfNeeded();
    await sleep(1500);
    check(beacons.length === 1, 'one beacon per page view, got ' + beacons.length);
    check(billable() === before + 1, 'billed once');
  }, { width: 900, height: 200, userAgent: DESKTOP });
}

// From an answer page, a follow-up question streams in place (no page load): the URL follows,
// sources, the cited answer and the labelled sponsored slot arrive from the SSE stream, and the
// streamed slot's beacon bills it once it is visible.
async function followUpStreamsInPlace() {
  const before = billable();
  await withBrowser(async (page) => {
    const errors = [];
    page.on('pageerror', (e) => errors.push(e.message));
    // The first question, from the home page: the page shell arrives and the answer streams in.
    await page.goto(base);
    await page.fill('input[name=q]', 'json');
    await Promise.all([page.waitForURL(/\/search\?q=json&stream=1/), page.press('input[name=q]', 'Enter')]);
    await page.waitForSelector('.answer .answer-text a.cite');
    await page.waitForURL(/\/search\?q=json&thread_id=/);  // the canonical address replaces it
    check(!/Answering/.test(await page.locator('.answer').textContent()), 'the placeholder is gone');
    check(await page.locator('section.sources li.source').count() >= 1, 'sources streamed in');
    await page.evaluate(() => { window.__samePage = 1; });
    const question = 'how do I read a csv file';
    await page.fill('#followup', question);
    await page.press('#followup', 'Enter');
    await page.waitForFunction((q) => document.querySelector('h1.question').textContent === q,
                               question);
    await page.waitForSelector('.answer .answer-text a.cite');
    await page.waitForURL(/\/search\?q=how%20do%20I%20read%20a%20csv%20file&thread_id=/);
    check(await page.evaluate(() => window.__samePage === 1), 'answered without loading a page');
    check(await page.locator('section.sources li.source').count() >= 1, 'streamed source cards');
    // Related questions arrive with the stream too (the first question's list is replaced).
    check(await page.locator('section.related').count() === 1, 'one streamed related list');
    const related = page.locator('section.related li a');
    check(await related.count() >= 1, 'related questions streamed in');
    const href = await related.first().getAttribute('href');
    const text = await related.first().textContent();
    check(href === '/search?q=' + encodeURIComponent(text) + '&thread_id=' +
          encodeURIComponent(await page.locator('input[name=thread_id]').inputValue()),
          'a related question links to its answer in this thread: ' + href);
    const cite = page.locator('.answer a.cite').first();
    check(/^#source-\d+$/.test(await cite.getAttribute('href')), 'citations link to sources');
    check((await cite.getAttribute('title')).length > 10, 'citations carry the snippet');
    const slot = page.locator('aside.sponsored');
    check(await slot.count() === 1, 'one streamed sponsored slot');
    check((await slot.locator('.sponsored-label').textContent()) === 'Sponsored', 'labelled');
    check(await page.evaluate(() => {
      const s = document.querySelector('aside.sponsored');
      const src = document.querySelector('section.sources');
      return !src.contains(s) && (s.compareDocumentPosition(src) & Node.DOCUMENT_POSITION_FOLLOWING);
    }), 'the slot is outside and before the sources');
    await waitFor(() => billable() === before + 1, 'the streamed slot billed once visible');
    await page.screenshot({ path: artifact('search-streamed-followup.png'), fullPage: true });
    check(errors.length === 0, 'no page errors: ' + errors.join('; '));
  }, { userAgent: DESKTOP });
}

async function dashboardShowsTheLedgersNumbers() {
  await withBrowser(async (page) => {
    const errors = [];
    page.on('pageerror', (e) => errors.push(e.message));
    // Console errors other than the statuses this test provokes on purpose (401 for the wrong
    // password, 403 for the forged POST): CSP violations ("Refused to ...") land here.
    page.on('console', (m) => {
      if (m.type() === 'error' && !/status of 40[13]/.test(m.text())) errors.push(m.text());
    });
    await page.goto(base + 'ads/');
    check(page.url().endsWith('/ads/signin'), 'signed-out visitors land on the sign-in page');
    await page.fill('input[name=email]', email);
    await page.fill('input[name=password]', 'wrong password!');
    await Promise.all([page.waitForLoadState(), page.click('button[type=submit]')]);
    check((await page.locator('.error').textContent()).includes('wrong'), 'wrong password refused');
    await page.fill('input[name=password]', password);
    await Promise.all([page.waitForURL(/\/ads\/$/), page.click('button[type=submit]')]);

    const ledger = ledgerReport('campaign')[campaignId];
    check(ledger && Number(ledger.billable) >= 1, 'the ledger has billable impressions');
    const row = page.locator('table.report tr[data-id="' + campaignId + '"]');
    const cell = async (col) => (await row.locator('td[data-col=' + col + ']').textContent()).trim();
    for (const col of ['served', 'billable', 'clicks', 'invalid', 'ctr', 'ecpm']) {
      const shown = await cell(col);
      check(shown === ledger[col], col + ': dashboard ' + shown + ' vs ledger ' + ledger[col]);
    }
    const spend = await cell('spend');
    check(spend === ledger.spend + ' ' + ledger.currency,
          'spend: dashboard ' + spend + ' vs ledger ' + ledger.spend);
    await page.screenshot({ path: artifact('dashboard-campaigns.png'), fullPage: true });

    await page.click('a[href="/ads/campaigns/' + campaignId + '"] >> nth=0');
    await page.waitForURL(new RegExp('/ads/campaigns/' + campaignId + '$'));
    check(await page.locator('figure.chart svg').count() === 1, 'the campaign has a chart');
    const day = ledgerReport('day');
    const dayRows = page.locator('table.report').first().locator('tbody tr');
    check(await dayRows.count() === Object.keys(day).length, 'one table row per ledger day');
    await page.screenshot({ path: artifact('dashboard-campaign.png'), fullPage: true });

    // The page carries a token in every form; a script posting without it is refused.
    check(await page.locator('form[method=post] input[name=csrf]').count() >= 2, 'forms carry csrf');
    const status = await page.evaluate(async () => {
      const r = await fetch('/ads/campaigns', {
        method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: 'name=forged&cpm=9.99&budget=100&keywords=csv',
      });
      return r.status;
    });
    check(status === 403, 'POST without CSRF token -> 403, got ' + status);
    const after = ledgerReport('campaign');
    check(Object.keys(after).length === 1, 'no campaign was created by the forged POST');

    // Reports per hour, and the CSV equals the command line's.
    await page.goto(base + 'ads/reports?by=hour');
    check(await page.locator('figure.chart svg rect.bar-billable').count() >= 1, 'hourly bars');
    const csv = await page.evaluate(async () => (await fetch('/ads/reports.csv?by=campaign')).text());
    const cli = execFileSync(process.env.LUMEN_BIN,
        ['ads', 'report', '--by', 'campaign', '--csv', '--data-dir', process.env.LUMEN_DATA_DIR],
        { encoding: 'utf8' });
    check(csv === cli, 'dashboard CSV equals lumen ads report --csv');
    await page.screenshot({ path: artifact('dashboard-reports-hourly.png'), fullPage: true });
    check(errors.length === 0, 'no page errors (CSP violations included): ' + errors.join('; '));
  });

  // Phone width, dark theme: the dashboard has no horizontal scrolling outside its tables.
  await withBrowser(async (page) => {
    await page.goto(base + 'ads/signin');
    const overflow = await page.evaluate(
        () => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    check(overflow <= 0, 'sign-in page fits a phone, overflow ' + overflow);
    await page.screenshot({ path: artifact('dashboard-signin-phone-dark.png'), fullPage: true });
  }, { width: 375, height: 740, colorScheme: 'dark' });
}

async function main() {
  await sponsoredSlotIsBilledOnlyWhenSeen();
  await followUpStreamsInPlace();
  await dashboardShowsTheLedgersNumbers();
  console.log('e2e ads: ok');
}

main().catch((e) => {
  console.error(e.stack || String(e));
  process.exit(1);
});
