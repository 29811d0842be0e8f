// `make bench`: how long a signed-in person waits for the first thumbnail of their library,
// and what the first screen costs in bytes. Opens the gallery in Debian's chromium with the
// session already held (as after a sign-in), from a cold cache, RUNS times.
//
// node first-screen.mjs URL TOKEN EXPIRES_AT RUNS  ->  one JSON line per run

import { chromium } from 'playwright-core';

const [url, token, expiresAt, runs] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync'],
});
try {
  for (let run = 0; run < Number(runs || 5); run += 1) {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    await context.addInitScript(([value]) => sessionStorage.setItem('smart-album-session', value),
      [JSON.stringify({ token, expires_at: expiresAt })]);
    const page = await context.newPage();
    const requests = [];
    page.on('requestfinished', (request) => requests.push(request));
    await page.goto(url);
    await page.locator('.tile.loaded').first().waitFor({ timeout: 60000 });
    const firstThumbnailMs = await page.evaluate(() => performance.now());
    // The first screen: everything requested until the tiles in view have loaded.
    await page.waitForFunction(() => {
      const inView = [...document.querySelectorAll('.tile')].filter((tile) => tile.getBoundingClientRect().top < innerHeight);
      return inView.length > 0 && inView.every((tile) => tile.classList.contains('loaded'));
    }, null, { timeout: 60000 });
    const screenMs = await page.evaluate(() => performance.now());
    let bytes = 0;
    for (const request of requests) {
      const sizes = await request.sizes().catch(() => null);
      if (sizes) bytes += sizes.responseBodySize + sizes.responseHeadersSize;
    }
    const tiles = await page.locator('.tile').count();
    console.log(JSON.stringify({ first_thumbnail_ms: firstThumbnailMs, first_screen_ms: screenMs, bytes, requests: requests.length, tiles }));
    await context.close();
  }
} finally {
  await browser.close();
}
