// The search page as a person uses it: open it, type a question, press Enter, read the answer
// page; check that the question is shown as text (never as markup), that the page works at a
// phone's width and in the dark theme. Screenshots go to $LUMEN_ARTIFACTS.
// Usage: node search_page.e2e.js BASE_URL
'use strict';
const { withBrowser, artifact, check } = require('./browser.js');

const base = process.argv[2];

async function main() {
  const hostile = '<img src=x onerror="window.__pwned=1"> how do I read a CSV file?';
  await withBrowser(async (page) => {
    const errors = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(base);
    check(await page.title() === 'Lumen', 'home page title');
    const box = page.locator('input[name=q]');
    check(await box.evaluate((el) => el === document.activeElement), 'search box has focus');
    await box.fill(hostile);
    await Promise.all([page.waitForURL(/\/search\?q=/), box.press('Enter')]);
    const heading = await page.locator('h1.question').textContent();
    check(heading === hostile, 'question shown verbatim as text, got: ' + heading);
    check(await page.locator('h1.question img').count() === 0, 'no element injected');
    check(await page.evaluate(() => window.__pwned === undefined), 'no script ran');
    // The answer streams into the page (search.js): wait for it rather than read it at once.
    await page.waitForFunction(
        () => /do not answer|no index/.test(document.querySelector('.answer').textContent));
    const notice = await page.locator('.answer').textContent();
    check(/do not answer|no index/.test(notice), 'answer area says nothing answers it: ' + notice);
    check(await page.locator('#q').inputValue() === hostile, 'box keeps the question');
    await page.screenshot({ path: artifact('search-desktop-light.png'), fullPage: true });
    check(errors.length === 0, 'no page errors: ' + errors.join('; '));
  });

  await withBrowser(async (page) => {
    await page.goto(base);
    // Keyboard only: Tab reaches the Ask button after the box.
    await page.keyboard.type('what is a generator');
    await page.keyboard.press('Tab');
    check(await page.evaluate(() => document.activeElement.tagName) === 'BUTTON', 'Tab to button');
    await Promise.all([page.waitForURL(/\/search\?q=/), page.keyboard.press('Enter')]);
    const overflow = await page.evaluate(
        () => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    check(overflow <= 0, 'no horizontal scrolling at phone width, overflow ' + overflow);
    const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    check(bg === 'rgb(15, 18, 22)', 'dark theme background, got ' + bg);
    await page.screenshot({ path: artifact('search-phone-dark.png'), fullPage: true });
  }, { width: 375, height: 740, colorScheme: 'dark' });
  console.log('e2e search page: ok');
}

main().catch((e) => {
  console.error(e.stack || String(e));
  process.exit(1);
});
