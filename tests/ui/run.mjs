// Browser tests of the Mamori web UI: a real `mamori serve` on a temporary
// data directory, events ingested through the REST API, and Debian's Chromium
// driven headless by playwright-core. Run by scripts/ui-tests.
//
//   node run.mjs <path to the mamori binary> [screenshot dir]

import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import net from 'node:net';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';

const binary = process.argv[2];
const shots = process.argv[3] || 'target/ui-screenshots';
if (!binary) {
  console.error('usage: node run.mjs <mamori binary> [screenshot dir]');
  process.exit(2);
}
mkdirSync(shots, { recursive: true });

const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--disable-dev-shm-usage'];
const ADMIN_PW = 'admin-password';
const CUSTOMER = { user: 'acme-soc', password: 'customer-pass-1' };

// ------------------------------------------------------------------ server
function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)); });
  });
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const data = mkdtempSync(join(tmpdir(), 'mamori-ui-'));
// Detection: two of the demo's Sigma rules, loaded from a folder named in mamori.toml.
const rulesDir = join(data, 'rules');
mkdirSync(rulesDir);
const RULES_SRC = new URL('../../crates/mamori/demo-rules/', import.meta.url);
for (const f of ['aws_cloudtrail_logging_stopped.yml', 'aws_iam_admin_policy_attached.yml']) copyFileSync(new URL(f, RULES_SRC), join(rulesDir, f));
const STOP_RULE = '8d1f3e2a-5b7c-4c1e-9a10-4f6d2b8e0a01';
writeFileSync(join(data, 'mamori.toml'), `[detection]\nrules = [${JSON.stringify(rulesDir)}]\n`);
const port = await freePort();
const base = `http://127.0.0.1:${port}`;
const server = spawn(binary, ['--data-dir', data, 'serve', '--config', join(data, 'mamori.toml'), '--listen', `127.0.0.1:${port}`], {
  env: { ...process.env, MAMORI_ADMIN_PASSWORD: ADMIN_PW, RUST_LOG: 'warn' },
  stdio: ['ignore', 'ignore', 'inherit'],
});
let browser;
async function cleanup() {
  if (browser) await browser.close().catch(() => {});
  server.kill('SIGTERM');
  await new Promise((r) => { server.once('exit', r); setTimeout(r, 10000); });
  rmSync(data, { recursive: true, force: true });
}

for (let i = 0; ; i++) {
  try { if ((await fetch(base + '/readyz')).ok) break; } catch (_) { /* not yet */ }
  if (i > 300) { console.error('the server did not start'); await cleanup(); process.exit(1); }
  await sleep(100);
}

