// Page-load times of the web UI against a running server (e.g. on the demo data):
//   node tests/ui/measure.mjs http://127.0.0.1:8080 admin admin-password -8d
// Prints first contentful paint and the time until the hit count, the table,
// the histogram and the field list are on screen, for a cold and a warm load.
import { chromium } from 'playwright-core';

const [base = 'http://127.0.0.1:8080', user = 'admin', password = 'admin-password', from = '-8d'] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium', headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
});
const ctx = await browser.newContext({ viewport: { width: 1366, height: 768 } });
const login = await ctx.request.post(base + '/api/v1/login', { data: { user, password } });
if (!login.ok()) throw new Error(`login: ${login.status()}`);
const tenant = process.env.TENANT || '*';
for (const run of ['cold', 'warm', 'warm']) {
  const p = await ctx.newPage();
  await p.addInitScript((t) => localStorage.setItem('mamori.tenant', JSON.stringify(t)), tenant);
  const t0 = Date.now();
  await p.goto(`${base}/ui/#/discover?from=${encodeURIComponent(from)}`);
  await p.waitForSelector('#hits[data-total]', { timeout: 60000 });
  const table = Date.now() - t0;
  await p.waitForSelector('#histogram svg', { timeout: 60000 });
  const histo = Date.now() - t0;
  await p.waitForSelector('#sidebar .field', { timeout: 60000 });
  const fields = Date.now() - t0;
  const fcp = await p.evaluate(() => (performance.getEntriesByName('first-contentful-paint')[0] || {}).startTime);
  const total = await p.getAttribute('#hits', 'data-total');
  if (process.env.SHOTS && run === 'cold') {
    await p.waitForFunction(() => window.mamoriIdle());
    await p.screenshot({ path: `${process.env.SHOTS}/demo-discover.png` });
  }
  console.log(`${run}: ${total} events in range; first contentful paint ${Math.round(fcp)} ms, hits+table ${table} ms, histogram ${histo} ms, field list ${fields} ms`);
  await p.close();
}

// Screenshots for the README's tour (SHOTS=docs/ui): Discover on the demo data, an event, sources.
if (process.env.SHOTS) {
  const dir = process.env.SHOTS;
  const p = await ctx.newPage();
  await p.addInitScript(() => localStorage.setItem('mamori.tenant', JSON.stringify('acme')));
  const q = new URLSearchParams({ q: 'event.action:ConsoleLogin', from, chips: JSON.stringify([{ field: 'source.ip', value: '10.20.1.5', neg: true, on: true }]) });
  await p.goto(`${base}/ui/#/discover?${q}`);
  await p.waitForSelector('#hits[data-total]');
  await p.waitForFunction(() => window.mamoriIdle());
  await p.click('#sidebar .field[data-field="user.name"] .field-head').catch(() => {});
  await p.screenshot({ path: `${dir}/discover.png` });
  await p.click('#results tr.hit >> nth=0');
  await p.waitForSelector('#detail .pivots a');
  await p.screenshot({ path: `${dir}/event.png` });
  await p.evaluate(() => localStorage.setItem('mamori.tenant', JSON.stringify('initech')));
  await p.goto(`${base}/ui/#/sources?from=-7d`);
  await p.waitForSelector('#sources-page table');
  await p.waitForFunction(() => window.mamoriIdle());
  await p.screenshot({ path: `${dir}/sources.png` });
  await p.close();
}
await browser.close();
