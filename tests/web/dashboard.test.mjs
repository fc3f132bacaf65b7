// The dashboard in a real browser: Debian's chromium driven by
// playwright-core, against a real `evoclaw serve` started by
// tests/e2e/test_serve_web.sh (DASHBOARD_URL, ADMIN_KEY, TENANT_KEY,
// ARTIFACTS for the screenshots).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';

const BASE = process.env.DASHBOARD_URL;
const ADMIN = process.env.ADMIN_KEY;
const TENANT = process.env.TENANT_KEY;
const ARTIFACTS = process.env.ARTIFACTS;
assert.ok(BASE && ADMIN && TENANT && ARTIFACTS, 'DASHBOARD_URL, ADMIN_KEY, TENANT_KEY and ARTIFACTS are set');

let browser;
// Every page's console errors and uncaught exceptions (CSP violations are
// console errors): none may happen.
const problems = [];

before(async () => {
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-background-networking', '--disable-dev-shm-usage'],
  });
});

after(async () => {
  await browser?.close();
});

async function openPage({ width = 1280, height = 800 } = {}) {
  const context = await browser.newContext({ viewport: { width, height } });
  const page = await context.newPage();
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    // A 401 or an aborted request the test caused is logged by chromium
    // as a failed resource; the page's own errors are what count.
    if (m.type() === 'error' && !/Failed to load resource|net::ERR_FAILED/.test(m.text()))
      problems.push(`console: ${m.text()}`);
  });
  return page;
}

async function closePage(page) {
  await page.context().close();
}