// An admin session for the API side of the checks.
const login = await fetch(base + '/api/v1/login', {
  method: 'POST', headers: { 'Content-Type': 'application/json' },
  body: JSON.stringify({ user: 'admin', password: ADMIN_PW }),
});
const cookie = login.headers.get('set-cookie').split(';')[0];
const { csrf } = await login.json();
async function call(method, path, body, type) {
  const r = await fetch(base + path, {
    method,
    headers: { Cookie: cookie, 'X-CSRF-Token': csrf, 'Content-Type': type || 'application/json' },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await r.text();
  let json = null;
  try { json = JSON.parse(text); } catch (_) { /* not JSON */ }
  return { status: r.status, json, text };
}
async function apiTotal(sel) {
  const r = await call('POST', '/api/v1/search', { limit: 0, ...sel });
  assert.equal(r.status, 200, r.text);
  return r.json.total;
}

// Deterministic events over the last 6 hours.
let seed = 7;
const rnd = (n) => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed % n; };
const ACTIONS = ['ConsoleLogin', 'ConsoleLogin', 'GetObject', 'PutObject', 'AssumeRole', 'DescribeInstances'];
const USERS = ['alice', 'bob', 'carol', 'svc deploy', 'dave "the admin"'];
const now = Date.now();
function events(n, tenantTag) {
  const out = [];
  for (let i = 0; i < n; i++) {
    const user = USERS[rnd(USERS.length)];
    const action = ACTIONS[rnd(ACTIONS.length)];
    const ip = rnd(3) === 0 ? `203.0.113.${rnd(20)}` : `10.0.${rnd(4)}.${rnd(50)}`;
    const outcome = rnd(5) === 0 ? 'failure' : 'success';
    out.push({
      '@timestamp': new Date(now - 60_000 - Math.floor((i * 6 * 3600_000) / n)).toISOString(),
      message: `${tenantTag} ${user} ${action} from ${ip}: ${outcome}`,
      event: { action, outcome, dataset: 'aws.cloudtrail' },
      user: { name: user },
      source: { ip },
      aws: { access_key_id: `AKIA${tenantTag.toUpperCase()}${rnd(3)}` },
    });
  }
  return out;
}
const ndjson = (list) => list.map((e) => JSON.stringify(e)).join('\n') + '\n';
for (const t of ['acme', 'globex']) assert.equal((await call('POST', '/api/v1/tenants', { name: t })).status, 201);
assert.equal((await call('POST', '/api/v1/ingest/acme/cloudtrail', ndjson(events(900, 'acme')), 'application/x-ndjson')).status, 200);
const secret = { '@timestamp': new Date(now - 120_000).toISOString(), message: 'globex-secret-marker payroll export', event: { action: 'Export' }, user: { name: 'mallory' } };
assert.equal((await call('POST', '/api/v1/ingest/globex/app', ndjson([secret, ...events(100, 'globex')]), 'application/x-ndjson')).status, 200);
assert.equal((await call('PUT', '/api/v1/tenants/acme/context-lists/office', { entries: ['10.0.0.0/16'], description: 'office networks' })).status, 200);
assert.equal((await call('POST', '/api/v1/users', { name: CUSTOMER.user, role: 'customer', tenants: ['acme'], password: CUSTOMER.password })).status, 201);
// CloudTrail records two days old (outside Discover's -24h) that the StopLogging rule matches:
// acme gets alerts for mallory and trudy, globex one for bob.
function trail(tenant, list) {
  return JSON.stringify({
    Records: list.map(([id, name, user], i) => ({
      eventVersion: '1.08', eventTime: new Date(now - 2 * 86400_000 + i * 60_000).toISOString(),
      eventSource: name.includes('Trail') || name.includes('Logging') ? 'cloudtrail.amazonaws.com' : 's3.amazonaws.com',
      eventName: name, awsRegion: 'us-east-1', sourceIPAddress: '198.51.100.7',
      userIdentity: { type: 'IAMUser', userName: user, accountId: '111122223333' },
      eventID: `${tenant}-${id}`, eventType: 'AwsApiCall', recipientAccountId: '111122223333',
    })),
  });
}
assert.equal((await call('POST', '/api/v1/ingest/acme/cloudtrail', trail('acme', [['t1', 'StopLogging', 'mallory'], ['t2', 'DeleteTrail', 'mallory'], ['t3', 'GetObject', 'alice'], ['t4', 'StopLogging', 'trudy']]))).status, 200);
assert.equal((await call('POST', '/api/v1/ingest/globex/cloudtrail', trail('globex', [['g1', 'StopLogging', 'bob']]))).status, 200);
assert.equal((await call('POST', '/api/v1/users', { name: 'ana', role: 'analyst', tenants: ['*'], password: 'analyst-pass-1' })).status, 201);
async function waitAlerts(tenant, n) {
  for (let i = 0; i < 100; i++) {
    const r = await call('GET', `/api/v1/alerts?tenants=${tenant}`);
    if (r.status === 200 && r.json.length >= n) return r.json;
    await sleep(100);
  }
  throw new Error(`no ${n} alerts for ${tenant}`);
}
const acmeAlerts = await waitAlerts('acme', 2);
const globexAlerts = await waitAlerts('globex', 1);
const found = await call('POST', '/api/v1/search', { tenants: ['globex'], query: '"globex-secret-marker"', from: '-1d', limit: 1 });
const secretId = found.json.hits[0].event.id;
assert.ok(secretId, 'the globex event has an id');

// ------------------------------------------------------------------ harness
browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: FLAGS });
const viewport = { width: 1366, height: 768 };
const ctx = await browser.newContext({ viewport, acceptDownloads: true });
const page = await ctx.newPage();
page.on('pageerror', (e) => { console.error('page error:', e.message); pageErrors.push(e.message); });
const pageErrors = [];

const results = [];
async function test(name, fn) {
  const started = Date.now();
  try {
    await fn();
    results.push([name, true]);
    console.log(`ok   ${name} (${Date.now() - started} ms)`);
  } catch (e) {
    results.push([name, false]);
    console.log(`FAIL ${name}\n     ${String(e.stack || e).split('\n').slice(0, 6).join('\n     ')}`);
    await page.screenshot({ path: join(shots, `failed-${results.length}.png`) }).catch(() => {});
  }
}
async function idle(p) {
  await (p || page).waitForFunction(() => window.mamoriIdle && window.mamoriIdle(), null, { timeout: 15000 });
}
async function hits(p) {
  await (p || page).waitForSelector('#hits[data-total], #qerr .error', { timeout: 15000 });
  await idle(p);
  const v = await (p || page).getAttribute('#hits', 'data-total', { timeout: 15000 });
  return Number(v);
}
function hashParams(p) {
  const u = new URL((p || page).url());
  return new URLSearchParams(u.hash.split('?')[1] || '');
}
async function runQuery(text) {
  await page.fill('#q', text);
  await page.press('#q', 'Enter');
  await idle();
}
const pad2 = (n) => String(n).padStart(2, '0');
const shot = async (name, p) => {
  await (p || page).evaluate(() => document.querySelectorAll('.toast').forEach((t) => t.remove()));
  await (p || page).screenshot({ path: join(shots, `${name}.png`) });
};

