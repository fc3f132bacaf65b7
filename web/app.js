// evoclaw dashboard: one script, no framework, no build step.
//
// The page holds no data of its own. Everything comes from the API with the
// key the user signs in with (sent as X-API-Key, never a cookie), kept in this
// tab's sessionStorage. Every value from the server reaches the page as text
// (textContent, attributes), never as markup, so names, tasks and logs cannot
// inject anything. The server's Content-Security-Policy forbids inline script
// and style: styling goes through classes, and geometry through the CSSOM.
//
// Sections: constants and DOM helpers · formatting · API client · state ·
// session (sign-in/out) · refresh loop · cards · agents table · selection and
// paging · confirmations and actions · deploy dialog · detail view · log
// follower · spend chart · toasts and banner · wiring.
'use strict';

(() => {
  // ---- constants and DOM helpers ----------------------------------------------

  const KEY_STORAGE = 'evoclaw.apiKey';
  const REFRESH_MS = 5000;
  const PAGE_SIZE = 50;
  const LOG_LINES_KEPT = 2000;
  const LOG_RECONNECT_MS = 3000;
  const SEARCH_DEBOUNCE_MS = 250;
  const BULK_CONCURRENCY = 6;
  // Text columns read best A→Z first; numbers and times largest/newest first.
  const ASCENDING_FIRST = new Set(['name', 'status', 'agent_type']);
  const SORT_LABELS = {
    created_at: 'created', name: 'name', status: 'status', agent_type: 'type',
    tokens_used: 'tokens', cost_usd: 'cost', execution_time_ms: 'run time',
  };
  // Where an agent's sandbox runs (its provider), said in full.
  const PROVIDER_TITLES = { local: 'Runs on this server’s machine (local provider)', e2b: 'Runs on E2B’s cloud (e2b provider)' };
  const RANGE_LABELS = { 3600: 'the last hour', 86400: 'the last 24 hours', 604800: 'the last 7 days' };
  const MASK = '••••••';

  const $ = (selector, root = document) => root.querySelector(selector);
  const $$ = (selector, root = document) => Array.from(root.querySelectorAll(selector));

  // Build an element. `text` sets textContent; other keys are attributes
  // (true → present and empty, false/null → absent). Never innerHTML.
  function el(tag, attrs = {}, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs)) {
      if (name === 'class') node.className = value;
      else if (name === 'text') node.textContent = value;
      else if (value === true) node.setAttribute(name, '');
      else if (value !== false && value !== null && value !== undefined) node.setAttribute(name, String(value));
    }
    for (const child of children) if (child !== null && child !== undefined && child !== false) node.append(child);
    return node;
  }

  // Writes only when the text changes, so refreshes do not disturb a
  // selection of text, a screen reader or layout.
  function setText(node, text) {
    const value = text === null || text === undefined ? '' : String(text);
    if (node.textContent !== value) node.textContent = value;
  }
  function setAttr(node, name, value) {
    if (value === null || value === undefined || value === false) {
      if (node.hasAttribute(name)) node.removeAttribute(name);
    } else if (node.getAttribute(name) !== String(value)) {
      node.setAttribute(name, String(value));
    }
  }
  function setHidden(node, hidden) {
    if (node.hidden !== hidden) node.hidden = hidden;
  }

  function debounce(fn, ms) {
    let timer = null;
    return (...args) => {
      clearTimeout(timer);
      timer = setTimeout(() => fn(...args), ms);
    };
  }

  // ---- formatting ----------------------------------------------------------------

  const integerFormat = new Intl.NumberFormat('en-US');
  const formatInt = (n) => integerFormat.format(Math.round(Number(n) || 0));

  // $0.0123 below a dollar (agents cost fractions of a cent), else $12.34.
  function formatMoney(value) {
    const n = Number(value) || 0;
    if (Math.abs(n) < 1) return `$${n.toFixed(4)}`;
    return `$${n.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
  }

  // 850 ms · 42s · 1m 05s · 2h 03m · 3d 04h.
  function formatDuration(ms) {
    if (ms === null || ms === undefined) return '—';
    const n = Math.max(0, Number(ms) || 0);
    if (n < 1000) return `${Math.round(n)} ms`;
    const seconds = Math.floor(n / 1000);
    if (seconds < 60) return `${seconds}s`;
    const minutes = Math.floor(seconds / 60);
    if (minutes < 60) return `${minutes}m ${pad2(seconds % 60)}s`;
    const hours = Math.floor(minutes / 60);
    if (hours < 24) return `${hours}h ${pad2(minutes % 60)}m`;
    return `${Math.floor(hours / 24)}d ${pad2(hours % 24)}h`;
  }

  const pad2 = (n) => String(n).padStart(2, '0');

  // Local hh:mm:ss, whatever the browser's locale (24-hour, no AM/PM).
  function formatClock(value) {
    const d = value instanceof Date ? value : new Date(value);
    if (Number.isNaN(d.getTime())) return '—';
    return `${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`;
  }

  // hh:mm:ss for today; "Nov 21, hh:mm:ss" otherwise (a week of agents
  // would be ambiguous by the clock alone).
  function formatWhen(iso) {
    const d = new Date(iso);
    if (!iso || Number.isNaN(d.getTime())) return '—';
    const today = new Date();
    const sameDay = d.toDateString() === today.toDateString();
    return sameDay ? formatClock(d) : `${d.toLocaleDateString('en-US', { month: 'short', day: 'numeric' })}, ${formatClock(d)}`;
  }

  // A <time> whose title is the full ISO timestamp.
  function timeElement(iso, text = formatWhen(iso)) {
    return el('time', { datetime: iso || null, title: iso || null, text });
  }

  const plural = (n, one, many = `${one}s`) => `${formatInt(n)} ${n === 1 ? one : many}`;
  const isFinished = (agent) => agent.status === 'completed' || agent.status === 'failed';

  // ---- API client ------------------------------------------------------------------

  // An answer that is not 2xx, with the API's error code, message and field.
  class ApiError extends Error {
    constructor(status, code, message, field) {
      super(message);
      this.name = 'ApiError';
      this.status = status;
      this.code = code;
      this.field = field || null;
    }
  }
  // The server could not be reached at all (fetch threw): not an HTTP error.
  class NetworkError extends Error {
    constructor(message) {
      super(message);
      this.name = 'NetworkError';
    }
  }
  const isAbort = (e) => e && e.name === 'AbortError';

  // One signal that aborts when any of `signals` does (sign-out aborts every
  // request of the session; closing the detail view aborts its own).
  function anySignal(signals) {
    const list = signals.filter(Boolean);
    if (list.length <= 1) return list[0];
    if (typeof AbortSignal.any === 'function') return AbortSignal.any(list);
    const controller = new AbortController();
    for (const s of list) {
      if (s.aborted) { controller.abort(); break; }
      s.addEventListener('abort', () => controller.abort(), { once: true });
    }
    return controller.signal;
  }

  // A raw request with the key. `key` defaults to the session's; a request
  // made with an explicit key (the sign-in check) belongs to no session.
  async function apiFetch(path, { method = 'GET', body, key, signal } = {}) {
    const useSession = key === undefined;
    const headers = { 'X-API-Key': useSession ? state.key : key };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    try {
      return await fetch(path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        cache: 'no-store',
        credentials: 'omit',
        signal: anySignal([useSession && state.session ? state.session.signal : null, signal]),
      });
    } catch (e) {
      if (isAbort(e)) throw e;
      throw new NetworkError(e.message || 'network error');
    }
  }

  // A JSON request. Errors become ApiError; a 401 on the session's key (it
  // was revoked or rotated while signed in) signs the tab out, saying why.
  async function apiJson(path, options = {}) {
    const res = await apiFetch(path, options);
    let data = null;
    const text = await res.text();
    try { data = text ? JSON.parse(text) : null; } catch { data = null; }
    if (res.ok) return data;
    const err = (data && data.error) || {};
    const error = new ApiError(res.status, err.code || 'error', err.message || `HTTP ${res.status}`, err.field);
    if (res.status === 401 && options.key === undefined && state.key) expireSession(error.message);
    throw error;
  }

  // Query string without empty parameters (the API wants them omitted).
  function queryString(params) {
    const q = new URLSearchParams();
    for (const [name, value] of Object.entries(params)) {
      if (value !== '' && value !== null && value !== undefined) q.set(name, String(value));
    }
    return q.toString();
  }

  const agentPath = (id) => `/api/agents/${encodeURIComponent(id)}`;

  // ---- state -----------------------------------------------------------------------

  const state = {
    key: null,
    session: null, // AbortController of the signed-in session
    caller: null,
    summary: null,
    agents: [], // the page shown, in order
    total: 0,
    loaded: false, // a first page has arrived (no "empty" flash before it)
    offset: 0,
    filters: { status: '', type: '', q: '' },
    sort: 'created_at',
    order: 'desc',
    selected: new Set(),
    showTenant: false,
    listTicket: 0, // only the newest list request is drawn
    autoRefresh: true,
    timer: null,
    refreshing: false,
    refreshAgain: false,
    serverDown: false,
    lastRefreshError: '',
    updatedAt: null,
    templates: null, // loaded once a session, when the deploy dialog first opens
    detail: null, // { id, controller, agent, log }
    chart: { range: 3600, points: [], geometry: null, active: -1 },
  };

  // ---- session: sign-in and sign-out ------------------------------------------------

  // Checks the key with GET /api/summary before anything is kept or shown.
  async function signIn(key) {
    const error = $('[data-testid=signin-error]');
    setHidden(error, true);
    if (!key) {
      showSigninError('Enter an API key.');
      $('#api-key').focus();
      return;
    }
    const button = $('#signin-submit');
    button.disabled = true;
    setText(button, 'Checking key…');
    try {
      const summary = await apiJson('/api/summary', { key });
      startSession(key, summary);
      // The form is gone: keyboard navigation starts at the top of the page.
      $('#main').focus();
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) showSigninError(`API key rejected: ${e.message}`);
      else if (e instanceof NetworkError) showSigninError('Cannot reach the evoclaw server. Check that it is running, then try again.');
      else showSigninError(`Sign-in failed: ${e.message}`);
      $('#api-key').select();
    } finally {
      button.disabled = false;
      setText(button, 'Sign in');
    }
  }

  function showSigninError(message) {
    const error = $('[data-testid=signin-error]');
    error.textContent = message;
    setHidden(error, false);
  }

  function startSession(key, summary) {
    state.key = key;
    state.session = new AbortController();
    sessionStorage.setItem(KEY_STORAGE, key);
    $('#api-key').value = '';
    setHidden($('[data-testid=signin-error]'), true);
    setHidden($('#signin-view'), true);
    setHidden($('#app-view'), false);
    setHidden($('#session'), false);
    if (summary) applySummary(summary);
    refreshAll();
  }

  // A key kept from earlier in this tab: show the (empty) shell at once and
  // let the refresh loop fill it, show the banner or sign out on a 401.
  function resumeSession(key) {
    startSession(key, null);
  }

  function expireSession(message) {
    signOut(`API key rejected: ${message}. Sign in again with a valid key.`);
  }

  // Forget the key and everything it showed: no data stays in the DOM.
  function signOut(reason) {
    sessionStorage.removeItem(KEY_STORAGE);
    if (state.session) state.session.abort();
    clearTimeout(state.timer);
    Object.assign(state, {
      key: null, session: null, caller: null, summary: null, agents: [], total: 0, loaded: false,
      offset: 0, filters: { status: '', type: '', q: '' }, sort: 'created_at', order: 'desc',
      showTenant: false, timer: null, refreshing: false, refreshAgain: false, serverDown: false,
      lastRefreshError: '', updatedAt: null, templates: null, autoRefresh: true,
    });
    state.selected.clear();
    state.chart.points = [];
    state.chart.geometry = null;
    closeDetail();
    for (const dialog of $$('dialog')) if (dialog.open) dialog.close();
    clearAllData();
    setHidden($('#app-view'), true);
    setHidden($('#session'), true);
    setHidden($('#signin-view'), false);
    if (reason) showSigninError(reason);
    else setHidden($('[data-testid=signin-error]'), true);
    $('#api-key').focus();
  }

  function clearAllData() {
    // The table, cards and chart.
    $('#agents tbody').replaceChildren();
    for (const node of $$('.metric .value, .metric .metric-sub')) node.textContent = '';
    $('[data-testid=card-budget] .meter-fill').style.width = '0';
    $('#spend-chart').replaceChildren();
    for (const id of ['#chart-summary', '#agents-sub', '[data-testid=page-info]', '[data-testid=updated-at]', '#who', '#scope-text', '#chart-tip']) {
      $(id).textContent = '';
    }
    setHidden($('#who'), true);
    setHidden($('#chart-tip'), true);
    setHidden($('#chart-legend'), true);
    setHidden($('[data-testid=chart-empty]'), true);
    setHidden($('[data-testid=empty]'), true);
    setHidden($('[data-testid=banner]'), true);
    setText($('[data-testid=selection-count]'), '0 selected');
    $('#select-all').checked = false;
    $('#select-all').indeterminate = false;
    $('#bulk-terminate').disabled = true;
    $('#bulk-destroy').disabled = true;
    $('#page-prev').disabled = true;
    $('#page-next').disabled = true;
    // Filters and sort go back to their defaults for whoever signs in next.
    $('#search').value = '';
    $('#filter-status').value = '';
    $('#filter-type').value = '';
    renderSortHeaders();
    clearDetailView();
    resetDeployForm();
    $('#deploy-template').replaceChildren(el('option', { value: '', text: 'Server default' }));
    setText($('#template-hint'), '');
    $('#confirm-text').textContent = '';
    const toast = $('[data-testid=toast]');
    toast.textContent = '';
    toast.classList.remove('show', 'error');
    const updated = $('[data-testid=updated-at]');
    updated.classList.remove('stale', 'paused');
    updated.removeAttribute('title');
    setAttr($('#refresh-toggle'), 'aria-pressed', 'true');
  }

  // ---- refresh loop ------------------------------------------------------------------

  // One round: the cards, the table page, the chart and an open detail view,
  // side by side. Rounds never overlap: a call during one queues the next.
  async function refreshAll() {
    if (!state.key) return;
    if (state.refreshing) {
      state.refreshAgain = true;
      return;
    }
    clearTimeout(state.timer);
    state.timer = null;
    state.refreshing = true;
    const session = state.session;
    const results = await Promise.allSettled([loadSummary(), loadAgents(), loadChart(), refreshDetail()]);
    if (session !== state.session) return; // signed out meanwhile
    state.refreshing = false;
    const errors = results.filter((r) => r.status === 'rejected' && !isAbort(r.reason)).map((r) => r.reason);
    const down = errors.some((e) => e instanceof NetworkError);
    setServerDown(down);
    if (!down) {
      state.updatedAt = new Date();
      renderUpdatedAt();
    }
    // Other failures (a 500, a 503) are said once, not every 5 s.
    const other = errors.find((e) => e instanceof ApiError && e.status !== 401);
    const message = other ? other.message : '';
    if (message && message !== state.lastRefreshError) toast(`Refresh failed: ${message}`, true);
    state.lastRefreshError = message;
    if (state.refreshAgain) {
      state.refreshAgain = false;
      refreshAll();
    } else {
      scheduleRefresh();
    }
  }

  // The next round in REFRESH_MS while auto-refresh is on, and also while
  // the server is away even when paused (the banner promises a retry).
  function scheduleRefresh() {
    clearTimeout(state.timer);
    state.timer = null;
    if (state.key && (state.autoRefresh || state.serverDown)) state.timer = setTimeout(refreshAll, REFRESH_MS);
  }

  function setAutoRefresh(on) {
    state.autoRefresh = on;
    setAttr($('#refresh-toggle'), 'aria-pressed', String(on));
    renderUpdatedAt();
    if (on) refreshAll();
    else scheduleRefresh();
  }

  function renderUpdatedAt() {
    const node = $('[data-testid=updated-at]');
    if (!state.updatedAt) {
      setText(node, state.autoRefresh ? '' : 'Paused');
      return;
    }
    const clock = formatClock(state.updatedAt);
    setText(node, state.autoRefresh ? `Updated ${clock}` : `Paused · updated ${clock}`);
    setAttr(node, 'title', state.updatedAt.toISOString());
    node.classList.toggle('paused', !state.autoRefresh);
  }

  // ---- metric cards ---------------------------------------------------------------------

  async function loadSummary() {
    const session = state.session;
    const summary = await apiJson('/api/summary');
    if (session === state.session) applySummary(summary);
  }

  function applySummary(s) {
    const adminBefore = state.caller && state.caller.admin;
    state.summary = s;
    state.caller = s.caller || { admin: false, tenant: null };
    renderCaller();
    const a = s.agents || {};
    setCard('card-sandboxes', formatInt(s.sandboxes_total), `${plural(a.total || 0, 'agent')} on record`);
    setCard('card-active', formatInt(s.active_agents),
      `${formatInt(a.running)} running · ${formatInt(a.pending)} pending${s.max_agents ? ` · limit ${formatInt(s.max_agents)}` : ''}`);
    setCard('card-tokens', formatInt(s.tokens_used), `${formatInt(a.completed)} completed · ${formatInt(a.failed)} failed`);
    setCard('card-cost', formatMoney(s.total_spent_usd), `${formatMoney(s.committed_usd)} committed`);
    const budget = Number(s.budget_usd) || 0;
    const used = budget > 0 ? Math.min(1, Math.max(0, (budget - (Number(s.remaining_usd) || 0)) / budget)) : 0;
    setCard('card-budget', formatMoney(s.remaining_usd), budget > 0 ? `of ${formatMoney(budget)} · ${Math.round(used * 100)}% used` : 'no budget set');
    const fill = $('[data-testid=card-budget] .meter-fill');
    fill.style.width = `${(used * 100).toFixed(1)}%`;
    fill.classList.toggle('warn', used >= 0.75 && used < 0.9);
    fill.classList.toggle('bad', used >= 0.9);
    // The budget line of the chart follows the latest summary.
    if (state.chart.points.length && budget !== state.chart.budget) drawChart();
    state.chart.budget = budget;
    // The tenant column depends on who the caller is.
    if (Boolean(state.caller.admin) !== Boolean(adminBefore) && state.loaded) renderAgents();
  }

  function setCard(testid, value, sub) {
    const card = $(`[data-testid=${testid}]`);
    setText($('.value', card), value);
    setText($('.metric-sub', card), sub);
  }

  function renderCaller() {
    const who = $('#who');
    const c = state.caller;
    setText(who, c.admin ? 'Admin' : `Tenant ${c.tenant || ''}`.trim());
    who.classList.toggle('who-admin', Boolean(c.admin));
    setHidden(who, false);
    setText($('#scope-text'), c.admin
      ? 'Every agent, sandbox and dollar on this orchestrator.'
      : `Your tenant’s agents, spend and limits (${c.tenant}).`);
  }

  // ---- agents table -------------------------------------------------------------------------

  function listQuery() {
    return queryString({
      limit: PAGE_SIZE, offset: state.offset, status: state.filters.status, type: state.filters.type,
      q: state.filters.q, sort: state.sort, order: state.order,
    });
  }

  // Fetch the page the filters, sort and offset name, and draw it. A newer
  // request (the user typed again) makes an older answer moot.
  async function loadAgents() {
    const ticket = ++state.listTicket;
    const session = state.session;
    $('#agents').setAttribute('aria-busy', 'true');
    let data;
    try {
      data = await apiJson(`/api/agents?${listQuery()}`);
    } finally {
      if (ticket === state.listTicket) $('#agents').removeAttribute('aria-busy');
    }
    if (ticket !== state.listTicket || session !== state.session) return;
    // Past the end (agents destroyed meanwhile): go to the last page there is.
    if (data.agents.length === 0 && data.total > 0 && state.offset > 0) {
      state.offset = Math.floor((data.total - 1) / PAGE_SIZE) * PAGE_SIZE;
      await loadAgents();
      return;
    }
    state.agents = data.agents;
    state.total = data.total;
    state.loaded = true;
    renderAgents();
  }

  // Filters, search, sort and paging ask the server again at once.
  function reloadAgents() {
    loadAgents().catch(handleError);
  }

  // Rows are kept and updated in place by agent id: a refresh does not take
  // focus away, reset a checkbox being clicked or move the scroll position.
  function renderAgents() {
    const tenantColumn = Boolean(state.caller && state.caller.admin && state.agents.some((a) => a.tenant));
    if (tenantColumn !== state.showTenant) {
      state.showTenant = tenantColumn;
      setHidden($('#agents th.col-tenant'), !tenantColumn);
    }
    const tbody = $('#agents tbody');
    const existing = new Map($$('tr[data-agent-id]', tbody).map((tr) => [tr.dataset.agentId, tr]));
    let previous = null;
    for (const agent of state.agents) {
      let tr = existing.get(agent.id);
      existing.delete(agent.id);
      // A row made before the tenant column came or went is made again.
      if (tr && tr.dataset.tenantColumn !== String(state.showTenant)) {
        tr.remove();
        tr = null;
      }
      if (!tr) tr = buildRow(agent);
      fillRow(tr, agent);
      // Move a row only when it is out of place, so a focused row stays put.
      const wanted = previous ? previous.nextElementSibling : tbody.firstElementChild;
      if (wanted !== tr) tbody.insertBefore(tr, wanted);
      previous = tr;
    }
    for (const tr of existing.values()) tr.remove();
    renderEmptyState();
    renderPager();
    renderSelection();
    renderSortHeaders();
  }

  // A row's cells, made once; fillRow writes what changes.
  function buildRow(agent) {
    const tr = el('tr', { 'data-agent-id': agent.id });
    tr.dataset.tenantColumn = String(state.showTenant);
    const cells = [
      el('td', { class: 'col-select' }, el('input', { type: 'checkbox', 'data-select': true })),
      // Under the name: its type, and where it runs (local or e2b).
      el('td', { 'data-col': 'name' }, el('span', { class: 'agent-name' }),
        el('span', { class: 'agent-meta' }, el('span', { class: 'agent-type' }), el('span', { class: 'provider-tag', 'data-testid': 'provider' }))),
      state.showTenant ? el('td', { 'data-col': 'tenant' }, el('span', { class: 'mono' })) : null,
      el('td', { 'data-col': 'status' }, el('span', { class: 'badge' })),
      el('td', { 'data-col': 'sandbox' }, el('span', { class: 'mono truncate' })),
      el('td', { 'data-col': 'task' }, el('span', { class: 'task-text' })),
      el('td', { 'data-col': 'tokens', class: 'num' }),
      el('td', { 'data-col': 'runtime', class: 'num' }),
      el('td', { 'data-col': 'cost', class: 'num' }),
      el('td', { 'data-col': 'created' }, el('time', {}, el('span', { class: 'clock' }), el('span', { class: 'date' }))),
      // Terminate and Destroy are icons (with their name as text for
      // assistive tech and a tooltip) so the row fits 1280 px.
      el('td', { 'data-col': 'actions' }, el('div', { class: 'row-actions' },
        el('button', { type: 'button', class: 'btn btn-sm', 'data-action': 'view', text: 'View' }),
        el('button', { type: 'button', class: 'icon-btn row-icon', 'data-action': 'terminate', title: 'Terminate' },
          stopIcon(), el('span', { class: 'sr-only', text: 'Terminate' })),
        el('button', { type: 'button', class: 'icon-btn row-icon danger', 'data-action': 'destroy', title: 'Destroy' },
          trashIcon(), el('span', { class: 'sr-only', text: 'Destroy' })))),
    ];
    tr.append(...cells.filter(Boolean));
    return tr;
  }

  function fillRow(tr, a) {
    const cell = (col) => tr.querySelector(`td[data-col=${col}]`);
    const name = cell('name');
    setText(name.firstChild, a.name);
    setText(name.querySelector('.agent-type'), a.agent_type);
    const provider = name.querySelector('.provider-tag');
    setText(provider, a.provider || '');
    setHidden(provider, !a.provider);
    setAttr(provider, 'data-provider', a.provider || null);
    setAttr(provider, 'title', PROVIDER_TITLES[a.provider] || (a.provider ? `${a.provider} provider` : null));
    if (state.showTenant) {
      const tenant = cell('tenant').firstChild;
      setText(tenant, a.tenant || '—');
      setAttr(tenant, 'title', a.tenant ? `tenant ${a.tenant}` : 'the operator’s own');
    }
    const badge = cell('status').firstChild;
    setText(badge, a.status);
    const badgeClass = `badge badge-${a.status}`;
    if (badge.className !== badgeClass) badge.className = badgeClass;
    setAttr(badge, 'title', stopReasonText(a) || null);
    const sandbox = cell('sandbox').firstChild;
    setText(sandbox, a.sandbox_id || '—');
    setAttr(sandbox, 'title', a.sandbox_id || null);
    const task = cell('task').firstChild;
    setText(task, a.task_description || '—');
    setAttr(task, 'title', a.task_description || null);
    task.classList.toggle('muted', !a.task_description);
    setText(cell('tokens'), formatInt(a.tokens_used));
    setText(cell('runtime'), a.status === 'pending' && !a.execution_time_ms ? '—' : formatDuration(a.execution_time_ms));
    setText(cell('cost'), formatMoney(a.cost_usd));
    fillCreated(cell('created').firstChild, a.created_at);
    const finished = isFinished(a);
    const terminate = tr.querySelector('[data-action=terminate]');
    if (terminate.disabled !== finished) terminate.disabled = finished;
    setAttr(terminate, 'title', finished ? 'Already finished' : 'Terminate');
    setAttr(tr.querySelector('[data-action=view]'), 'aria-label', `View ${a.name}`);
    setAttr(terminate, 'aria-label', `Terminate ${a.name}`);
    setAttr(tr.querySelector('[data-action=destroy]'), 'aria-label', `Destroy ${a.name}`);
    const box = tr.querySelector('input[data-select]');
    setAttr(box, 'aria-label', `Select ${a.name}`);
    const checked = state.selected.has(a.id);
    if (box.checked !== checked) box.checked = checked;
    tr.classList.toggle('selected', checked);
  }

  // The clock on top, the day below ("today" or "Nov 21"), ISO as title.
  function fillCreated(time, iso) {
    const d = new Date(iso);
    const valid = iso && !Number.isNaN(d.getTime());
    setText(time.firstChild, valid ? formatClock(d) : '—');
    const sameDay = valid && d.toDateString() === new Date().toDateString();
    setText(time.lastChild, !valid ? '' : sameDay ? 'today' : d.toLocaleDateString('en-US', { month: 'short', day: 'numeric' }));
    setAttr(time, 'datetime', valid ? iso : null);
    setAttr(time, 'title', valid ? iso : null);
  }

  // "terminated", "exited · exit code 0", "error · exit code 3".
  function stopReasonText(a) {
    const parts = [];
    if (a.stop_reason) parts.push(a.stop_reason);
    if (a.exit_code !== null && a.exit_code !== undefined) parts.push(`exit code ${a.exit_code}`);
    return parts.join(' · ');
  }

  const hasFilters = () => Boolean(state.filters.status || state.filters.type || state.filters.q);

  function renderEmptyState() {
    const empty = $('[data-testid=empty]');
    setHidden(empty, !state.loaded || state.agents.length > 0);
    const filtered = hasFilters();
    setText($('#empty-title'), filtered ? 'No agents match these filters' : 'No agents yet — deploy one');
    setText($('#empty-hint'), filtered ? 'Try another status, type or name.' : 'Agents you deploy appear here, live.');
    setText($('#empty-action'), filtered ? 'Clear filters' : 'Deploy agent');
  }

  function renderPager() {
    const first = state.total ? state.offset + 1 : 0;
    const last = state.offset + state.agents.length;
    setText($('[data-testid=page-info]'), state.total
      ? `${formatInt(first)}–${formatInt(last)} of ${formatInt(state.total)}`
      : '0 agents');
    $('#page-prev').disabled = state.offset === 0;
    $('#page-next').disabled = last >= state.total;
    const order = state.order === 'asc' ? 'ascending' : 'descending';
    setText($('#agents-sub'), `${plural(state.total, 'agent')}${hasFilters() ? ' match' : ''} · sorted by ${SORT_LABELS[state.sort]}, ${order}`);
  }

  // aria-sort goes on the <th>; the Name header holds two buttons (name
  // and type), so it is sorted when either is. The arrow follows the button.
  function renderSortHeaders() {
    const order = state.order === 'asc' ? 'ascending' : 'descending';
    for (const th of $$('#agents thead th')) {
      const buttons = $$('button[data-sort]', th);
      if (!buttons.length) continue;
      setAttr(th, 'aria-sort', buttons.some((b) => b.dataset.sort === state.sort) ? order : 'none');
      for (const b of buttons) setAttr(b, 'data-order', b.dataset.sort === state.sort ? state.order : null);
    }
  }

  function sortBy(column) {
    if (state.sort === column) state.order = state.order === 'asc' ? 'desc' : 'asc';
    else {
      state.sort = column;
      state.order = ASCENDING_FIRST.has(column) ? 'asc' : 'desc';
    }
    state.offset = 0;
    renderSortHeaders();
    reloadAgents();
  }

  // A new query (filter, search, sort) starts at the first page; what was
  // selected stays selected (the bulk bar says how many).
  function setFilter(name, value) {
    if (state.filters[name] === value) return;
    state.filters[name] = value;
    state.offset = 0;
    reloadAgents();
  }

  function clearFilters() {
    $('#search').value = '';
    $('#filter-status').value = '';
    $('#filter-type').value = '';
    state.filters = { status: '', type: '', q: '' };
    state.offset = 0;
    reloadAgents();
  }

  function goToPage(delta) {
    const next = state.offset + delta * PAGE_SIZE;
    if (next < 0 || next >= state.total) return;
    state.offset = next;
    reloadAgents();
    // A new page is read from its top: bring the table's head into view.
    const panel = $('#agents').closest('.panel');
    if (panel.getBoundingClientRect().top < 0) panel.scrollIntoView({ block: 'start' });
  }

  // ---- selection -----------------------------------------------------------------------------

  // The selection is a set of agent ids. It survives refreshes (rows are
  // updated, not rebuilt) and is cleared by a bulk action or a destroy.
  function renderSelection() {
    const n = state.selected.size;
    setText($('[data-testid=selection-count]'), `${formatInt(n)} selected`);
    $('[data-testid=selection-count]').classList.toggle('has-selection', n > 0);
    $('#bulk-terminate').disabled = n === 0;
    $('#bulk-destroy').disabled = n === 0;
    const onPage = state.agents.filter((a) => state.selected.has(a.id)).length;
    const all = $('#select-all');
    all.checked = onPage > 0 && onPage === state.agents.length;
    all.indeterminate = onPage > 0 && onPage < state.agents.length;
  }

  function selectRow(tr, checked) {
    if (checked) state.selected.add(tr.dataset.agentId);
    else state.selected.delete(tr.dataset.agentId);
    tr.classList.toggle('selected', checked);
    renderSelection();
  }

  function selectPage(checked) {
    for (const a of state.agents) {
      if (checked) state.selected.add(a.id);
      else state.selected.delete(a.id);
    }
    for (const tr of $$('#agents tbody tr[data-agent-id]')) {
      const on = state.selected.has(tr.dataset.agentId);
      tr.querySelector('input[data-select]').checked = on;
      tr.classList.toggle('selected', on);
    }
    renderSelection();
  }

  // ---- confirmations --------------------------------------------------------------------------

  let confirmResolve = null;

  // Ask in the #confirm dialog; resolves true for OK, false for Cancel,
  // Escape or closing. Focus starts on Cancel: Enter alone destroys nothing.
  function confirmAction({ title, text, ok }) {
    const dialog = $('#confirm');
    setText($('#confirm-title'), title);
    setText($('#confirm-text'), text);
    setText($('#confirm-ok'), ok);
    if (confirmResolve) confirmResolve(false);
    return new Promise((resolve) => {
      confirmResolve = resolve;
      dialog.returnValue = '';
      openDialog(dialog);
      $('#confirm-cancel').focus();
    });
  }

  function onConfirmClosed() {
    const resolve = confirmResolve;
    confirmResolve = null;
    if (resolve) resolve($('#confirm').returnValue === 'ok');
  }

  // ---- actions on agents ------------------------------------------------------------------------

  const terminateAgent = (id) => apiJson(`${agentPath(id)}?terminate_only=true`, { method: 'DELETE' });
  const destroyAgent = (id) => apiJson(agentPath(id), { method: 'DELETE' });

  function describeAction(action, name) {
    return action === 'terminate'
      ? { title: `Terminate ${name}?`, text: 'The agent is stopped now. Its record, usage and logs are kept.', ok: 'Terminate' }
      : { title: `Destroy ${name}?`, text: 'The sandbox is stopped and the record and logs are deleted. This cannot be undone.', ok: 'Destroy' };
  }

  async function actOn(action, id) {
    const known = state.agents.find((a) => a.id === id) || (state.detail && state.detail.agent && state.detail.agent.id === id ? state.detail.agent : null);
    const name = known ? known.name : id;
    if (!(await confirmAction(describeAction(action, name)))) return;
    try {
      if (action === 'terminate') {
        const agent = await terminateAgent(id);
        if (agent && agent.id) replaceAgent(agent);
        toast(`Terminated ${name}`);
      } else {
        await destroyAgent(id);
        forgetAgent(id);
        toast(`Destroyed ${name}`);
      }
    } catch (e) {
      if (e instanceof ApiError && e.status === 409) toast(`${name} has already finished.`, true);
      else if (e instanceof ApiError && e.status === 404) { forgetAgent(id); toast(`${name} no longer exists.`, true); }
      else handleError(e);
    }
    refreshAll();
  }

  // Show a changed agent (from a DELETE answer) before the next refresh.
  function replaceAgent(agent) {
    const i = state.agents.findIndex((a) => a.id === agent.id);
    if (i >= 0) {
      state.agents[i] = agent;
      renderAgents();
    }
    if (state.detail && state.detail.id === agent.id) renderDetail({ ...state.detail.agent, ...agent });
  }

  // A destroyed agent leaves the table, the selection and the detail view.
  function forgetAgent(id) {
    const before = state.agents.length;
    state.agents = state.agents.filter((a) => a.id !== id);
    if (state.agents.length !== before) state.total = Math.max(0, state.total - 1);
    state.selected.delete(id);
    renderAgents();
    if (state.detail && state.detail.id === id) $('#detail').close();
  }

  // Terminate or destroy every selected agent after one confirmation, a few
  // at a time, and say how many succeeded and failed.
  async function bulk(action) {
    const ids = [...state.selected];
    if (ids.length === 0) return;
    const count = plural(ids.length, 'agent');
    const ok = await confirmAction(action === 'terminate'
      ? { title: `Terminate ${count}?`, text: 'They are stopped now. Their records, usage and logs are kept. Agents that have already finished are skipped.', ok: `Terminate ${count}` }
      : { title: `Destroy ${count}?`, text: 'Their sandboxes are stopped and their records and logs are deleted. This cannot be undone.', ok: `Destroy ${count}` });
    if (!ok) return;
    const verb = action === 'terminate' ? 'Terminating' : 'Destroying';
    toast(`${verb} ${count}…`);
    const outcome = { done: 0, skipped: 0, failed: 0, firstError: '' };
    const queue = ids.slice();
    const worker = async () => {
      while (queue.length && state.key) {
        const id = queue.shift();
        try {
          if (action === 'terminate') await terminateAgent(id);
          else await destroyAgent(id);
          outcome.done++;
          if (action === 'destroy') state.selected.delete(id);
        } catch (e) {
          if (e instanceof ApiError && e.status === 401) return;
          if (action === 'terminate' && e instanceof ApiError && e.status === 409) outcome.skipped++;
          else {
            outcome.failed++;
            outcome.firstError = outcome.firstError || e.message;
          }
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(BULK_CONCURRENCY, ids.length) }, worker));
    if (!state.key) return;
    const past = action === 'terminate' ? 'Terminated' : 'Destroyed';
    let message = `${past} ${formatInt(outcome.done)} of ${count}`;
    if (outcome.skipped) message += ` · ${formatInt(outcome.skipped)} already finished`;
    if (outcome.failed) message += ` · ${formatInt(outcome.failed)} failed (${outcome.firstError})`;
    toast(message, outcome.failed > 0);
    state.selected.clear();
    renderSelection();
    refreshAll();
  }

  function handleError(e) {
    if (isAbort(e)) return;
    if (e instanceof NetworkError) setServerDown(true);
    else if (e instanceof ApiError && e.status === 401) return; // signed out already
    else toast(e.message, true);
  }

  // ---- dialogs (shared) ------------------------------------------------------------------------------

  // Focus goes back where it was when a dialog closes (or to the table when
  // that control is gone, e.g. the row of a destroyed agent).
  const dialogOpeners = new WeakMap();
  function openDialog(dialog) {
    if (!dialog.open) {
      dialogOpeners.set(dialog, document.activeElement);
      dialog.showModal();
    }
  }
  function restoreFocus(dialog) {
    const opener = dialogOpeners.get(dialog);
    dialogOpeners.delete(dialog);
    if (!state.key) return;
    const usable = opener && opener.isConnected && !opener.disabled && opener !== document.body && !opener.closest('dialog:not([open])');
    if (usable) opener.focus();
    else if (!$('dialog[open]')) $('#table-wrap').focus();
  }

  // ---- deploy dialog -----------------------------------------------------------------------------------

  function openDeploy() {
    clearDeployErrors();
    openDialog($('#deploy'));
    $('#deploy-name').focus();
    loadTemplates();
  }

  // The template list, once a session (templates change with a server restart).
  async function loadTemplates() {
    if (state.templates) return;
    try {
      const data = await apiJson('/api/templates');
      state.templates = data.templates || [];
      const select = $('#deploy-template');
      const chosen = select.value;
      select.replaceChildren(el('option', { value: '', text: 'Server default' }),
        ...state.templates.map((t) => el('option', { value: t.name, text: t.name })));
      select.value = state.templates.some((t) => t.name === chosen) ? chosen : '';
      renderTemplateHint();
    } catch (e) {
      if (e instanceof NetworkError) showDeployError('Cannot reach the evoclaw server to list templates; the server default is used.');
      else handleError(e);
    }
  }

  function renderTemplateHint() {
    const name = $('#deploy-template').value;
    const t = (state.templates || []).find((x) => x.name === name);
    setText($('#template-hint'), t
      ? `${t.description ? `${t.description} · ` : ''}${t.vcpu} vCPU · ${formatInt(t.memory_mb)} MB RAM · ${formatInt(t.disk_mb)} MB disk`
      : 'The server’s default template.');
  }

  // One key/value row. Values are masked like passwords, with a toggle.
  function addEnvRow() {
    const index = $$('#env-rows .env-row').length + 1;
    const value = el('input', { class: 'env-value', type: 'password', placeholder: 'value', autocomplete: 'off', spellcheck: 'false', 'aria-label': `Value of variable ${index}` });
    const reveal = el('button', { type: 'button', class: 'icon-btn reveal', 'aria-pressed': 'false', 'aria-label': `Show value of variable ${index}`, title: 'Show value' }, eyeIcon());
    const remove = el('button', { type: 'button', class: 'icon-btn env-remove', 'aria-label': `Remove variable ${index}`, title: 'Remove' }, closeIcon());
    const row = el('div', { class: 'env-row' },
      el('input', { class: 'env-key mono', placeholder: 'NAME', autocomplete: 'off', spellcheck: 'false', autocapitalize: 'characters', 'aria-label': `Name of variable ${index}` }),
      el('div', { class: 'secret' }, value, reveal),
      remove);
    reveal.addEventListener('click', () => {
      const show = value.type === 'password';
      value.type = show ? 'text' : 'password';
      reveal.setAttribute('aria-pressed', String(show));
      reveal.title = show ? 'Hide value' : 'Show value';
    });
    remove.addEventListener('click', () => removeEnvRow(row));
    $('#env-rows').append(row);
    return row;
  }

  // There is always one row to type in; focus moves to a neighbour.
  function removeEnvRow(row) {
    const next = row.nextElementSibling || row.previousElementSibling;
    row.remove();
    if (!$('#env-rows .env-row')) addEnvRow().querySelector('.env-key').focus();
    else if (next) next.querySelector('.env-key').focus();
    clearFieldError('environment');
  }

  function svgIcon(paths) {
    const svg = document.createElementNS(SVG_NS, 'svg');
    svg.setAttribute('viewBox', '0 0 16 16');
    svg.setAttribute('class', 'icon');
    svg.setAttribute('aria-hidden', 'true');
    svg.setAttribute('focusable', 'false');
    for (const d of paths) svg.append(svgEl('path', { d, fill: 'none', stroke: 'currentColor', 'stroke-width': 1.5, 'stroke-linecap': 'round', 'stroke-linejoin': 'round' }));
    return svg;
  }
  const stopIcon = () => svgIcon(['M8 1.75a6.25 6.25 0 1 0 0 12.5 6.25 6.25 0 0 0 0-12.5Z', 'M6 6h4v4H6Z']);
  const trashIcon = () => svgIcon(['M2.75 4.25h10.5', 'M6.25 4.25V2.75h3.5v1.5', 'M4 4.25l.6 8.6a1 1 0 0 0 1 .9h4.8a1 1 0 0 0 1-.9l.6-8.6', 'M6.75 7v4M9.25 7v4']);
  const eyeIcon = () => svgIcon(['M1.5 8s2.4-4.5 6.5-4.5S14.5 8 14.5 8s-2.4 4.5-6.5 4.5S1.5 8 1.5 8Z', 'M8 6.2a1.8 1.8 0 1 0 0 3.6 1.8 1.8 0 0 0 0-3.6Z']);
  const closeIcon = () => svgIcon(['M4 4l8 8M12 4l-8 8']);

  function resetDeployForm() {
    $('#deploy-form').reset();
    $('#deploy-type').value = 'coder';
    $('#env-rows').replaceChildren();
    addEnvRow();
    clearDeployErrors();
    renderTemplateHint();
  }

  // The request body: empty optional fields are left out (server defaults).
  // Returns { body } or { field, message } for what the API cannot be asked.
  function collectDeploy() {
    const body = { agent_name: $('#deploy-name').value.trim(), agent_type: $('#deploy-type').value };
    const task = $('#deploy-task').value.trim();
    if (task) body.task_description = task;
    const template = $('#deploy-template').value;
    if (template) body.template = template;
    const provider = $('#deploy-provider').value;
    if (provider) body.provider = provider;
    const environment = {};
    for (const row of $$('#env-rows .env-row')) {
      const key = row.querySelector('.env-key').value.trim();
      const value = row.querySelector('.env-value').value;
      if (!key && !value) continue;
      // A value without a name would be silently dropped: say so instead.
      if (!key) return { field: 'environment', message: 'environment: a variable has a value but no name', row };
      if (Object.prototype.hasOwnProperty.call(environment, key)) return { field: `environment.${key}`, message: `environment.${key}: given twice`, row };
      environment[key] = value;
    }
    if (Object.keys(environment).length) body.environment = environment;
    const capabilities = $('#deploy-capabilities').value.split(',').map((c) => c.trim()).filter(Boolean);
    if (capabilities.length) body.capabilities = capabilities;
    const timeout = $('#deploy-timeout');
    if (timeout.validity.badInput) return { field: 'config.timeout', message: 'config.timeout: must be a whole number of seconds' };
    if (timeout.value.trim() !== '') body.config = { timeout: Number(timeout.value) };
    return { body };
  }

  async function submitDeploy() {
    clearDeployErrors();
    const collected = collectDeploy();
    if (!collected.body) {
      showFieldError(collected.field, collected.message, collected.row);
      return;
    }
    const body = collected.body;
    const submit = $('#deploy-submit');
    submit.disabled = true;
    setText(submit, 'Deploying…');
    try {
      const created = await apiJson('/api/agents/deploy', { method: 'POST', body });
      $('#deploy').close();
      resetDeployForm();
      toast(`Deployed ${body.agent_name} — pending`);
      showDeployedAgent(created, body);
      refreshAll();
    } catch (e) {
      if (isAbort(e) || (e instanceof ApiError && e.status === 401)) return;
      if (e instanceof NetworkError) showDeployError('Cannot reach the evoclaw server; nothing was deployed. Try again when it is back.');
      else if (e instanceof ApiError && e.field && errorSlot(e.field)) showFieldError(e.field, e.message);
      else showDeployError(e.message);
    } finally {
      submit.disabled = false;
      setText(submit, 'Deploy');
    }
  }

  // The new agent is listed at once as pending, at the top of the first
  // page when the list is in its default order and the filters would show
  // it; the refresh that follows puts it where the server says.
  function showDeployedAgent(created, body) {
    const f = state.filters;
    const visible = state.offset === 0 && state.sort === 'created_at' && state.order === 'desc'
      && (!f.status || f.status === 'pending') && (!f.type || f.type === body.agent_type)
      && (!f.q || body.agent_name.toLowerCase().includes(f.q.toLowerCase()));
    if (!visible || state.agents.some((a) => a.id === created.agent_id)) return;
    const now = new Date().toISOString();
    state.agents.unshift({
      id: created.agent_id, name: body.agent_name, agent_type: body.agent_type, tenant: state.caller ? state.caller.tenant : null,
      template: body.template || '', provider: body.provider || '', sandbox_id: created.sandbox_id || null, status: created.status || 'pending', stop_reason: null,
      task_description: body.task_description || '', tokens_used: 0, cost_usd: 0, execution_time_ms: 0, exit_code: null,
      created_at: now, started_at: null, completed_at: null,
    });
    if (state.agents.length > PAGE_SIZE) state.agents.length = PAGE_SIZE;
    state.total += 1;
    state.loaded = true;
    renderAgents();
  }

  // The error slot for an API field path: "config.timeout" is its own,
  // "environment.X" goes to the environment rows, "capabilities[1]" to the
  // capabilities input, and so on.
  function errorSlot(field) {
    if (!field) return null;
    const exact = $$('#deploy [data-error-for]').find((s) => s.dataset.errorFor === field);
    if (exact) return exact;
    const root = field.split(/[.[]/)[0];
    return $$('#deploy [data-error-for]').find((s) => s.dataset.errorFor === root) || null;
  }

  // The control an error is about, to mark invalid and focus.
  function errorControl(slot, field, row) {
    const name = slot.dataset.errorFor;
    if (name === 'environment') {
      const key = field.startsWith('environment.') ? field.slice('environment.'.length) : null;
      const rows = $$('#env-rows .env-row');
      const match = row || rows.find((r) => key !== null && r.querySelector('.env-key').value.trim() === key) || rows[0];
      return match ? match.querySelector('.env-key') : null;
    }
    const ids = {
      agent_name: '#deploy-name', agent_type: '#deploy-type', template: '#deploy-template', provider: '#deploy-provider',
      task_description: '#deploy-task', capabilities: '#deploy-capabilities', 'config.timeout': '#deploy-timeout',
    };
    return ids[name] ? $(ids[name]) : null;
  }

  function showFieldError(field, message, row) {
    const slot = errorSlot(field);
    if (!slot) {
      showDeployError(message);
      return;
    }
    slot.textContent = message;
    setHidden(slot, false);
    const control = errorControl(slot, field, row);
    if (control) {
      control.setAttribute('aria-invalid', 'true');
      control.focus();
    }
  }

  function showDeployError(message) {
    const general = $('[data-testid=deploy-error]');
    general.textContent = message;
    setHidden(general, false);
  }

  function clearFieldError(name) {
    const slot = $$('#deploy [data-error-for]').find((s) => s.dataset.errorFor === name);
    if (slot && !slot.hidden) {
      slot.textContent = '';
      slot.hidden = true;
    }
  }

  function clearDeployErrors() {
    for (const slot of $$('#deploy [data-error-for]')) {
      slot.textContent = '';
      slot.hidden = true;
    }
    const general = $('[data-testid=deploy-error]');
    general.textContent = '';
    general.hidden = true;
    for (const input of $$('#deploy [aria-invalid]')) input.removeAttribute('aria-invalid');
  }

  // Typing in a field takes its (now stale) error away.
  function onDeployInput(e) {
    const target = e.target;
    if (target.hasAttribute('aria-invalid')) target.removeAttribute('aria-invalid');
    const field = target.closest('.field');
    const slot = field && $('[data-error-for]', field);
    if (slot) clearFieldError(slot.dataset.errorFor);
  }

  // ---- detail view ------------------------------------------------------------------------------------

  async function openDetail(id) {
    closeDetail();
    clearDetailView();
    const row = state.agents.find((a) => a.id === id);
    const detail = { id, controller: new AbortController(), agent: null, log: null };
    state.detail = detail;
    setText($('#detail-title'), row ? row.name : id);
    setText($('#detail-id'), id);
    if (row) renderDetail(row);
    setLogState('loading…');
    openDialog($('#detail'));
    $('#detail-close').focus();
    try {
      await refreshDetail();
    } catch (e) {
      handleError(e);
    }
    if (state.detail === detail) followLog(detail);
  }

  function closeDetail() {
    if (!state.detail) return;
    state.detail.controller.abort();
    clearTimeout(state.detail.reconnectTimer);
    state.detail = null;
  }

  // The record again (status, history, usage) while the view is open. A
  // 404 means it was destroyed: the view closes and says so.
  async function refreshDetail() {
    const detail = state.detail;
    if (!detail) return;
    let agent;
    try {
      agent = await apiJson(agentPath(detail.id), { signal: detail.controller.signal });
    } catch (e) {
      if (e instanceof ApiError && e.status === 404 && state.detail === detail) {
        const name = detail.agent ? detail.agent.name : detail.id;
        $('#detail').close();
        toast(`${name} no longer exists (destroyed).`, true);
        return;
      }
      throw e;
    }
    if (state.detail !== detail) return;
    detail.agent = agent;
    renderDetail(agent);
  }

  function clearDetailView() {
    for (const sel of ['#detail-title', '#detail-id', '[data-testid=detail-task]', '[data-testid=detail-template]', '#detail-sandbox',
      '#detail-tokens', '#detail-runtime', '#detail-cost', '#detail-log-state']) setText($(sel), '');
    for (const sel of ['[data-testid=detail-status]', '[data-testid=detail-config]', '[data-testid=detail-capabilities]',
      '[data-testid=detail-env]', '[data-testid=detail-history]']) {
      // Emptied lists must be drawn again even if the next agent's are equal.
      $(sel).replaceChildren();
      delete $(sel).dataset.signature;
    }
    $('[data-testid=detail-logs]').textContent = '';
    const error = $('[data-testid=detail-error]');
    error.textContent = '';
    error.hidden = true;
    setHidden($('#log-jump'), true);
    for (const b of $$('#detail [data-detail-action]')) b.disabled = false;
  }

  function renderDetail(a) {
    setText($('#detail-title'), a.name);
    setText($('#detail-id'), [a.id, a.agent_type, a.tenant ? `tenant ${a.tenant}` : null].filter(Boolean).join(' · '));
    const status = $('[data-testid=detail-status]');
    const badgeClass = `badge badge-${a.status}`;
    const badge = status.firstElementChild;
    if (!badge || badge.className !== badgeClass || badge.textContent !== a.status) status.replaceChildren(el('span', { class: badgeClass, text: a.status }));

    setText($('#detail-tokens'), formatInt(a.tokens_used));
    setText($('#detail-runtime'), formatDuration(a.execution_time_ms));
    setText($('#detail-cost'), formatMoney(a.cost_usd));

    const task = $('[data-testid=detail-task]');
    setText(task, a.task_description || 'No task given');
    task.classList.toggle('muted', !a.task_description);
    setText($('[data-testid=detail-template]'), [a.template, a.provider ? `${a.provider} provider` : null].filter(Boolean).join(' · '));
    setText($('#detail-sandbox'), a.sandbox_id || 'not started yet');

    renderKeyValues($('[data-testid=detail-config]'), configLines(a));
    renderCapabilities(a.capabilities || []);
    // Values never leave the server: only the names are known here.
    renderKeyValues($('[data-testid=detail-env]'), (a.environment_keys || []).map((k) => [k, MASK]), ' = ');
    renderHistory(a);

    const error = $('[data-testid=detail-error]');
    setText(error, a.error_message || '');
    setHidden(error, !a.error_message);
    const finished = isFinished(a);
    const terminate = $('#detail [data-detail-action=terminate]');
    terminate.disabled = finished;
    setAttr(terminate, 'title', finished ? 'Already finished' : null);
  }

  // The agent's configuration as name/value lines.
  function configLines(a) {
    const config = a.config || {};
    const timeout = config.timeout !== undefined ? config.timeout : a.timeout_sec;
    const command = Array.isArray(config.command) ? config.command : a.command;
    const keepAlive = config.keep_alive !== undefined ? config.keep_alive : a.keep_alive;
    const lines = [
      ['timeout', timeout !== undefined && timeout !== null ? `${formatInt(timeout)} s` : 'server default'],
      ['keep_alive', keepAlive ? 'on' : 'off'],
      ['command', Array.isArray(command) && command.length ? command.map(shellQuote).join(' ') : 'the template’s entrypoint'],
    ];
    if (a.mode) lines.push(['mode', a.mode]);
    if (a.deadline_at && !isFinished(a)) lines.push(['deadline', `${formatWhen(a.deadline_at)}`]);
    return lines;
  }

  // Shown as a shell would read it, so arguments with spaces stay legible.
  const shellQuote = (arg) => (/^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${String(arg).replace(/'/g, "'\\''")}'`);

  // <li><span class="k">name</span>sep<span class="v">value</span></li>,
  // rebuilt only when the text changes (a refresh keeps a text selection).
  function renderKeyValues(list, pairs, separator = ' ') {
    const signature = JSON.stringify(pairs);
    if (list.dataset.signature === signature) return;
    list.dataset.signature = signature;
    list.replaceChildren(...pairs.map(([k, v]) => el('li', {}, el('span', { class: 'k', text: k }), separator, el('span', { class: 'v', text: v }))));
  }

  function renderCapabilities(capabilities) {
    const node = $('[data-testid=detail-capabilities]');
    const signature = JSON.stringify(capabilities);
    if (node.dataset.signature === signature) return;
    node.dataset.signature = signature;
    node.replaceChildren(...(capabilities.length
      ? capabilities.map((c) => el('span', { class: 'chip', text: c }))
      : [el('span', { class: 'muted', text: 'None' })]));
  }

  // One <li> per state reached, from the record's timestamps: created →
  // pending, started → running, completed → completed/failed with the stop
  // reason and exit code.
  function renderHistory(a) {
    const steps = [{ status: 'pending', note: 'created', at: a.created_at }];
    if (a.started_at) steps.push({ status: 'running', note: a.sandbox_id ? `sandbox ${a.sandbox_id} started` : 'sandbox started', at: a.started_at });
    if (isFinished(a)) {
      const why = stopReasonText(a);
      steps.push({ status: a.status, note: why ? `stop reason: ${why}` : '', at: a.completed_at });
    }
    const list = $('[data-testid=detail-history]');
    const signature = JSON.stringify(steps);
    if (list.dataset.signature === signature) return;
    list.dataset.signature = signature;
    list.replaceChildren(...steps.map((s) => el('li', { class: `step step-${s.status}` },
      el('span', { class: 'step-status', text: s.status }),
      s.note ? el('span', { class: 'step-note', text: s.note }) : null,
      s.at ? timeElement(s.at) : null)));
  }

  // ---- log follower ---------------------------------------------------------------------------------------

  // Follows GET /api/agents/{id}/logs?follow=1: everything kept so far, then
  // live output until the agent ends and the server closes the stream.
  // EventSource cannot send the key header, so this reads fetch's body.
  async function followLog(detail) {
    clearTimeout(detail.reconnectTimer);
    let res;
    try {
      res = await apiFetch(`${agentPath(detail.id)}/logs?follow=1`, { signal: detail.controller.signal });
    } catch (e) {
      if (!isAbort(e) && state.detail === detail) reconnectLog(detail);
      return;
    }
    if (state.detail !== detail) return;
    if (res.status === 401) {
      expireSession('the key was refused');
      return;
    }
    if (!res.ok) {
      setLogState(res.status === 404 ? 'log unavailable: the agent is gone' : `log unavailable (HTTP ${res.status})`);
      return;
    }
    // The stream starts with everything kept so far: start from empty.
    detail.log = { lines: [''], pending: '', frame: 0 };
    setLogText(detail, '');
    setLogState('following', 'live');
    const reader = res.body.getReader();
    const decoder = new TextDecoder();
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        if (state.detail !== detail) return;
        queueLogText(detail, decoder.decode(value, { stream: true }));
      }
      queueLogText(detail, decoder.decode());
    } catch (e) {
      if (!isAbort(e) && state.detail === detail) reconnectLog(detail);
      return;
    }
    if (state.detail !== detail) return;
    flushLog(detail);
    await logStreamEnded(detail);
  }

  // The server closes the stream when the agent ends. Check the record: if
  // it is somehow still live (the connection was cut), follow again.
  async function logStreamEnded(detail) {
    try {
      await refreshDetail();
    } catch (e) {
      if (state.detail === detail && e instanceof NetworkError) {
        reconnectLog(detail);
        return;
      }
    }
    if (state.detail !== detail) return;
    if (detail.agent && !isFinished(detail.agent)) reconnectLog(detail);
    else setLogState('agent ended', 'ended');
  }

  function reconnectLog(detail) {
    setLogState('connection lost — reconnecting…', 'warn');
    clearTimeout(detail.reconnectTimer);
    detail.reconnectTimer = setTimeout(() => {
      if (state.detail === detail) followLog(detail);
    }, LOG_RECONNECT_MS);
  }

  function setLogState(text, kind = '') {
    const node = $('#detail-log-state');
    setText(node, text);
    node.className = `log-state${kind ? ` log-${kind}` : ''}`;
  }

  // Chunks arrive faster than the page needs to paint: join them and draw
  // once per frame. A background tab gets no frames, so a large backlog is
  // folded in at once rather than held.
  function queueLogText(detail, text) {
    if (!text || !detail.log) return;
    detail.log.pending += text;
    if (detail.log.pending.length > 256 * 1024) flushLog(detail);
    else if (!detail.log.frame) detail.log.frame = requestAnimationFrame(() => flushLog(detail));
  }

  function flushLog(detail) {
    const log = detail.log;
    if (!log) return;
    cancelAnimationFrame(log.frame);
    log.frame = 0;
    if (!log.pending || state.detail !== detail) return;
    const parts = log.pending.split('\n');
    log.pending = '';
    log.lines[log.lines.length - 1] += parts[0];
    for (let i = 1; i < parts.length; i++) log.lines.push(parts[i]);
    // At most LOG_LINES_KEPT lines (the last one may still be growing).
    if (log.lines.length > LOG_LINES_KEPT + 1) log.lines.splice(0, log.lines.length - LOG_LINES_KEPT - 1);
    setLogText(detail, log.lines.join('\n'));
    noticeOutput(detail);
  }

  // Output from an agent still shown as pending means it has started:
  // fetch the record now rather than at the next refresh (at most once a
  // second), so the status and history keep up with the log.
  function noticeOutput(detail) {
    if (!detail.agent || detail.agent.status !== 'pending') return;
    const now = Date.now();
    if (detail.lastOutputCheck && now - detail.lastOutputCheck < 1000) return;
    detail.lastOutputCheck = now;
    refreshDetail().catch(handleError);
  }

  // Stays at the bottom unless the reader scrolled up to read something.
  function setLogText(detail, text) {
    const pre = $('[data-testid=detail-logs]');
    const atBottom = pre.scrollHeight - pre.scrollTop - pre.clientHeight < 32;
    pre.textContent = text;
    if (atBottom) pre.scrollTop = pre.scrollHeight;
    setHidden($('#log-jump'), atBottom || !text);
  }

  function onLogScroll() {
    const pre = $('[data-testid=detail-logs]');
    if (pre.scrollHeight - pre.scrollTop - pre.clientHeight < 32) setHidden($('#log-jump'), true);
  }

  // ---- spend chart ----------------------------------------------------------------------------------------

  const SVG_NS = 'http://www.w3.org/2000/svg';
  function svgEl(tag, attrs = {}, text) {
    const node = document.createElementNS(SVG_NS, tag);
    for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, String(value));
    if (text !== undefined) node.textContent = text;
    return node;
  }

  async function loadChart() {
    const session = state.session;
    const range = state.chart.range;
    const data = await apiJson(`/api/cloud/costs/history?window_sec=${range}`);
    if (session !== state.session || range !== state.chart.range) return;
    state.chart.points = (data.points || [])
      .map((p) => ({ t: Date.parse(p.at), v: Number(p.spent_usd) || 0, at: p.at }))
      .filter((p) => !Number.isNaN(p.t));
    drawChart();
  }

  function setRange(range) {
    state.chart.range = range;
    state.chart.active = -1;
    for (const b of $$('button[data-range]')) setAttr(b, 'aria-pressed', String(Number(b.dataset.range) === range));
    loadChart().catch(handleError);
  }

  // A round step for about four gridlines: 1, 2, 2.5 or 5 × 10^n.
  function niceStep(max) {
    const rough = max / 4;
    const power = 10 ** Math.floor(Math.log10(rough));
    const m = rough / power;
    return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 2.5 ? 2.5 : m <= 5 ? 5 : 10) * power;
  }

  // Axis money: whole dollars for whole steps, else cents, else as many
  // decimals as a sub-cent step needs (up to 4, as elsewhere).
  function axisMoney(value, step) {
    if (value === 0) return '$0';
    let decimals = 0;
    if (step < 1 || !Number.isInteger(step)) {
      decimals = 2;
      while (decimals < 4 && Math.abs(Math.round(step * 10 ** decimals) - step * 10 ** decimals) > 1e-9) decimals++;
    }
    return `$${value.toLocaleString('en-US', { minimumFractionDigits: decimals, maximumFractionDigits: decimals })}`;
  }

  // Time ticks on local boundaries: every 10 min (1h), 3 h (24h), a day (7d).
  function timeTicks(t0, t1, range, narrow) {
    const base = { 3600: 600e3, 86400: 3 * 3600e3, 604800: 86400e3 }[range] || range * 1000 / 6;
    const step = narrow ? base * 2 : base;
    const offset = -new Date(t0).getTimezoneOffset() * 60e3;
    const ticks = [];
    for (let t = Math.ceil((t0 + offset) / step) * step - offset; t <= t1; t += step) ticks.push(t);
    return ticks;
  }

  function tickLabel(t, range) {
    const d = new Date(t);
    if (range > 86400) return `${d.toLocaleDateString('en-US', { weekday: 'short' })} ${d.getDate()}`;
    return `${pad2(d.getHours())}:${pad2(d.getMinutes())}`;
  }

  // Draws the cumulative spend as a line over the window, with gridlines,
  // axis labels, the budget as a dashed line when it is on the same scale,
  // and a tooltip for the point under the pointer or the keyboard.
  function drawChart() {
    const chart = $('#spend-chart');
    const { points, range } = state.chart;
    const width = Math.max(280, Math.round(chart.clientWidth) || 800);
    const narrow = width < 520;
    const height = narrow ? 190 : 230;
    chart.setAttribute('viewBox', `0 0 ${width} ${height}`);
    const max = points.reduce((m, p) => Math.max(m, p.v), 0);
    const empty = points.length === 0 || max <= 0;
    setHidden($('[data-testid=chart-empty]'), !empty);
    setHidden($('#chart-legend'), empty);
    hideChartTip();

    // The window ends at the last point (the server's "now").
    const t1 = points.length ? points[points.length - 1].t : Date.now();
    const t0 = t1 - range * 1000;
    const budget = state.summary ? Number(state.summary.budget_usd) || 0 : 0;
    // The budget joins the scale only when the spend is within a third of
    // it; a line far above the data would flatten the curve.
    const budgetOnScale = !empty && budget > 0 && budget <= max * 3;
    // An empty chart still gets a plain $0–$1 frame behind its message.
    const scaleMax = empty ? 1 : Math.max(budgetOnScale ? budget : max, 0.0001) * 1.08;
    const step = niceStep(scaleMax);
    const top = Math.ceil(scaleMax / step - 1e-9) * step;
    const yLabels = [];
    for (let v = 0; v <= top + step / 2; v += step) yLabels.push(v);
    const labelWidth = Math.max(...yLabels.map((v) => axisMoney(v, step).length)) * 6.6 + 14;
    const pad = { left: Math.round(labelWidth), right: 12, top: 12, bottom: 26 };
    const x = (t) => pad.left + ((Math.min(Math.max(t, t0), t1) - t0) / (t1 - t0 || 1)) * (width - pad.left - pad.right);
    const y = (v) => height - pad.bottom - (v / top) * (height - pad.top - pad.bottom);

    const nodes = [];
    const defs = svgEl('defs');
    const gradient = svgEl('linearGradient', { id: 'spend-fill', x1: 0, y1: 0, x2: 0, y2: 1 });
    gradient.append(svgEl('stop', { offset: '0%', class: 'fill-top' }), svgEl('stop', { offset: '100%', class: 'fill-bottom' }));
    defs.append(gradient);
    nodes.push(defs);
    for (const v of yLabels) {
      nodes.push(svgEl('line', { class: v === 0 ? 'axis' : 'grid', x1: pad.left, x2: width - pad.right, y1: y(v), y2: y(v) }));
      nodes.push(svgEl('text', { class: 'tick', x: pad.left - 8, y: y(v) + 4, 'text-anchor': 'end' }, axisMoney(v, step)));
    }
    for (const t of timeTicks(t0, t1, range, narrow)) {
      const px = x(t);
      if (px < pad.left + 16 || px > width - pad.right - 16) continue;
      nodes.push(svgEl('line', { class: 'grid grid-x', x1: px, x2: px, y1: pad.top, y2: height - pad.bottom }));
      nodes.push(svgEl('text', { class: 'tick', x: px, y: height - 8, 'text-anchor': 'middle' }, tickLabel(t, range)));
    }
    if (budgetOnScale) {
      nodes.push(svgEl('line', { class: 'budget', x1: pad.left, x2: width - pad.right, y1: y(budget), y2: y(budget) }));
      // Labelled at the left: the spend line usually climbs on the right.
      nodes.push(svgEl('text', { class: 'budget-label', x: pad.left + 6, y: y(budget) - 6, 'text-anchor': 'start' }, `Budget ${formatMoney(budget)}`));
    }
    setText($('#legend-budget-text'), budget > 0 ? `Budget ${formatMoney(budget)}${budgetOnScale ? '' : ' (above this scale)'}` : 'No budget set');
    $('#legend-budget').classList.toggle('off-scale', !budgetOnScale);

    let geometry = null;
    if (!empty) {
      const coords = points.map((p) => ({ ...p, px: x(p.t), py: y(p.v) }));
      const line = coords.map((c, i) => `${i ? 'L' : 'M'}${c.px.toFixed(1)},${c.py.toFixed(1)}`).join(' ');
      const base = y(0).toFixed(1);
      nodes.push(svgEl('path', { class: 'area', d: `${line} L${coords[coords.length - 1].px.toFixed(1)},${base} L${coords[0].px.toFixed(1)},${base} Z` }));
      nodes.push(svgEl('path', { class: 'line', d: line }));
      // Each sample, with its value as a <title> (read by assistive tech).
      const dots = svgEl('g', { class: 'points' });
      for (const c of coords) {
        const dot = svgEl('circle', { class: 'pt', cx: c.px.toFixed(1), cy: c.py.toFixed(1), r: 2.5 });
        dot.append(svgEl('title', {}, `${formatWhen(c.at)} — ${formatMoney(c.v)}`));
        dots.append(dot);
      }
      nodes.push(dots);
      const crosshair = svgEl('line', { class: 'crosshair', x1: 0, x2: 0, y1: pad.top, y2: height - pad.bottom, visibility: 'hidden' });
      const marker = svgEl('circle', { class: 'marker', cx: 0, cy: 0, r: 4.5, visibility: 'hidden' });
      nodes.push(crosshair, marker);
      geometry = { coords, width, height, crosshair, marker };
    }
    chart.replaceChildren(...nodes);
    state.chart.geometry = geometry;

    const first = points.length ? points[0].v : 0;
    const last = points.length ? points[points.length - 1].v : 0;
    setText($('#chart-summary'), empty ? `No spend in ${RANGE_LABELS[range]}` : `${formatMoney(last)} spent in total · +${formatMoney(Math.max(0, last - first))} in ${RANGE_LABELS[range]}`);
    setAttr(chart, 'aria-label', empty
      ? `Spend chart: no spend in ${RANGE_LABELS[range]}`
      : `Spend chart: cumulative spend rose from ${formatMoney(first)} to ${formatMoney(last)} in ${RANGE_LABELS[range]}. Use the arrow keys to read each sample.`);
    // Keep the point being read (by time) across redraws.
    if (geometry && state.chart.active >= 0 && state.chart.activeAt !== undefined) {
      showChartPoint(nearestIndex(geometry.coords, state.chart.activeAt, 't'));
    }
  }

  function nearestIndex(coords, value, key) {
    let best = 0;
    for (let i = 1; i < coords.length; i++) if (Math.abs(coords[i][key] - value) < Math.abs(coords[best][key] - value)) best = i;
    return best;
  }

  function showChartPoint(index) {
    const g = state.chart.geometry;
    if (!g || !g.coords.length) return;
    const i = Math.max(0, Math.min(g.coords.length - 1, index));
    const c = g.coords[i];
    state.chart.active = i;
    state.chart.activeAt = c.t;
    for (const [node, attrs] of [[g.crosshair, { x1: c.px, x2: c.px }], [g.marker, { cx: c.px, cy: c.py }]]) {
      for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v.toFixed(1));
      node.setAttribute('visibility', 'visible');
    }
    const tip = $('#chart-tip');
    tip.replaceChildren(el('strong', { text: formatMoney(c.v) }), el('span', { text: formatWhen(c.at) }));
    setHidden(tip, false);
    // Place it beside the point, inside the chart (CSSOM, allowed by the
    // CSP). An <svg> has no offsetTop: measure both boxes instead.
    const box = $('#spend-chart').getBoundingClientRect();
    const wrap = $('#chart-wrap').getBoundingClientRect();
    const scale = box.width / g.width;
    const px = box.left - wrap.left + c.px * scale;
    const py = box.top - wrap.top + c.py * scale;
    const tipWidth = tip.offsetWidth;
    const left = px + 14 + tipWidth > wrap.width ? px - 14 - tipWidth : px + 14;
    tip.style.left = `${Math.round(Math.max(4, left))}px`;
    tip.style.top = `${Math.round(Math.max(4, py - tip.offsetHeight - 10))}px`;
  }

  function hideChartTip() {
    const g = state.chart.geometry;
    if (g) {
      g.crosshair.setAttribute('visibility', 'hidden');
      g.marker.setAttribute('visibility', 'hidden');
    }
    setHidden($('#chart-tip'), true);
  }

  function onChartPointer(e) {
    const g = state.chart.geometry;
    if (!g) return;
    const rect = e.currentTarget.getBoundingClientRect();
    const vx = ((e.clientX - rect.left) / rect.width) * g.width;
    showChartPoint(nearestIndex(g.coords, vx, 'px'));
  }

  function onChartKey(e) {
    const g = state.chart.geometry;
    if (!g) return;
    const last = g.coords.length - 1;
    const current = state.chart.active >= 0 ? state.chart.active : last;
    const moves = { ArrowLeft: current - 1, ArrowRight: current + 1, Home: 0, End: last };
    if (e.key in moves) {
      e.preventDefault();
      showChartPoint(moves[e.key]);
    } else if (e.key === 'Escape' && state.chart.active >= 0) {
      e.stopPropagation();
      state.chart.active = -1;
      hideChartTip();
    }
  }

  // ---- toasts and the banner ------------------------------------------------------------------------------

  let toastTimer = null;
  // Says what happened in the polite live region; errors stay longer.
  function toast(message, isError = false) {
    const node = $('[data-testid=toast]');
    node.textContent = message;
    node.classList.toggle('error', isError);
    node.classList.add('show');
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => node.classList.remove('show'), isError ? 8000 : 5000);
  }

  function setServerDown(down) {
    const changed = state.serverDown !== down;
    state.serverDown = down;
    setHidden($('[data-testid=banner]'), !down);
    // The last update is getting old while the server is away.
    $('[data-testid=updated-at]').classList.toggle('stale', down);
    if (changed && down) scheduleRefresh();
  }

  // ---- wiring -------------------------------------------------------------------------------------------------

  function wire() {
    $('#signin').addEventListener('submit', (e) => {
      e.preventDefault();
      signIn($('#api-key').value.trim());
    });
    $('#signout').addEventListener('click', () => signOut());
    $('#refresh-toggle').addEventListener('click', () => setAutoRefresh(!state.autoRefresh));

    $('#filter-status').addEventListener('change', (e) => setFilter('status', e.target.value));
    $('#filter-type').addEventListener('change', (e) => setFilter('type', e.target.value));
    const search = debounce((value) => setFilter('q', value), SEARCH_DEBOUNCE_MS);
    $('#search').addEventListener('input', (e) => search(e.target.value.trim()));
    for (const button of $$('#agents th button[data-sort]')) button.addEventListener('click', () => sortBy(button.dataset.sort));
    $('#page-prev').addEventListener('click', () => goToPage(-1));
    $('#page-next').addEventListener('click', () => goToPage(1));
    $('#empty-action').addEventListener('click', () => (hasFilters() ? clearFilters() : openDeploy()));

    const tbody = $('#agents tbody');
    tbody.addEventListener('click', (e) => {
      const button = e.target.closest('button[data-action]');
      if (!button || button.disabled) return;
      const id = button.closest('tr').dataset.agentId;
      if (button.dataset.action === 'view') openDetail(id);
      else actOn(button.dataset.action, id);
    });
    tbody.addEventListener('change', (e) => {
      if (e.target.matches('input[data-select]')) selectRow(e.target.closest('tr'), e.target.checked);
    });
    $('#select-all').addEventListener('change', (e) => selectPage(e.target.checked));
    $('#bulk-terminate').addEventListener('click', () => bulk('terminate'));
    $('#bulk-destroy').addEventListener('click', () => bulk('destroy'));

    const confirm = $('#confirm');
    $('#confirm-ok').addEventListener('click', () => confirm.close('ok'));
    $('#confirm-cancel').addEventListener('click', () => confirm.close('cancel'));
    confirm.addEventListener('close', () => {
      onConfirmClosed();
      restoreFocus(confirm);
    });

    const deploy = $('#deploy');
    $('#deploy-open').addEventListener('click', openDeploy);
    $('#deploy-close').addEventListener('click', () => deploy.close());
    $('#deploy-cancel').addEventListener('click', () => deploy.close());
    $('#env-add').addEventListener('click', () => addEnvRow().querySelector('.env-key').focus());
    $('#deploy-template').addEventListener('change', renderTemplateHint);
    $('#deploy-form').addEventListener('input', onDeployInput);
    $('#deploy-form').addEventListener('submit', (e) => {
      e.preventDefault();
      submitDeploy();
    });
    deploy.addEventListener('close', () => restoreFocus(deploy));

    const detail = $('#detail');
    $('#detail-close').addEventListener('click', () => detail.close());
    detail.addEventListener('close', () => {
      closeDetail();
      restoreFocus(detail);
    });
    for (const button of $$('#detail [data-detail-action]')) {
      button.addEventListener('click', () => {
        if (state.detail) actOn(button.dataset.detailAction, state.detail.id);
      });
    }
    $('[data-testid=detail-logs]').addEventListener('scroll', onLogScroll, { passive: true });
    $('#log-jump').addEventListener('click', () => {
      const pre = $('[data-testid=detail-logs]');
      pre.scrollTop = pre.scrollHeight;
      setHidden($('#log-jump'), true);
      pre.focus();
    });

    for (const button of $$('button[data-range]')) button.addEventListener('click', () => setRange(Number(button.dataset.range)));
    const chart = $('#spend-chart');
    chart.addEventListener('pointermove', onChartPointer);
    chart.addEventListener('pointerleave', () => {
      if (document.activeElement !== chart) {
        state.chart.active = -1;
        hideChartTip();
      }
    });
    chart.addEventListener('keydown', onChartKey);
    chart.addEventListener('focus', () => {
      const g = state.chart.geometry;
      if (g) showChartPoint(state.chart.active >= 0 ? state.chart.active : g.coords.length - 1);
    });
    chart.addEventListener('blur', () => {
      state.chart.active = -1;
      hideChartTip();
    });
    // A click on the backdrop (outside the dialog's box) closes it, like
    // Escape; the deploy form keeps what was typed.
    for (const dialog of $$('dialog')) {
      dialog.addEventListener('click', (e) => {
        if (e.target !== dialog) return;
        const r = dialog.getBoundingClientRect();
        const inside = e.clientX >= r.left && e.clientX <= r.right && e.clientY >= r.top && e.clientY <= r.bottom;
        if (!inside) dialog.close();
      });
    }

    // Redraw from the points already here; no request for a resize.
    window.addEventListener('resize', debounce(() => { if (state.key) drawChart(); }, 150));
  }

  function start() {
    wire();
    addEnvRow();
    renderTemplateHint();
    renderSortHeaders();
    const key = sessionStorage.getItem(KEY_STORAGE);
    if (key) resumeSession(key);
    else $('#api-key').focus();
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