// The API from the test itself (to set up and to check what the page did).
async function api(method, path, body, key = ADMIN) {
  const res = await fetch(BASE + path, {
    method,
    headers: { 'X-API-Key': key, ...(body ? { 'Content-Type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

async function deployApi(name, command, extra = {}, key = ADMIN) {
  const r = await api('POST', '/api/agents/deploy', {
    agent_name: name, agent_type: 'coder', template: 'minimal',
    ...(command ? { config: { command: ['/bin/sh', '-c', command] } } : {}), ...extra,
  }, key);
  assert.equal(r.status, 201, JSON.stringify(r.body));
  return r.body.agent_id;
}

// Poll fn until it returns a truthy value (bounded): the page refreshes
// on its own schedule, so the test waits for what it expects to see.
async function until(fn, what, timeoutMs = 15000) {
  const end = Date.now() + timeoutMs;
  let last;
  while (Date.now() < end) {
    last = await fn();
    if (last) return last;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what} (last: ${JSON.stringify(last)})`);
}

async function signIn(page, key) {
  await page.goto(BASE + '/dashboard');
  await page.fill('#api-key', key);
  await page.press('#api-key', 'Enter');
  await page.locator('[data-testid=card-sandboxes] .value').waitFor({ state: 'visible' });
}

const row = (page, id) => page.locator(`tr[data-agent-id="${id}"]`);
const statusOf = async (page, id) =>
  (await row(page, id).count()) ? (await row(page, id).locator('td[data-col=status]').innerText()).trim() : null;

async function search(page, text) {
  await page.fill('#search', text);
  await until(async () => {
    const ids = await page.locator('#agents tbody tr[data-agent-id]').evaluateAll((rs) => rs.map((r) => r.querySelector('td[data-col=name]').textContent));
    return ids.every((n) => n.toLowerCase().includes(text.toLowerCase()));
  }, `search "${text}" applied`);
}

async function confirm(page) {
  await page.locator('#confirm').waitFor({ state: 'visible' });
  await page.click('#confirm-ok');
  await page.locator('#confirm').waitFor({ state: 'hidden' });
}

test('the page shows no data without a key, and a bad key is rejected', async () => {
  const page = await openPage();
  const apiCalls = [];
  page.on('request', (r) => { if (new URL(r.url()).pathname.startsWith('/api/')) apiCalls.push(r.url()); });
  await page.goto(BASE + '/dashboard');
  await page.locator('#signin').waitFor({ state: 'visible' });
  assert.equal(await page.locator('#agents tbody tr[data-agent-id]').count(), 0);
  assert.equal(await page.locator('[data-testid=card-sandboxes] .value').isVisible(), false);
  assert.deepEqual(apiCalls, [], 'no API call before a key is given');
  await page.fill('#api-key', 'evo_not_a_real_key');
  await page.press('#api-key', 'Enter');
  const error = page.locator('[data-testid=signin-error]');
  await error.waitFor({ state: 'visible' });
  assert.match(await error.innerText(), /API key rejected/);
  assert.equal(await page.locator('#agents tbody tr[data-agent-id]').count(), 0);
  assert.equal(await page.evaluate(() => sessionStorage.getItem('evoclaw.apiKey')), null);
  // /dashboard/swarms is the same page.
  await page.goto(BASE + '/dashboard/swarms');
  await page.locator('#signin').waitFor({ state: 'visible' });
  await closePage(page);
});

test('deploy through the modal: field errors, then the agent appears and runs', async () => {
  const page = await openPage();
  await signIn(page, ADMIN);
  // Keyboard: the deploy button opens the dialog, Escape closes it.
  await page.focus('#deploy-open');
  await page.keyboard.press('Enter');
  await page.locator('#deploy').waitFor({ state: 'visible' });
  await page.keyboard.press('Escape');
  await page.locator('#deploy').waitFor({ state: 'hidden' });

  await page.click('#deploy-open');
  // The template list comes from GET /api/templates.
  await until(async () => (await page.locator('#deploy-template option').allInnerTexts()).some((t) => t.includes('minimal')), 'templates listed');
  // A timeout the API refuses: its message appears next to the field.
  await page.fill('#deploy-name', 'modal-agent');
  await page.fill('#deploy-timeout', '999999');
  await page.click('#deploy-submit');
  const timeoutError = page.locator('[data-error-for="config.timeout"]');
  await timeoutError.waitFor({ state: 'visible' });
  assert.match(await timeoutError.innerText(), /config\.timeout/);
  assert.equal(await page.locator('#deploy').isVisible(), true, 'the dialog stays open on an error');
  // A bad environment variable name: next to the environment rows.
  await page.fill('#deploy-timeout', '120');
  await page.fill('.env-row input.env-key >> nth=0', 'BAD NAME');
  await page.fill('.env-row input.env-value >> nth=0', 'x');
  await page.click('#deploy-submit');
  const envError = page.locator('[data-error-for="environment"]');
  await envError.waitFor({ state: 'visible' });
  assert.match(await envError.innerText(), /environment/);
  assert.equal(await timeoutError.isVisible(), false, 'a fixed field loses its error');

  await page.fill('.env-row input.env-key >> nth=0', 'API_TOKEN');
  await page.fill('.env-row input.env-value >> nth=0', 'hunter2-secret');
  // A provider this server lacks (no E2B key here): the server's message
  // appears next to the provider select.
  await page.selectOption('#deploy-provider', 'e2b');
  await page.click('#deploy-submit');
  const providerError = page.locator('[data-error-for="provider"]');
  await providerError.waitFor({ state: 'visible' });
  assert.match(await providerError.innerText(), /provider: "e2b" is not available on this server/);
  assert.equal(await page.locator('#deploy').isVisible(), true, 'the dialog stays open on an error');
  await page.selectOption('#deploy-provider', 'local');
  await page.selectOption('#deploy-type', 'researcher');
  await page.fill('#deploy-task', 'find the answer');
  await page.selectOption('#deploy-template', 'minimal');
  await page.fill('#deploy-capabilities', 'search, summarize');
  await page.click('#deploy-submit');
  await page.locator('#deploy').waitFor({ state: 'hidden' });
  // The API has it, with what the form said.
  const found = await until(async () => {
    const r = await api('GET', '/api/agents?q=modal-agent');
    return r.body.agents[0];
  }, 'the agent in the API');
  assert.equal(found.agent_type, 'researcher');
  assert.equal(found.task_description, 'find the answer');
  assert.equal(found.template, 'minimal');
  assert.equal(found.provider, 'local');
  assert.equal(found.timeout_sec, 120);
  assert.deepEqual(found.capabilities, ['search', 'summarize']);
  assert.deepEqual(found.environment_keys, ['API_TOKEN']);
  // The row is there at once, then turns running (blue).
  await row(page, found.id).waitFor({ state: 'visible' });
  await until(async () => (await statusOf(page, found.id)) === 'running', 'the row to turn running');
  // Where it runs, under its type.
  const providerTag = row(page, found.id).locator('[data-testid=provider]');
  assert.equal((await providerTag.innerText()).trim(), 'local');
  assert.match(await providerTag.getAttribute('title'), /local provider/);
  assert.equal(await row(page, found.id).locator('.badge').getAttribute('class'), 'badge badge-running');
  const color = await row(page, found.id).locator('.badge').evaluate((b) => getComputedStyle(b).backgroundColor);
  assert.notEqual(color, 'rgba(0, 0, 0, 0)', 'the badge is coloured');
  assert.equal(await page.locator('body').innerText().then((t) => t.includes('hunter2-secret')), false);
  await api('DELETE', `/api/agents/${found.id}`);
  await closePage(page);
});

test('details follow the log, mask the environment and show the history', async () => {
  const id = await deployApi('talker', 'i=0; while true; do echo tick $i; i=$((i+1)); sleep 0.1; done',
    { environment: { SECRET_TOKEN: 'hunter2' }, task_description: 'count out loud', capabilities: ['speak'] });
  const page = await openPage();
  await signIn(page, ADMIN);
  await row(page, id).locator('button[data-action=view]').click();
  await page.locator('#detail').waitFor({ state: 'visible' });
  assert.equal((await page.locator('[data-testid=detail-task]').innerText()).trim(), 'count out loud');
  assert.match(await page.locator('[data-testid=detail-template]').innerText(), /minimal · local provider/);
  assert.match(await page.locator('[data-testid=detail-capabilities]').innerText(), /speak/);
  const env = await page.locator('[data-testid=detail-env] li').allInnerTexts();
  assert.equal(env.length, 1);
  assert.match(env[0], /SECRET_TOKEN/);
  assert.doesNotMatch(await page.content(), /hunter2/);
  // The log tail follows: lines written after the view opened arrive.
  const logs = page.locator('[data-testid=detail-logs]');
  await until(async () => /tick 0\b/.test(await logs.innerText()), 'the first log line');
  const seen = Number((await logs.innerText()).match(/tick (\d+)\s*$/)?.[1] ?? 0);
  await until(async () => {
    const m = (await logs.innerText()).match(/tick (\d+)\s*$/);
    return m && Number(m[1]) >= seen + 10;
  }, 'new log lines while the view is open');
  const history = await page.locator('[data-testid=detail-history] li').allInnerTexts();
  assert.ok(history.some((h) => /pending/i.test(h)) && history.some((h) => /running/i.test(h)), history.join(' | '));
  // Terminated while open: the view shows it ended, with the reason.
  await api('DELETE', `/api/agents/${id}?terminate_only=true`);
  await until(async () => (await page.locator('[data-testid=detail-history]').innerText()).includes('terminated'), 'the stop reason in the history');
  await page.click('#detail-close');
  await page.locator('#detail').waitFor({ state: 'hidden' });

  // A failed agent: red, with its error message in the details.
  const bad = await deployApi('crasher', 'echo going down >&2; exit 3');
  await until(async () => (await statusOf(page, bad)) === 'failed', 'the failed row');
  assert.equal(await row(page, bad).locator('.badge').getAttribute('class'), 'badge badge-failed');
  await row(page, bad).locator('button[data-action=view]').click();
  await page.locator('#detail').waitFor({ state: 'visible' });
  const expected = (await api('GET', `/api/agents/${bad}`)).body.error_message;
  assert.ok(expected, 'the API has an error message');
  await until(async () => (await page.locator('[data-testid=detail-error]').innerText()).includes(expected), 'the error message');
  await until(async () => (await page.locator('[data-testid=detail-logs]').innerText()).includes('going down'), 'the log of a finished agent');
  await page.keyboard.press('Escape');
  await page.locator('#detail').waitFor({ state: 'hidden' });
  await closePage(page);
});

test('terminate, then destroy, each after a confirmation', async () => {
  const id = await deployApi('victim', null);
  const page = await openPage();
  await signIn(page, ADMIN);
  await until(async () => (await statusOf(page, id)) === 'running', 'running');
  // Deployed without a provider: the server's default (local) is shown.
  assert.equal((await row(page, id).locator('[data-testid=provider]').innerText()).trim(), 'local');
  // Cancelling does nothing.
  await row(page, id).locator('button[data-action=terminate]').click();
  await page.click('#confirm-cancel');
  assert.equal((await api('GET', `/api/agents/${id}`)).body.status, 'running');
  await row(page, id).locator('button[data-action=terminate]').click();
  await confirm(page);
  await until(async () => (await statusOf(page, id)) === 'completed', 'completed');
  assert.equal(await row(page, id).locator('.badge').getAttribute('class'), 'badge badge-completed');
  const agent = (await api('GET', `/api/agents/${id}`)).body;
  assert.equal(agent.stop_reason, 'terminated');
  assert.equal(await row(page, id).locator('button[data-action=terminate]').isDisabled(), true, 'a finished agent cannot be terminated');
  await row(page, id).locator('button[data-action=destroy]').click();
  await confirm(page);
  await row(page, id).waitFor({ state: 'detached' });
  assert.equal((await api('GET', `/api/agents/${id}`)).status, 404);
  await closePage(page);
});

test('bulk terminate and bulk destroy', async () => {
  const ids = [];
  for (let i = 0; i < 3; i++) ids.push(await deployApi(`bulk-${i}`, null));
  const page = await openPage();
  await signIn(page, ADMIN);
  await search(page, 'bulk-');
  await until(async () => {
    for (const id of ids) if ((await statusOf(page, id)) !== 'running') return false;
    return true;
  }, 'three running');
  assert.equal(await page.locator('#bulk-terminate').isDisabled(), true, 'nothing selected yet');
  await page.check('#select-all');
  assert.match(await page.locator('[data-testid=selection-count]').innerText(), /3/);
  await page.click('#bulk-terminate');
  await confirm(page);
  await until(async () => {
    for (const id of ids) if ((await statusOf(page, id)) !== 'completed') return false;
    return true;
  }, 'all three completed');
  for (const id of ids) assert.equal((await api('GET', `/api/agents/${id}`)).body.stop_reason, 'terminated');
  if (!(await page.locator('#select-all').isChecked())) await page.check('#select-all');
  await page.click('#bulk-destroy');
  await confirm(page);
  for (const id of ids) await row(page, id).waitFor({ state: 'detached' });
  for (const id of ids) assert.equal((await api('GET', `/api/agents/${id}`)).status, 404);
  await page.locator('[data-testid=empty]').waitFor({ state: 'visible' });
  await closePage(page);
});

test('auto-refresh keeps filters, selection, an open dialog and what was typed', async () => {
  const keep = await deployApi('refresh-keep', null);
  const page = await openPage();
  await signIn(page, ADMIN);
  await until(async () => (await statusOf(page, keep)) === 'running', 'running');
  await page.selectOption('#filter-status', 'running');
  await search(page, 'refresh-');
  await row(page, keep).locator('input[data-select]').check();
  await page.click('#deploy-open');
  await page.fill('#deploy-name', 'half-typed');
  // An agent made elsewhere shows up by itself: refreshes happened.
  const before = await page.locator('[data-testid=updated-at]').innerText();
  const late = await deployApi('refresh-late', null);
  await until(async () => (await row(page, late).count()) === 1, 'the refresh to bring the new agent', 20000);
  await until(async () => (await page.locator('[data-testid=updated-at]').innerText()) !== before, 'the refresh time to move', 20000);
  assert.equal(await page.locator('#deploy').isVisible(), true, 'the dialog is still open');
  assert.equal(await page.inputValue('#deploy-name'), 'half-typed');
  assert.equal(await page.inputValue('#filter-status'), 'running');
  assert.equal(await page.inputValue('#search'), 'refresh-');
  assert.equal(await row(page, keep).locator('input[data-select]').isChecked(), true, 'the selection survives');
  await page.keyboard.press('Escape');
  // Pausing: the toggle says so.
  await page.click('#refresh-toggle');
  assert.equal(await page.getAttribute('#refresh-toggle', 'aria-pressed'), 'false');
  await page.click('#refresh-toggle');
  assert.equal(await page.getAttribute('#refresh-toggle', 'aria-pressed'), 'true');
  await api('DELETE', `/api/agents/${keep}`);
  await api('DELETE', `/api/agents/${late}`);
  await closePage(page);
});

test('filter, sort and page through many agents', async () => {
  // 55 short-lived agents, so there are two pages of 50 (and more besides).
  // In batches, each let finish, so maxAgents (40) is never in the way.
  const made = [];
  for (let i = 0; i < 55; i++) {
    made.push(await deployApi(`page-${String(i).padStart(2, '0')}`, 'true'));
    if (made.length % 11 === 0)
      await until(async () => (await api('GET', '/api/agents?q=page-&status=completed&limit=1')).body.total === made.length, `${made.length} completed`, 30000);
  }
  const page = await openPage();
  await signIn(page, ADMIN);
  await search(page, 'page-');
  await until(async () => /1\D+50\D+55/.test(await page.locator('[data-testid=page-info]').innerText()), 'page info 1–50 of 55');
  assert.equal(await page.locator('#agents tbody tr[data-agent-id]').count(), 50);
  // Sorted by name, ascending: page-00 first; the next page ends at page-54.
  await page.click('button[data-sort=name]');
  await until(async () => (await page.locator('th:has(button[data-sort=name])').getAttribute('aria-sort')) !== 'none', 'sorted');
  if ((await page.locator('th:has(button[data-sort=name])').getAttribute('aria-sort')) !== 'ascending') await page.click('button[data-sort=name]');
  const nameAt = async (n) => (await page.locator(`#agents tbody tr[data-agent-id] td[data-col=name] .agent-name >> nth=${n}`).innerText()).trim();
  await until(async () => (await nameAt(0)) === 'page-00', 'page-00 first');
  await page.click('#page-next');
  await until(async () => (await page.locator('#agents tbody tr[data-agent-id]').count()) === 5, 'the second page');
  assert.equal(await nameAt(4), 'page-54');
  await page.click('#page-prev');
  await until(async () => (await page.locator('#agents tbody tr[data-agent-id]').count()) === 50, 'back to the first page');
  // Filters by status and type.
  await page.selectOption('#filter-status', 'running');
  await page.locator('[data-testid=empty]').waitFor({ state: 'visible' });
  await page.selectOption('#filter-status', 'completed');
  await page.selectOption('#filter-type', 'trader');
  await page.locator('[data-testid=empty]').waitFor({ state: 'visible' });
  await page.selectOption('#filter-type', 'coder');
  await until(async () => (await page.locator('#agents tbody tr[data-agent-id]').count()) === 50, 'coders again');
  await closePage(page);
  for (const id of made) await api('DELETE', `/api/agents/${id}`);
});

test('a tenant sees only its own agents; the admin sees a tenant column', async () => {
  const mine = await deployApi('tenant-own', null, {}, TENANT);
  const theirs = await deployApi('operator-own', null);
  const page = await openPage();
  await signIn(page, TENANT);
  await row(page, mine).waitFor({ state: 'visible' });
  assert.equal(await row(page, theirs).count(), 0);
  assert.equal(await page.locator('td[data-col=tenant]').count(), 0, 'no tenant column for a tenant');
  // Its own cards: its budget (2 USD).
  assert.match(await page.locator('[data-testid=card-budget]').innerText(), /\$?1\.9|\$?2\.0|\$2/);
  await page.click('#signout');
  await page.locator('#signin').waitFor({ state: 'visible' });
  assert.equal(await page.evaluate(() => sessionStorage.getItem('evoclaw.apiKey')), null);
  assert.equal(await page.locator('#agents tbody tr[data-agent-id]').count(), 0, 'signing out clears the data');
  await signIn(page, ADMIN);
  await row(page, mine).waitFor({ state: 'visible' });
  const tenantId = (await api('GET', `/api/agents/${mine}`)).body.tenant;
  assert.match(await row(page, mine).locator('td[data-col=tenant]').innerText(), new RegExp(tenantId));
  await api('DELETE', `/api/agents/${mine}`);
  await api('DELETE', `/api/agents/${theirs}`);
  await closePage(page);
});

test('a key revoked while signed in, and a server out of reach, are shown', async () => {
  const extra = await api('POST', '/api/saas/keys', null, TENANT);
  assert.equal(extra.status, 201);
  const page = await openPage();
  await signIn(page, extra.body.api_key);
  // The network fails: a banner, then it recovers by itself.
  await page.route('**/api/**', (r) => r.abort('connectionrefused'));
  await page.locator('[data-testid=banner]').waitFor({ state: 'visible', timeout: 20000 });
  await page.unroute('**/api/**');
  await page.locator('[data-testid=banner]').waitFor({ state: 'hidden', timeout: 20000 });
  // The key is revoked: back to sign-in, saying why.
  assert.equal((await api('DELETE', `/api/saas/keys/${extra.body.key_id}`, null, TENANT)).status, 204);
  await page.locator('#signin').waitFor({ state: 'visible', timeout: 20000 });
  assert.match(await page.locator('[data-testid=signin-error]').innerText(), /API key rejected/);
  assert.equal(await page.evaluate(() => sessionStorage.getItem('evoclaw.apiKey')), null);
  await closePage(page);
});

test('screenshots at 1280 and 390 px, readable and with spend drawn', async () => {
  const ids = [];
  ids.push(await deployApi('shot-runner', null));
  ids.push(await deployApi('shot-done', 'echo done'));
  ids.push(await deployApi('shot-failed', 'exit 2'));
  // Spend is sampled each second here: the chart has points.
  await until(async () => (await api('GET', '/api/cloud/costs/history?window_sec=3600')).body.points.some((p) => p.spent_usd > 0), 'spend');
  for (const width of [1280, 390]) {
    const page = await openPage({ width, height: width > 400 ? 900 : 844 });
    await signIn(page, ADMIN);
    await until(async () => (await statusOf(page, ids[0])) === 'running', 'running');
    await page.locator('#spend-chart path').first().waitFor({ state: 'attached' });
    assert.equal(await page.locator('[data-testid=chart-empty]').isVisible(), false);
    // Nothing wider than the screen but the table's own scroller.
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 1, `the page is ${overflow} px wider than the window at ${width}`);
    await page.screenshot({ path: `${ARTIFACTS}/dashboard-${width}.png`, fullPage: true, animations: 'disabled' });
    await page.click('#deploy-open');
    await page.locator('#deploy').waitFor({ state: 'visible' });
    const box = await page.locator('#deploy').boundingBox();
    assert.ok(box.width <= width, `the deploy dialog fits at ${width}`);
    await page.screenshot({ path: `${ARTIFACTS}/deploy-${width}.png`, animations: 'disabled' });
    await page.keyboard.press('Escape');
    await row(page, ids[0]).locator('button[data-action=view]').click();
    await page.locator('#detail').waitFor({ state: 'visible' });
    await page.screenshot({ path: `${ARTIFACTS}/detail-${width}.png`, animations: 'disabled' });
    await closePage(page);
  }
  for (const id of ids) await api('DELETE', `/api/agents/${id}`);
});

test('no page error and no console error in any test', () => {
  assert.deepEqual(problems, []);
});