// ------------------------------------------------------------------ tests
await test('GET / redirects browsers to the UI and still answers Elasticsearch clients', async () => {
  const browserish = await fetch(base + '/', { redirect: 'manual' });
  assert.equal(browserish.status, 303);
  assert.equal(browserish.headers.get('location'), '/ui/');
  const es = await fetch(base + '/', { headers: { Cookie: cookie, Authorization: 'Bearer nope' } });
  assert.equal(es.status, 401);
  const ui = await fetch(base + '/ui/');
  assert.match(ui.headers.get('content-security-policy'), /default-src 'self'/);
});

await test('log in', async () => {
  await page.goto(base + '/');
  await page.waitForSelector('#login-user');
  await shot('login');
  await page.fill('#login-user', 'admin');
  await page.fill('#login-password', 'wrong-password');
  await page.click('#login-submit');
  await page.waitForSelector('#login-error');
  assert.match(await page.textContent('#login-error'), /Wrong user name or password/);
  await page.fill('#login-password', ADMIN_PW);
  await page.click('#login-submit');
  await page.waitForSelector('#hits[data-total]');
  const options = await page.$$eval('#tenant option', (os) => os.map((o) => o.value));
  assert.deepEqual(options, ['*', 'acme', 'globex']);
  await page.selectOption('#tenant', 'acme');
  await hits();
});

let all;
await test('a search shows the same hit count as the API', async () => {
  await runQuery('event.action:ConsoleLogin');
  const shown = await hits();
  const p = hashParams();
  const api = await apiTotal({ tenants: ['acme'], query: 'event.action:ConsoleLogin', from: p.get('from'), to: p.get('to') });
  assert.ok(api > 0);
  assert.equal(shown, api);
  const rows = await page.$$eval('#results tr.hit', (r) => r.length);
  assert.equal(rows, Math.min(100, api));
  await runQuery('');
  all = await hits();
  assert.equal(all, await apiTotal({ tenants: ['acme'], query: '', from: '-24h' }));
  assert.equal(all, 900);
});

await test('− on a sidebar value adds a chip and drops the count by exactly that value; toggling the chip off restores it', async () => {
  const field = page.locator('#sidebar .field[data-field="user.name"]');
  if (!(await field.locator('.vals').count())) await field.locator('.field-head').click();
  const val = field.locator('.val[data-value="svc deploy"]');
  const count = Number(await val.getAttribute('data-count'));
  assert.ok(count > 0 && count < all);
  await val.locator('button.minus').click();
  const chip = page.locator('#chips .chip[data-field="user.name"]');
  await chip.waitFor();
  assert.match(await chip.textContent(), /NOT user\.name: svc deploy/);
  assert.equal(await hits(), all - count);
  await shot('discover-chip');
  // The value with quotes inside is quoted properly too.
  const quoted = field.locator('.val[data-value=\'dave "the admin"\']');
  const qcount = Number(await quoted.getAttribute('data-count'));
  await quoted.locator('button.plus').click();
  await idle();
  assert.equal(await hits(), qcount);
  await page.locator('#chips .chip').nth(1).locator('.chip-remove').click();
  assert.equal(await hits(), all - count);
  await chip.locator('.chip-toggle').click();
  assert.equal(await hits(), all);
  assert.match(await chip.getAttribute('class'), /off/);
  await chip.locator('.chip-toggle').click();
  assert.equal(await hits(), all - count);
  await chip.locator('.chip-neg').click();
  assert.equal(await hits(), count);
  await chip.locator('.chip-remove').click();
  assert.equal(await hits(), all);
  assert.equal(await page.locator('#chips .chip').count(), 0);
});

await test('dragging on the histogram narrows the time range and the results follow', async () => {
  const before = hashParams();
  assert.equal(before.get('from'), '-24h');
  const box = await page.locator('#histogram svg').boundingBox();
  const y = box.y + box.height / 2;
  await page.mouse.move(box.x + box.width * 0.80, y);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width * 0.88, y, { steps: 5 });
  await page.mouse.move(box.x + box.width * 0.93, y, { steps: 5 });
  await page.mouse.up();
  const n = await hits();
  const p = hashParams();
  const from = p.get('from'), to = p.get('to');
  assert.match(from, /^\d{4}-\d\d-\d\dT/);
  assert.ok(new Date(to) - new Date(from) < 24 * 3600_000 / 2);
  assert.ok(n > 0 && n < all, `${n} of ${all}`);
  assert.equal(n, await apiTotal({ tenants: ['acme'], from, to }));
  const times = await page.$$eval('#results tr.hit', (rows) => rows.map((r) => r.querySelector('td.t').textContent));
  assert.ok(times.length > 0);
  const lo = new Date(from).getTime(), hi = new Date(to).getTime();
  // The table shows local time; compare through the events the API returns.
  const first = await call('POST', '/api/v1/search', { tenants: ['acme'], from, to, limit: 1 });
  assert.ok(new Date(first.json.hits[0]['@timestamp']).getTime() >= lo && new Date(first.json.hits[0]['@timestamp']).getTime() < hi);
  await shot('discover-zoomed');
  await page.click('#time-btn');
  await page.click('.timepop button[data-from="-24h"]');
  assert.equal(await hits(), all);
});

await test('a bad filter shows the API error at its column', async () => {
  const bad = 'event.action:ConsoleLogin and (user.name:bob or';
  await runQuery(bad);
  const api = await call('POST', '/api/v1/search', { tenants: ['acme'], query: bad, from: '-24h', limit: 0 });
  assert.equal(api.status, 400);
  assert.equal(api.json.code, 'bad_filter');
  const mark = page.locator('#qerr mark');
  await mark.waitFor();
  assert.equal(Number(await mark.getAttribute('data-column')), api.json.column);
  assert.ok(api.json.column);
  const text = await page.textContent('#qerr');
  assert.ok(text.includes(api.json.message), text);
  assert.ok(text.includes(`column ${api.json.column}`), text); // in the API's message or added by the UI
  assert.match(await page.getAttribute('#q', 'class'), /bad/);
  await shot('discover-error');
  const bad2 = 'user.name:"bob';
  await runQuery(bad2);
  const api2 = await call('POST', '/api/v1/search', { tenants: ['acme'], query: bad2, from: '-24h', limit: 0 });
  assert.equal(Number(await page.getAttribute('#qerr mark', 'data-column')), api2.json.column);
  await runQuery('');
});

await test('the event panel shows fields, the original and pivots that run', async () => {
  await hits();
  await page.click('#results tr.hit >> nth=0');
  await page.waitForSelector('#detail .pivots a');
  assert.ok(await page.locator('#detail #original').count());
  assert.ok(await page.locator('#detail tr[data-field="user.name"]').count());
  await shot('discover-event');
  const label = await page.textContent('#detail .pivots a >> nth=0');
  const expected = Number(/\(([\d,]+)\)$/.exec(label)[1].replace(/,/g, ''));
  await page.keyboard.press('Escape');
  assert.equal(await page.locator('#detail').count(), 0);
  await page.click('#results tr.hit >> nth=0');
  await page.waitForSelector('#detail .pivots a');
  await page.click('#detail .pivots a >> nth=0');
  assert.equal(await hits(), expected);
  assert.equal(await page.locator('#detail').count(), 0);
  await page.click('#time-btn');
  await page.click('.timepop button[data-from="-24h"]');
  await runQuery('');
});

await test('keyboard: / focuses the query, Enter runs', async () => {
  await page.click('#hits');
  await page.keyboard.press('/');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'q');
  await page.keyboard.type('event.outcome:failure');
  await page.keyboard.press('Enter');
  assert.equal(await hits(), await apiTotal({ tenants: ['acme'], query: 'event.outcome:failure', from: '-24h' }));
});

await test('save a search and open it again; export CSV', async () => {
  await page.click('#save-btn');
  await page.fill('.modal input[name="name"]', 'failures');
  await page.click('.modal button[type="submit"]');
  await page.waitForSelector('.modal', { state: 'detached' });
  const saved = await call('GET', '/api/v1/tenants/acme/saved-searches/failures');
  assert.equal(saved.status, 200);
  assert.equal(saved.json.filter, 'event.outcome:failure');
  await runQuery('');
  await page.click('#saved-btn');
  await page.click('.savedpop a:text("failures")');
  assert.equal(await page.inputValue('#q'), 'event.outcome:failure');
  const n = await hits();
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.click('#export-btn').then(() => page.click('.pop button:text("CSV")')),
  ]);
  const path = await download.path();
  const { readFileSync } = await import('node:fs');
  const lines = readFileSync(path, 'utf8').trim().split('\n');
  assert.equal(lines.length, n + 1, 'a header and one line per hit');
  await runQuery('');
});

await test('other pages render: sources, context lists, admin', async () => {
  await page.click('nav.main a:text("Sources")');
  await page.waitForSelector('#sources-page table');
  await idle();
  assert.ok((await page.textContent('#sources-page')).includes('cloudtrail'));
  await shot('sources');
  await page.click('nav.main a:text("Context lists")');
  await page.click('#lists-page a:text("@office")');
  await page.waitForSelector('#list-entries');
  assert.equal(await page.inputValue('#list-entries'), '10.0.0.0/16');
  await page.fill('#list-entries', '10.0.0.0/16\n192.0.2.7');
  await page.click('#list-save');
  await idle();
  const list = await call('GET', '/api/v1/tenants/acme/context-lists/office');
  assert.deepEqual(list.json.entries, ['10.0.0.0/16', '192.0.2.7']);
  await shot('context-lists');
  await page.click('nav.main a:text("Admin")');
  await page.waitForSelector('#admin-page table');
  await page.click('.tabs a:text("Users")');
  await page.waitForSelector('#admin-page td:text("acme-soc")');
  await shot('admin-users');
  await page.click('.tabs a:text("API tokens")');
  await page.fill('#token-name', 'fluent-bit acme');
  await page.selectOption('#token-role', 'ingest');
  await page.fill('#token-tenants', 'acme');
  await page.click('#token-create');
  await page.waitForSelector('#new-token');
  const token = await page.textContent('#new-token');
  assert.match(token, /^mamori_/);
  const es = await fetch(base + '/', { headers: { Authorization: `Bearer ${token}` } });
  assert.equal(es.status, 200, 'the new token works');
  assert.equal((await es.json()).tagline, 'You Know, for Search');
  await shot('admin-tokens');
  await page.click('.tabs a:text("Audit log")');
  await page.waitForSelector('#audit td:text("fluent-bit acme")', { timeout: 5000 }).catch(() => {});
  await page.waitForSelector('#audit tbody tr');
  await shot('admin-audit');
});

await test('dark theme', async () => {
  await page.click('nav.main a:text("Discover")');
  await hits();
  await page.click('#user-menu > button');
  await page.click('#theme');
  assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), 'dark');
  await page.click('#results tr.hit >> nth=0');
  await page.waitForSelector('#detail .pivots a');
  await shot('discover-dark');
  await page.keyboard.press('Escape');
  await page.click('#user-menu > button');
  await page.click('#theme');
});

await test('a customer sees only its tenant and cannot open another tenant\'s event by URL', async () => {
  const c = await browser.newContext({ viewport });
  const p = await c.newPage();
  await p.goto(base + '/ui/');
  await p.fill('#login-user', CUSTOMER.user);
  await p.fill('#login-password', CUSTOMER.password);
  await p.click('#login-submit');
  await p.waitForSelector('#hits[data-total]');
  assert.deepEqual(await p.$$eval('#tenant option', (os) => os.map((o) => o.value)), ['acme']);
  assert.equal(await hits(p), 900);
  assert.equal(await p.locator('nav.main a:text("Admin")').count(), 0);
  await p.goto(`${base}/ui/#/event/globex/${encodeURIComponent(secretId)}`);
  await p.waitForSelector('#event-page .error');
  const text = await p.textContent('#event-page');
  assert.ok(!text.includes('globex-secret-marker'), 'the event is not shown');
  assert.match(text, /not exist|cannot see/);
  await p.goto(`${base}/ui/#/discover?q=globex-secret-marker&from=-1d`);
  assert.equal(await hits(p), 0);
  assert.equal(await p.locator('#save-btn').count(), 0, 'a customer cannot save searches');
  await p.goto(`${base}/ui/#/event/globex/${encodeURIComponent(secretId)}`);
  await p.waitForSelector('#event-page .error');
  await p.screenshot({ path: join(shots, 'customer-denied.png') });
  // Its own tenant's event opens by URL.
  const own = await call('POST', '/api/v1/search', { tenants: ['acme'], from: '-1d', limit: 1 });
  await p.goto(`${base}/ui/#/event/acme/${encodeURIComponent(own.json.hits[0].event.id)}`);
  await p.waitForSelector('#event-page #original');
  await c.close();
});

// ------------------------------------------------------------------ alerts, rules, exclusions
async function alertRows(p) {
  await (p || page).waitForSelector('#alerts-table table, #alerts-table .box, #alerts-table .error');
  await idle(p);
  return (p || page).$$eval('#alerts-table tr.alert', (rows) => rows.map((r) => ({ id: Number(r.dataset.id), status: r.dataset.status, text: r.textContent })));
}

await test('the alert queue lists the tenant\'s alerts with grouped counts, and filters', async () => {
  await page.goto(base + '/ui/#/discover');
  await hits();
  await page.selectOption('#tenant', 'acme');
  await hits();
  await page.click('nav.main a:text("Alerts")');
  let rows = await alertRows();
  assert.deepEqual(rows.map((r) => r.id).sort(), acmeAlerts.map((a) => a.id).sort());
  assert.ok(rows.every((r) => r.text.includes('acme')));
  const status = await page.textContent('#alert-groups [data-group="status"]');
  assert.match(status, new RegExp(`new\\s*${acmeAlerts.length}`));
  assert.ok((await page.textContent('#alert-groups [data-group="rule"]')).includes('CloudTrail logging stopped'));
  await shot('alerts');
  // A grouped count is a filter.
  await page.click('#alert-groups [data-group="status"] a.gc[data-value="new"]');
  rows = await alertRows();
  assert.equal(rows.length, acmeAlerts.length);
  assert.equal(hashParams().get('status'), 'new');
  await page.selectOption('#f-status', 'closed');
  rows = await alertRows();
  assert.equal(rows.length, 0);
  assert.match(await page.textContent('#alerts-table'), /No alerts match/);
  await page.selectOption('#f-status', '');
  assert.equal((await alertRows()).length, acmeAlerts.length);
});

let triaged;
await test('acknowledge an alert in the queue, close it with a reason on its page; the API shows the new state', async () => {
  triaged = acmeAlerts.find((a) => a.count === 2) || acmeAlerts[0];
  await page.check(`#alerts-table tr.alert[data-id="${triaged.id}"] input.pick`);
  assert.match(await page.textContent('#bulk'), /1 selected/);
  await page.click('#bulk-ack');
  await page.waitForSelector(`#alerts-table tr.alert[data-id="${triaged.id}"][data-status="acknowledged"]`);
  let api = await call('GET', `/api/v1/alerts/${triaged.id}`);
  assert.equal(api.json.status, 'acknowledged');
  assert.equal(api.json.assignee, 'admin');
  await page.click(`#alerts-table tr.alert[data-id="${triaged.id}"] td:nth-child(4) a`);
  await page.waitForSelector('#alert-details');
  await idle();
  const text = await page.textContent('#alert-page');
  assert.ok(text.includes('defense-evasion') && text.includes('T1562.008'), 'ATT&CK tags are shown');
  assert.ok(text.includes(triaged.group_key));
  await page.waitForSelector('#alert-events table');
  assert.equal(await page.locator('#alert-events tbody tr').count(), triaged.event_ids.length);
  await page.waitForSelector('#history tr');
  assert.match(await page.textContent('#history'), /status new → acknowledged/);
  await shot('alert');
  await page.click('#close');
  await page.waitForSelector('#triage');
  await page.keyboard.press('Escape');
  await page.waitForSelector('#triage', { state: 'detached' });
  await page.click('#close');
  await page.selectOption('#close-reason', 'false_positive');
  await page.click('#triage button[type="submit"]');
  await page.waitForSelector('#reopen');
  await idle();
  api = await call('GET', `/api/v1/alerts/${triaged.id}`);
  assert.equal(api.json.status, 'closed');
  assert.equal(api.json.close_reason, 'false_positive');
  await page.waitForSelector('#history tr:nth-child(3)');
  assert.match(await page.textContent('#history'), /reason false positive/);
  // Its events open in Discover on its tenant and around its time.
  await page.click('#open-events');
  assert.equal(await hits(), triaged.event_ids.length);
  assert.match(hashParams().get('q'), /^event\.id:\(/);
});

await test('bulk close with a reason; assign', async () => {
  await page.goto(base + '/ui/#/alerts?status=new');
  const rows = await alertRows();
  assert.ok(rows.length >= 1);
  await page.check('#check-all');
  await page.click('#bulk-assign');
  await page.fill('#assignee', 'ana');
  await page.click('#triage button[type="submit"]');
  await page.waitForSelector('#triage', { state: 'detached' });
  await alertRows();
  for (const r of rows) assert.equal((await call('GET', `/api/v1/alerts/${r.id}`)).json.assignee, 'ana');
  await page.check('#check-all');
  await page.click('#bulk-close');
  await page.selectOption('#close-reason', 'true_positive');
  await page.click('#triage button[type="submit"]');
  await page.waitForSelector('#triage', { state: 'detached' });
  assert.equal((await alertRows()).length, 0);
  for (const r of rows) {
    const a = (await call('GET', `/api/v1/alerts/${r.id}`)).json;
    assert.equal(a.status, 'closed');
    assert.equal(a.close_reason, 'true_positive');
  }
});

await test('a customer sees only its tenant\'s alerts, no triage buttons, and no rules or exclusions', async () => {
  const c = await browser.newContext({ viewport });
  const p = await c.newPage();
  await p.goto(base + '/ui/#/alerts');
  await p.fill('#login-user', CUSTOMER.user);
  await p.fill('#login-password', CUSTOMER.password);
  await p.click('#login-submit');
  const rows = await alertRows(p);
  assert.deepEqual(rows.map((r) => r.id).sort(), acmeAlerts.map((a) => a.id).sort());
  assert.ok(rows.every((r) => !r.text.includes('globex')));
  assert.equal(await p.locator('#bulk button').count(), 0);
  assert.equal(await p.locator('nav.main a:text("Rules")').count(), 0);
  assert.equal(await p.locator('nav.main a:text("Exclusions")').count(), 0);
  await p.goto(`${base}/ui/#/alert/${globexAlerts[0].id}`);
  await p.waitForSelector('#alert-page .error');
  assert.match(await p.textContent('#alert-page'), /not exist|cannot see/);
  assert.ok(!(await p.textContent('#alert-page')).includes('bob'));
  await p.goto(`${base}/ui/#/alert/${acmeAlerts[0].id}`);
  await p.waitForSelector('#alert-details');
  assert.equal(await p.locator('#close, #reopen, #assign').count(), 0);
  assert.match(await p.textContent('#alert-history'), /now (new|acknowledged|closed)/);
  await c.close();
});

await test('rules: list with last hit, Sigma source, backtest per day, disable', async () => {
  await page.click('nav.main a:text("Rules")');
  await page.waitForSelector('#rules tbody tr');
  await idle();
  assert.equal(await page.locator('#rules tbody tr').count(), 2);
  const stop = page.locator(`#rules tr[data-rule="${STOP_RULE}"]`);
  assert.match(await stop.textContent(), /high/);
  assert.match(await stop.textContent(), /T1562\.008/);
  assert.match(await stop.textContent(), /ago/, 'the last hit is shown');
  assert.match(await page.textContent('#scheduled-rules, #rules-page'), /No scheduled rules/);
  await stop.locator('td:first-child a').click();
  await page.waitForSelector('#rule-source');
  assert.match(await page.textContent('#rule-source'), /StopLogging/);
  await page.click('#backtest-run');
  await page.waitForSelector('#backtest-total');
  const api = await call('POST', `/api/v1/rules/${STOP_RULE}/backtest`, { from: '-7d', tenants: ['acme'] });
  assert.equal(api.status, 200, api.text);
  assert.equal(Number((await page.textContent('#backtest-total')).replace(/,/g, '')), api.json.total);
  assert.equal(api.json.total, 3);
  const cells = await page.$$eval('#backtest-table tbody td.num', (tds) => tds.map((t) => Number(t.textContent)));
  assert.equal(cells.reduce((a, b) => a + b, 0), 3);
  await shot('rule');
  await page.keyboard.press('Escape');
  await page.waitForSelector('#rule-source', { state: 'detached' });
  const iam = page.locator('#rules tbody tr').filter({ hasNotText: 'CloudTrail logging' });
  const iamId = await iam.getAttribute('data-rule');
  await iam.locator('button.toggle').click();
  await page.waitForSelector(`#rules tr[data-rule="${iamId}"].disabled`);
  assert.equal((await call('GET', `/api/v1/rules/${iamId}`)).json.enabled, false);
  await page.click(`#rules tr[data-rule="${iamId}"] button.toggle`);
  await page.waitForSelector(`#rules tr[data-rule="${iamId}"]:not(.disabled)`);
  assert.equal((await call('GET', `/api/v1/rules/${iamId}`)).json.enabled, true);
});

await test('exclusions: proposed by one user, the owner cannot approve (message shown), another user approves; preview', async () => {
  await page.click('nav.main a:text("Exclusions")');
  await page.waitForSelector('#propose');
  await idle();
  await page.click('#propose summary');
  await page.fill('#x-tenants', 'acme');
  await page.selectOption('#x-rules', STOP_RULE);
  await page.fill('#x-filter', 'user.name:mallory');
  await page.fill('#x-reason', 'mallory is the red team this month');
  await page.fill('#x-risk', 'a real attacker using the mallory account is missed');
  // The expiry is mandatory.
  await page.click('#x-propose');
  assert.match(await page.textContent('#propose-error'), /expires/);
  const d = new Date(Date.now() + 14 * 86400_000);
  await page.fill('#x-expires', `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())}`);
  await page.click('#x-propose');
  await page.waitForSelector('#exclusions tr[data-state="proposed"]');
  const list = (await call('GET', '/api/v1/exclusions')).json;
  assert.equal(list.length, 1);
  const x = list[0];
  assert.equal(x.owner, 'admin');
  assert.deepEqual(x.rules, [STOP_RULE]);
  assert.equal(x.filter, 'user.name:mallory');
  await page.click(`#exclusions tr[data-id="${x.id}"] button.approve`);
  await page.waitForSelector('#exclusion-error .error');
  assert.match(await page.textContent('#exclusion-error'), /owner of an exclusion cannot approve it/);
  await page.click(`#exclusions tr[data-id="${x.id}"] button.preview`);
  await page.waitForSelector('#preview-table');
  assert.ok((await page.textContent('#preview-table')).includes('mallory'));
  await shot('exclusions');
  // Another analyst approves.
  const c = await browser.newContext({ viewport });
  const p = await c.newPage();
  await p.goto(base + '/ui/#/exclusions');
  await p.fill('#login-user', 'ana');
  await p.fill('#login-password', 'analyst-pass-1');
  await p.click('#login-submit');
  await p.waitForSelector(`#exclusions tr[data-id="${x.id}"] button.approve`);
  await p.click(`#exclusions tr[data-id="${x.id}"] button.approve`);
  await p.waitForSelector(`#exclusions tr[data-id="${x.id}"][data-state="active"]`);
  assert.match(await p.textContent(`#exclusions tr[data-id="${x.id}"]`), /ana/);
  await c.close();
  const after = (await call('GET', '/api/v1/exclusions')).json[0];
  assert.equal(after.state, 'active');
  assert.equal(after.approved_by, 'ana');
  // Revoke from the UI.
  await page.goto(base + '/ui/#/exclusions?state=active');
  await page.waitForSelector(`#exclusions tr[data-id="${x.id}"] button.revoke`);
  page.once('dialog', (dlg) => dlg.accept());
  await page.click(`#exclusions tr[data-id="${x.id}"] button.revoke`);
  await page.waitForSelector('#exclusions-page .box.muted');
  assert.equal((await call('GET', '/api/v1/exclusions')).json[0].state, 'revoked');
});

await test('a viewer sees rules and exclusions without write buttons', async () => {
  assert.equal((await call('POST', '/api/v1/users', { name: 'vic', role: 'viewer', tenants: ['acme'], password: 'viewer-pass-1' })).status, 201);
  const c = await browser.newContext({ viewport });
  const p = await c.newPage();
  await p.goto(base + '/ui/#/rules');
  await p.fill('#login-user', 'vic');
  await p.fill('#login-password', 'viewer-pass-1');
  await p.click('#login-submit');
  await p.waitForSelector('#rules tbody tr');
  assert.equal(await p.locator('#rules button.toggle').count(), 0);
  await p.goto(base + '/ui/#/exclusions');
  await p.waitForSelector('#exclusions');
  await idle(p);
  assert.equal(await p.locator('#propose, button.approve, button.revoke').count(), 0);
  await p.goto(base + '/ui/#/alerts');
  await alertRows(p);
  assert.equal(await p.locator('#bulk button, input.pick').count(), 0);
  await c.close();
});

await test('without rules configured, the Rules page says so in words', async () => {
  const data2 = mkdtempSync(join(tmpdir(), 'mamori-ui-norules-'));
  const port2 = await freePort();
  const base2 = `http://127.0.0.1:${port2}`;
  const s2 = spawn(binary, ['--data-dir', data2, 'serve', '--listen', `127.0.0.1:${port2}`], {
    env: { ...process.env, MAMORI_ADMIN_PASSWORD: ADMIN_PW, RUST_LOG: 'warn' }, stdio: ['ignore', 'ignore', 'inherit'],
  });
  const c = await browser.newContext({ viewport });
  try {
    for (let i = 0; ; i++) {
      try { if ((await fetch(base2 + '/readyz')).ok) break; } catch (_) { /* not yet */ }
      if (i > 300) throw new Error('the second server did not start');
      await sleep(100);
    }
    const p = await c.newPage();
    await p.goto(base2 + '/ui/#/rules');
    await p.fill('#login-user', 'admin');
    await p.fill('#login-password', ADMIN_PW);
    await p.click('#login-submit');
    await p.waitForSelector('#no-rules');
    assert.match(await p.textContent('#no-rules'), /No Sigma rules are loaded: no detection rules are configured/);
  } finally {
    await c.close();
    s2.kill('SIGTERM');
    await new Promise((r) => { s2.once('exit', r); setTimeout(r, 10000); });
    rmSync(data2, { recursive: true, force: true });
  }
});

await test('Discover first paint and first results (1366x768)', async () => {
  const p = await ctx.newPage();
  const t0 = Date.now();
  await p.goto(base + '/ui/#/discover?from=-24h');
  await p.waitForSelector('#hits[data-total]');
  const results = Date.now() - t0;
  const fcp = await p.evaluate(() => (performance.getEntriesByName('first-contentful-paint')[0] || {}).startTime);
  console.log(`     first contentful paint ${Math.round(fcp)} ms, hit count and table after ${results} ms`);
  assert.ok(results < 5000);
  await p.close();
});

await test('no script errors on any page', async () => {
  assert.deepEqual(pageErrors, []);
});

await cleanup();
const failed = results.filter(([, ok]) => !ok);
console.log(`\n${results.length - failed.length} passed, ${failed.length} failed; screenshots in ${shots}`);
process.exit(failed.length ? 1 : 0);
