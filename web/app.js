// evoclaw dashboard: one script, no framework, no build step.
//
// The page holds no data of its own. Everything comes from the API with
// the key the user signs in with (X-API-Key, never a cookie), kept in this
// tab's sessionStorage. Every value from the server is put in the page as
// text (textContent), never as markup.
'use strict';

(() => {
  const KEY_STORAGE = 'evoclaw.apiKey';
  const REFRESH_MS = 5000;
  const PAGE_SIZE = 50;
  const LOG_LINES_KEPT = 2000;
  const AGENT_TYPES = ['researcher', 'coder', 'analyst', 'tester', 'trader', 'monitor', 'sensor'];
  // Text columns sort A→Z first, numbers and times largest first.
  const ASCENDING_FIRST = new Set(['name', 'status', 'agent_type']);

  const $ = (selector, root = document) => root.querySelector(selector);
  const $$ = (selector, root = document) => Array.from(root.querySelectorAll(selector));

  const state = {
    key: null,
    caller: null,
    summary: null,
    agents: [],
    total: 0,
    offset: 0,
    filters: { status: '', type: '', q: '' },
    sort: 'created_at',
    order: 'desc',
    selected: new Set(),
    autoRefresh: true,
    timer: null,
    listRequest: 0, // only the newest list answer is drawn
    range: 3600,
    showTenant: false,
    detail: null, // {id, abort, lines, ended}
    templatesLoaded: false,
  };

  // ---- the API ---------------------------------------------------------

  class ApiError extends Error {
    constructor(status, code, message, field) {
      super(message);
      this.status = status;
      this.code = code;
      this.field = field || null;
    }
  }
  // The server could not be reached at all (not an HTTP error).
  class NetworkError extends Error {}

  async function request(method, path, body, { key = state.key, signal } = {}) {
    const headers = { 'X-API-Key': key };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    let res;
    try {
      res = await fetch(path, {
        method, headers, signal, cache: 'no-store', credentials: 'omit',
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (e) {
      if (e.name === 'AbortError') throw e;
      throw new NetworkError(e.message);
    }
    return res;
  }

  async function api(method, path, body, options) {
    const res = await request(method, path, body, options);
    const text = await res.text();
    let data = null;
    try { data = text ? JSON.parse(text) : null; } catch { data = null; }
    if (!res.ok) {
      const err = (data && data.error) || {};
      const e = new ApiError(res.status, err.code || 'error', err.message || `HTTP ${res.status}`, err.field);
      // A key that stops working while signed in (revoked, rotated)
      // signs the tab out, saying why.
      if (res.status === 401 && state.key && (!options || options.key === undefined)) signOut(`API key rejected: ${e.message}`);
      throw e;
    }
    return data;
  }

  const query = (params) => {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) if (v !== '' && v !== null && v !== undefined) q.set(k, String(v));
    return q.toString();
  };

  // ---- formatting --------------------------------------------------------

  const nf = new Intl.NumberFormat('en-US');
  function money(v) {
    const n = Number(v) || 0;
    return n < 1 ? `$${n.toFixed(4)}` : `$${n.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
  }
  function duration(ms) {
    const n = Math.max(0, Number(ms) || 0);
    if (n < 1000) return `${Math.round(n)} ms`;
    const s = Math.floor(n / 1000);
    if (s < 60) return `${(n / 1000).toFixed(1)} s`;
    const m = Math.floor(s / 60);
    if (m < 60) return `${m}m ${String(s % 60).padStart(2, '0')}s`;
    const h = Math.floor(m / 60);
    if (h < 48) return `${h}h ${String(m % 60).padStart(2, '0')}m`;
    return `${Math.floor(h / 24)}d ${String(h % 24).padStart(2, '0')}h`;
  }
  const clock = (iso) => (iso ? new Date(iso).toLocaleTimeString('en-GB', { hour12: false }) : '—');
  function timeEl(iso) {
    const t = document.createElement('time');
    if (iso) { t.dateTime = iso; t.title = iso; }
    t.textContent = clock(iso);
    return t;
  }
  function el(tag, attrs = {}, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) {
      if (k === 'class') e.className = v;
      else if (k === 'text') e.textContent = v;
      else if (v !== false && v !== null && v !== undefined) e.setAttribute(k, v === true ? '' : v);
    }
    for (const c of children) if (c !== null && c !== undefined) e.append(c);
    return e;
  }
  const setText = (node, text) => { if (node.textContent !== text) node.textContent = text; };

  // ---- toasts and the banner ---------------------------------------------

  let toastTimer = null;
  function toast(message, isError = false) {
    const t = $('[data-testid=toast]');
    t.textContent = message;
    t.classList.toggle('error', isError);
    t.classList.add('show');
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => t.classList.remove('show'), 4000);
  }
  const setBanner = (down) => { $('[data-testid=banner]').hidden = !down; };

  // ---- sign-in and sign-out ----------------------------------------------

  async function signIn(key) {
    const error = $('[data-testid=signin-error]');
    error.hidden = true;
    if (!key) {
      error.textContent = 'Enter an API key.';
      error.hidden = false;
      return;
    }
    $('#signin-submit').disabled = true;
    try {
      // The key is checked before anything is kept or shown.
      const summary = await api('GET', '/api/summary', undefined, { key });
      state.key = key;
      sessionStorage.setItem(KEY_STORAGE, key);
      $('#api-key').value = '';
      showApp(summary);
    } catch (e) {
      error.textContent = e instanceof ApiError && e.status === 401
        ? `API key rejected: ${e.message}`
        : e instanceof NetworkError ? 'Cannot reach the evoclaw server.' : `Sign-in failed: ${e.message}`;
      error.hidden = false;
    } finally {
      $('#signin-submit').disabled = false;
    }
  }

  function signOut(reason) {
    sessionStorage.removeItem(KEY_STORAGE);
    state.key = null;
    state.caller = null;
    state.summary = null;
    state.agents = [];
    state.total = 0;
    state.offset = 0;
    state.selected.clear();
    state.templatesLoaded = false;
    clearTimeout(state.timer);
    state.timer = null;
    closeDetail();
    for (const d of $$('dialog')) if (d.open) d.close();
    // Nothing of what was shown stays in the page.
    $('#agents tbody').replaceChildren();
    for (const v of $$('.metric .value, .metric-sub')) v.textContent = '';
    $('#spend-chart').replaceChildren();
    $('#who').textContent = '';
    setBanner(false);
    $('#app-view').hidden = true;
    $('#session').hidden = true;
    $('#signin-view').hidden = false;
    const error = $('[data-testid=signin-error]');
    error.textContent = reason || '';
    error.hidden = !reason;
    $('#api-key').focus();
  }

  function showApp(summary) {
    $('#signin-view').hidden = true;
    $('#app-view').hidden = false;
    $('#session').hidden = false;
    applySummary(summary);
    refresh();
  }

  // ---- refreshing ----------------------------------------------------------

  // One round: cards, the table page, the chart and an open detail view.
  // Then the next round in REFRESH_MS (also after a failure: the banner
  // says the server is away and goes when it answers again).
  async function refresh() {
    clearTimeout(state.timer);
    state.timer = null;
    if (!state.key) return;
    try {
      const [summary] = await Promise.all([
        api('GET', '/api/summary'), loadAgents(), loadChart(), refreshDetail(),
      ]);
      if (!state.key) return;
      applySummary(summary);
      setBanner(false);
      setText($('[data-testid=updated-at]'), `Updated ${new Date().toLocaleTimeString('en-GB', { hour12: false })}`);
    } catch (e) {
      if (!state.key) return;
      if (e instanceof NetworkError) setBanner(true);
      else if (!(e instanceof ApiError && e.status === 401)) toast(`Refresh failed: ${e.message}`, true);
    }
    if (state.key && state.autoRefresh) state.timer = setTimeout(refresh, REFRESH_MS);
  }

  function applySummary(s) {
    state.summary = s;
    state.caller = s.caller;
    setText($('#who'), s.caller.admin ? 'admin' : `tenant ${s.caller.tenant}`);
    const card = (id, value, sub) => {
      setText($(`[data-testid=${id}] .value`), value);
      setText($(`[data-testid=${id}] .metric-sub`), sub);
    };
    const a = s.agents;
    card('card-sandboxes', nf.format(s.sandboxes_total), `${nf.format(a.total)} agents on record`);
    card('card-active', nf.format(s.active_agents), `${a.running} running · ${a.pending} pending · max ${s.max_agents}`);
    card('card-tokens', nf.format(s.tokens_used), 'reported by agents');
    card('card-cost', money(s.total_spent_usd), `${a.completed} completed · ${a.failed} failed`);
    card('card-budget', money(s.remaining_usd), `of ${money(s.budget_usd)}`);
    const used = s.budget_usd > 0 ? Math.min(1, s.total_spent_usd / s.budget_usd) : 1;
    const fill = $('[data-testid=card-budget] .meter-fill');
    fill.style.width = `${Math.round(used * 100)}%`;
    fill.classList.toggle('warn', used >= 0.75 && used < 0.9);
    fill.classList.toggle('bad', used >= 0.9);
    chartBudget = s.budget_usd;
  }

  // ---- the agents table ----------------------------------------------------

  async function loadAgents() {
    const ticket = ++state.listRequest;
    const data = await api('GET', `/api/agents?${query({
      limit: PAGE_SIZE, offset: state.offset, status: state.filters.status, type: state.filters.type,
      q: state.filters.q, sort: state.sort, order: state.order,
    })}`);
    if (ticket !== state.listRequest || !state.key) return; // a newer request was made
    // Past the end (agents destroyed elsewhere): back to the last page.
    if (data.agents.length === 0 && data.total > 0 && state.offset > 0) {
      state.offset = Math.max(0, Math.floor((data.total - 1) / PAGE_SIZE) * PAGE_SIZE);
      return loadAgents();
    }
    state.agents = data.agents;
    state.total = data.total;
    renderAgents();
  }

  // A row's cells, made once; renderRow fills them.
  function buildRow(a) {
    const tr = el('tr', { 'data-agent-id': a.id });
    tr.dataset.tenantCol = String(state.showTenant);
    const check = el('input', { type: 'checkbox', 'data-select': true, 'aria-label': `Select ${a.name}` });
    tr.append(el('td', { class: 'col-select' }, check));
    tr.append(el('td', { 'data-col': 'name' }, el('span', { class: 'agent-name' }), el('span', { class: 'agent-type' })));
    if (state.showTenant) tr.append(el('td', { 'data-col': 'tenant', class: 'mono' }));
    tr.append(el('td', { 'data-col': 'status' }, el('span', { class: 'badge' })));
    tr.append(el('td', { 'data-col': 'sandbox', class: 'mono' }));
    tr.append(el('td', { 'data-col': 'task' }, el('span', { class: 'task-text' })));
    tr.append(el('td', { 'data-col': 'tokens', class: 'num' }));
    tr.append(el('td', { 'data-col': 'runtime', class: 'num' }));
    tr.append(el('td', { 'data-col': 'cost', class: 'num' }));
    tr.append(el('td', { 'data-col': 'created' }, el('time')));
    tr.append(el('td', { 'data-col': 'actions' },
      el('button', { type: 'button', class: 'btn btn-small', 'data-action': 'view', text: 'View' }),
      el('button', { type: 'button', class: 'btn btn-small', 'data-action': 'terminate', text: 'Terminate' }),
      el('button', { type: 'button', class: 'btn btn-small btn-danger-outline', 'data-action': 'destroy', text: 'Destroy' })));
    return tr;
  }

  function renderRow(tr, a) {
    const cell = (col) => tr.querySelector(`td[data-col=${col}]`);
    setText(cell('name').firstChild, a.name);
    setText(cell('name').lastChild, a.agent_type);
    if (state.showTenant) setText(cell('tenant'), a.tenant || '—');
    const badge = cell('status').firstChild;
    setText(badge, a.status);
    const cls = `badge badge-${a.status}`;
    if (badge.className !== cls) badge.className = cls;
    badge.title = a.stop_reason ? `stopped: ${a.stop_reason}` : '';
    setText(cell('sandbox'), a.sandbox_id || '—');
    cell('sandbox').title = a.sandbox_id || '';
    setText(cell('task').firstChild, a.task_description || '—');
    cell('task').title = a.task_description || '';
    setText(cell('tokens'), nf.format(a.tokens_used));
    setText(cell('runtime'), duration(a.execution_time_ms));
    setText(cell('cost'), money(a.cost_usd));
    const created = cell('created').firstChild;
    setText(created, clock(a.created_at));
    created.title = a.created_at || '';
    const finished = a.status === 'completed' || a.status === 'failed';
    const terminate = tr.querySelector('[data-action=terminate]');
    if (terminate.disabled !== finished) terminate.disabled = finished;
    terminate.title = finished ? 'already stopped' : '';
    const checked = state.selected.has(a.id);
    const box = tr.querySelector('input[data-select]');
    if (box.checked !== checked) box.checked = checked;
    tr.classList.toggle('selected', checked);
  }

  // Rows are kept and updated in place by agent id, so a refresh does not
  // disturb focus, a checkbox being clicked or the scroll position.
  function renderAgents() {
    const tenantColumn = Boolean(state.caller && state.caller.admin && state.agents.some((a) => a.tenant));
    if (tenantColumn !== state.showTenant) {
      state.showTenant = tenantColumn;
      $('th.col-tenant').hidden = !tenantColumn;
    }
    const tbody = $('#agents tbody');
    const old = new Map($$('tr[data-agent-id]', tbody).map((tr) => [tr.dataset.agentId, tr]));
    // The selection is of agents on this page.
    const onPage = new Set(state.agents.map((a) => a.id));
    for (const id of state.selected) if (!onPage.has(id)) state.selected.delete(id);
    let previous = null;
    for (const a of state.agents) {
      let tr = old.get(a.id);
      old.delete(a.id);
      if (tr && tr.dataset.tenantCol !== String(state.showTenant)) { tr.remove(); tr = null; }
      if (!tr) tr = buildRow(a);
      renderRow(tr, a);
      const wanted = previous ? previous.nextSibling : tbody.firstChild;
      if (wanted !== tr) tbody.insertBefore(tr, wanted);
      previous = tr;
    }
    for (const tr of old.values()) tr.remove();

    const filtered = state.filters.status || state.filters.type || state.filters.q;
    $('[data-testid=empty]').hidden = state.agents.length > 0;
    setText($('#empty-hint'), filtered ? 'No agent matches these filters.' : 'Deploy one to see it run.');
    const first = state.total ? state.offset + 1 : 0;
    const last = state.offset + state.agents.length;
    setText($('[data-testid=page-info]'), state.total ? `${nf.format(first)}–${nf.format(last)} of ${nf.format(state.total)}` : '0 agents');
    $('#page-prev').disabled = state.offset === 0;
    $('#page-next').disabled = last >= state.total;
    renderSelection();
    renderSortHeaders();
  }

  function renderSelection() {
    const n = state.selected.size;
    setText($('[data-testid=selection-count]'), `${n} selected`);
    $('#bulk-terminate').disabled = n === 0;
    $('#bulk-destroy').disabled = n === 0;
    const all = $('#select-all');
    all.checked = n > 0 && n === state.agents.length;
    all.indeterminate = n > 0 && n < state.agents.length;
  }

  function renderSortHeaders() {
    for (const b of $$('th button[data-sort]')) {
      const th = b.closest('th');
      const sort = b.dataset.sort === state.sort ? (state.order === 'asc' ? 'ascending' : 'descending') : 'none';
      if (th.getAttribute('aria-sort') !== sort) th.setAttribute('aria-sort', sort);
    }
  }

  // Filters, search, sort and paging ask the server again at once. The
  // selection keeps the agents still listed (renderAgents drops the rest).
  function reload() {
    loadAgents().catch(handleActionError);
  }

  function handleActionError(e) {
    if (e instanceof NetworkError) { setBanner(true); return; }
    if (e instanceof ApiError && e.status === 401) return; // signed out already
    if (e.name !== 'AbortError') toast(e.message, true);
  }

  // ---- confirmation ----------------------------------------------------------

  function confirmAction(title, text, okLabel) {
    const dialog = $('#confirm');
    setText($('#confirm-title'), title);
    setText($('#confirm-text'), text);
    setText($('#confirm-ok'), okLabel);
    return new Promise((resolve) => {
      const done = (answer) => {
        $('#confirm-ok').removeEventListener('click', ok);
        $('#confirm-cancel').removeEventListener('click', cancel);
        dialog.removeEventListener('close', cancel);
        if (dialog.open) dialog.close();
        resolve(answer);
      };
      const ok = () => done(true);
      const cancel = () => done(false);
      $('#confirm-ok').addEventListener('click', ok);
      $('#confirm-cancel').addEventListener('click', cancel);
      dialog.addEventListener('close', cancel);
      dialog.showModal();
      $('#confirm-cancel').focus();
    });
  }

  // ---- actions on agents -----------------------------------------------------

  const terminate = (id) => api('DELETE', `/api/agents/${encodeURIComponent(id)}?terminate_only=true`);
  const destroy = (id) => api('DELETE', `/api/agents/${encodeURIComponent(id)}`);

  async function actOn(action, agent) {
    const what = action === 'terminate'
      ? ['Terminate agent', `Stop ${agent.name} (${agent.id})? Its record and logs are kept.`, 'Terminate']
      : ['Destroy agent', `Stop ${agent.name} (${agent.id}) and delete its record and logs? This cannot be undone.`, 'Destroy'];
    if (!(await confirmAction(...what))) return;
    try {
      await (action === 'terminate' ? terminate(agent.id) : destroy(agent.id));
      toast(action === 'terminate' ? `Terminated ${agent.name}` : `Destroyed ${agent.name}`);
      if (action === 'destroy' && state.detail && state.detail.id === agent.id) $('#detail').close();
    } catch (e) {
      handleActionError(e);
    }
    refresh();
  }

  async function bulk(action) {
    const ids = [...state.selected];
    if (ids.length === 0) return;
    const label = action === 'terminate' ? 'Terminate' : 'Destroy';
    const text = action === 'terminate'
      ? `Stop ${ids.length} agent${ids.length > 1 ? 's' : ''}? Their records and logs are kept.`
      : `Stop ${ids.length} agent${ids.length > 1 ? 's' : ''} and delete their records and logs? This cannot be undone.`;
    if (!(await confirmAction(`${label} ${ids.length} agent${ids.length > 1 ? 's' : ''}`, text, label))) return;
    const results = await Promise.allSettled(ids.map((id) => (action === 'terminate' ? terminate(id) : destroy(id))));
    const failed = results.filter((r) => r.status === 'rejected');
    // Terminating a finished agent is refused (409): not a failure worth
    // more than a mention.
    const ok = results.length - failed.length;
    const verb = action === 'terminate' ? 'terminated' : 'destroyed';
    if (failed.length) toast(`${ok} ${verb}, ${failed.length} failed: ${failed[0].reason.message}`, true);
    else toast(`${ok} ${verb}`);
    state.selected.clear();
    refresh();
  }

  // ---- deploying -------------------------------------------------------------

  function addEnvRow(key = '', value = '') {
    const row = el('div', { class: 'env-row' },
      el('input', { class: 'env-key', placeholder: 'NAME', 'aria-label': 'Variable name', autocomplete: 'off', spellcheck: 'false' }),
      el('input', { class: 'env-value', type: 'password', placeholder: 'value', 'aria-label': 'Variable value', autocomplete: 'off' }),
      el('button', { type: 'button', class: 'icon-btn', 'aria-label': 'Remove variable', text: '×' }));
    row.querySelector('.env-key').value = key;
    row.querySelector('.env-value').value = value;
    row.lastChild.addEventListener('click', () => {
      row.remove();
      if (!$('#env-rows .env-row')) addEnvRow();
    });
    $('#env-rows').append(row);
    return row;
  }

  async function loadTemplates() {
    if (state.templatesLoaded) return;
    const data = await api('GET', '/api/templates');
    const select = $('#deploy-template');
    select.replaceChildren(el('option', { value: '', text: 'Server default' }));
    for (const t of data.templates) {
      select.append(el('option', { value: t.name, text: `${t.name} — ${t.vcpu} vCPU, ${t.memory_mb} MB` }));
    }
    state.templatesLoaded = true;
  }

  function clearDeployErrors() {
    for (const e of $$('#deploy [data-error-for]')) { e.textContent = ''; e.hidden = true; }
    const general = $('[data-testid=deploy-error]');
    general.textContent = '';
    general.hidden = true;
    for (const i of $$('#deploy [aria-invalid]')) i.removeAttribute('aria-invalid');
  }

  // The element that shows an error about `field` ("config.timeout",
  // "environment.X", "capabilities[1]"), or null.
  function errorSlot(field) {
    if (!field) return null;
    const candidates = [field, field.split(/[.[]/)[0]];
    if (field.startsWith('config.')) candidates.splice(1, 0, field.split('[')[0]);
    for (const c of candidates) {
      const slot = $(`#deploy [data-error-for="${CSS.escape(c)}"]`);
      if (slot) return slot;
    }
    return null;
  }

  function openDeploy() {
    const dialog = $('#deploy');
    if (!$('#env-rows .env-row')) addEnvRow();
    clearDeployErrors();
    dialog.showModal();
    $('#deploy-name').focus();
    loadTemplates().catch(handleActionError);
  }

  function resetDeploy() {
    $('#deploy-form').reset();
    $('#env-rows').replaceChildren();
    addEnvRow();
    clearDeployErrors();
  }

  async function submitDeploy() {
    clearDeployErrors();
    const body = { agent_name: $('#deploy-name').value.trim(), agent_type: $('#deploy-type').value };
    const task = $('#deploy-task').value.trim();
    if (task) body.task_description = task;
    const template = $('#deploy-template').value;
    if (template) body.template = template;
    const env = {};
    for (const row of $$('#env-rows .env-row')) {
      const k = row.querySelector('.env-key').value.trim();
      if (k) env[k] = row.querySelector('.env-value').value;
    }
    if (Object.keys(env).length) body.environment = env;
    const caps = $('#deploy-capabilities').value.split(',').map((c) => c.trim()).filter(Boolean);
    if (caps.length) body.capabilities = caps;
    const timeout = $('#deploy-timeout').value.trim();
    if (timeout) body.config = { timeout: /^\d+$/.test(timeout) ? Number(timeout) : timeout };
    const submit = $('#deploy-submit');
    submit.disabled = true;
    try {
      const created = await api('POST', '/api/agents/deploy', body);
      $('#deploy').close();
      resetDeploy();
      toast(`Deployed ${body.agent_name} (${created.agent_id})`);
      // Shown at once: the newest agent tops the default order.
      refresh();
    } catch (e) {
      if (e instanceof ApiError && e.status !== 401) {
        const slot = errorSlot(e.field);
        const target = slot || $('[data-testid=deploy-error]');
        target.textContent = e.message;
        target.hidden = false;
        const input = slot && slot.closest('.field') && slot.closest('.field').querySelector('input, select, textarea');
        if (input) { input.setAttribute('aria-invalid', 'true'); input.focus(); }
      } else if (e instanceof NetworkError) {
        const general = $('[data-testid=deploy-error]');
        general.textContent = 'Cannot reach the evoclaw server; nothing was deployed.';
        general.hidden = false;
      }
    } finally {
      submit.disabled = false;
    }
  }

  // ---- the detail view ---------------------------------------------------------

  async function openDetail(id) {
    closeDetail();
    state.detail = { id, abort: new AbortController(), lines: [''], ended: false, agent: null };
    $('[data-testid=detail-logs]').textContent = '';
    setText($('#detail-log-state'), 'connecting…');
    $('[data-testid=detail-error]').hidden = true;
    const dialog = $('#detail');
    if (!dialog.open) dialog.showModal();
    $('#detail-close').focus();
    try {
      await refreshDetail();
    } catch (e) {
      handleActionError(e);
      return;
    }
    followLog(state.detail);
  }

  function closeDetail() {
    if (state.detail) state.detail.abort.abort();
    state.detail = null;
  }

  // The record again (status, history, usage) while the view is open.
  async function refreshDetail() {
    const d = state.detail;
    if (!d) return;
    let agent;
    try {
      agent = await api('GET', `/api/agents/${encodeURIComponent(d.id)}`, undefined, { signal: d.abort.signal });
    } catch (e) {
      if (e instanceof ApiError && e.status === 404 && state.detail === d) {
        $('#detail').close();
        toast('That agent no longer exists.', true);
        return;
      }
      if (e.name === 'AbortError') return;
      throw e;
    }
    if (state.detail !== d) return;
    d.agent = agent;
    renderDetail(agent);
  }

  function renderDetail(a) {
    setText($('#detail-title'), a.name);
    setText($('#detail-id'), `${a.id} · ${a.agent_type}${a.tenant ? ` · tenant ${a.tenant}` : ''}`);
    const status = $('[data-testid=detail-status]');
    status.replaceChildren(el('span', { class: `badge badge-${a.status}`, text: a.status }));
    setText($('[data-testid=detail-task]'), a.task_description || '—');
    setText($('[data-testid=detail-template]'), `${a.template} (${a.provider}${a.sandbox_id ? `, sandbox ${a.sandbox_id}` : ''})`);
    const cfg = a.config || {};
    const command = Array.isArray(cfg.command) ? cfg.command.join(' ') : 'the template\'s entrypoint';
    setText($('[data-testid=detail-config]'),
      `timeout ${cfg.timeout ?? a.timeout_sec} s · keep-alive ${cfg.keep_alive ? 'on' : 'off'} · mode ${a.mode}\ncommand: ${command}`);
    setText($('[data-testid=detail-capabilities]'), a.capabilities && a.capabilities.length ? a.capabilities.join(', ') : '—');
    const env = $('[data-testid=detail-env]');
    const keys = a.environment_keys || [];
    // Values never leave the server: only the names are known here.
    const envText = keys.length ? keys.map((k) => `${k} = ••••••`) : ['none'];
    if ($$('li', env).map((li) => li.textContent).join('\n') !== envText.join('\n')) {
      env.replaceChildren(...envText.map((t) => el('li', { class: keys.length ? '' : 'muted', text: t })));
    }
    setText($('#detail-usage'), `${nf.format(a.tokens_used)} tokens · ${duration(a.execution_time_ms)} · ${money(a.cost_usd)}`);
    const history = [];
    history.push({ cls: 's-pending', text: 'pending — created', at: a.created_at });
    if (a.started_at) history.push({ cls: 's-running', text: 'running — sandbox started', at: a.started_at });
    if (a.completed_at) {
      const why = [a.stop_reason, a.exit_code !== null && a.exit_code !== undefined ? `exit code ${a.exit_code}` : null].filter(Boolean).join(', ');
      history.push({ cls: `s-${a.status}`, text: `${a.status}${why ? ` — ${why}` : ''}`, at: a.completed_at });
    } else if (a.deadline_at) {
      history.push({ cls: '', text: `times out at ${clock(a.deadline_at)} unless extended`, at: null });
    }
    const list = $('[data-testid=detail-history]');
    const signature = history.map((h) => `${h.text}@${h.at}`).join('|');
    if (list.dataset.signature !== signature) {
      list.dataset.signature = signature;
      list.replaceChildren(...history.map((h) => el('li', { class: h.cls }, h.text, h.at ? timeEl(h.at) : null)));
    }
    const error = $('[data-testid=detail-error]');
    setText(error, a.error_message ? `Error: ${a.error_message}` : '');
    error.hidden = !a.error_message;
  }

  // Follow the agent's output as a stream until it ends (or the view
  // closes). EventSource cannot send the key header; fetch can.
  async function followLog(d) {
    const pre = $('[data-testid=detail-logs]');
    let res;
    try {
      res = await request('GET', `/api/agents/${encodeURIComponent(d.id)}/logs?follow=1`, undefined, { signal: d.abort.signal });
    } catch (e) {
      if (state.detail === d) setText($('#detail-log-state'), 'log unavailable');
      return;
    }
    if (!res.ok) {
      if (state.detail === d) setText($('#detail-log-state'), `log unavailable (${res.status})`);
      return;
    }
    setText($('#detail-log-state'), 'following');
    const reader = res.body.getReader();
    const decoder = new TextDecoder();
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done || state.detail !== d) break;
        appendLog(d, pre, decoder.decode(value, { stream: true }));
      }
    } catch (e) {
      if (e.name === 'AbortError' || state.detail !== d) return;
    }
    if (state.detail !== d) return;
    d.ended = true;
    setText($('#detail-log-state'), 'agent ended');
    refreshDetail().catch(handleActionError);
  }

  function appendLog(d, pre, text) {
    // Stay at the bottom unless the reader scrolled up.
    const atBottom = pre.scrollHeight - pre.scrollTop - pre.clientHeight < 24;
    const parts = text.split('\n');
    d.lines[d.lines.length - 1] += parts[0];
    for (let i = 1; i < parts.length; i++) d.lines.push(parts[i]);
    if (d.lines.length > LOG_LINES_KEPT) d.lines.splice(0, d.lines.length - LOG_LINES_KEPT);
    pre.textContent = d.lines.join('\n');
    if (atBottom) pre.scrollTop = pre.scrollHeight;
  }

  // ---- the spend chart ---------------------------------------------------------

  let chartBudget = 0;
  const SVG = 'http://www.w3.org/2000/svg';
  function svg(tag, attrs = {}, text) {
    const e = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
    if (text !== undefined) e.textContent = text;
    return e;
  }

  async function loadChart() {
    const data = await api('GET', `/api/cloud/costs/history?window_sec=${state.range}`);
    if (state.key) drawChart(data.points || []);
  }

  function drawChart(points) {
    const chart = $('#spend-chart');
    const width = Math.max(280, Math.round(chart.getBoundingClientRect().width) || 800);
    const height = 220;
    const pad = { left: 62, right: 14, top: 14, bottom: 28 };
    chart.setAttribute('viewBox', `0 0 ${width} ${height}`);
    const now = Date.now();
    const t0 = now - state.range * 1000;
    const spent = points.map((p) => ({ t: Date.parse(p.at), v: Number(p.spent_usd) || 0 }))
      .filter((p) => !Number.isNaN(p.t));
    const max = spent.reduce((m, p) => Math.max(m, p.v), 0);
    $('[data-testid=chart-empty]').hidden = max > 0;
    const nodes = [];
    // Show the budget line when it is on the same scale as the spend.
    const showBudget = chartBudget > 0 && max > 0 && chartBudget <= max * 4;
    const top = Math.max(showBudget ? chartBudget * 1.05 : 0, max * 1.15, 0.0001);
    const x = (t) => pad.left + ((Math.min(Math.max(t, t0), now) - t0) / (now - t0)) * (width - pad.left - pad.right);
    const y = (v) => height - pad.bottom - (v / top) * (height - pad.top - pad.bottom);
    for (let i = 0; i <= 4; i++) {
      const v = (top * i) / 4;
      nodes.push(svg('line', { class: 'axis', x1: pad.left, x2: width - pad.right, y1: y(v), y2: y(v) }));
      nodes.push(svg('text', { class: 'tick', x: pad.left - 8, y: y(v) + 4, 'text-anchor': 'end' }, money(v)));
    }
    const labelTime = (t) => new Date(t).toLocaleString('en-GB', state.range > 86400
      ? { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', hour12: false }
      : { hour: '2-digit', minute: '2-digit', hour12: false });
    for (const f of [0, 0.5, 1]) {
      const t = t0 + f * (now - t0);
      nodes.push(svg('text', { class: 'tick', x: x(t), y: height - 8, 'text-anchor': f === 0 ? 'start' : f === 1 ? 'end' : 'middle' }, labelTime(t)));
    }
    if (showBudget) {
      nodes.push(svg('line', { class: 'budget', x1: pad.left, x2: width - pad.right, y1: y(chartBudget), y2: y(chartBudget) }));
      nodes.push(svg('text', { class: 'budget-label', x: width - pad.right, y: y(chartBudget) - 5, 'text-anchor': 'end' }, `budget ${money(chartBudget)}`));
    }
    if (max > 0 && spent.length) {
      // Cumulative spend holds its value until the next sample: steps.
      let d = `M ${x(spent[0].t)} ${y(spent[0].v)}`;
      for (let i = 1; i < spent.length; i++) d += ` H ${x(spent[i].t)} V ${y(spent[i].v)}`;
      d += ` H ${x(now)}`;
      const base = y(0);
      nodes.push(svg('path', { class: 'area', d: `${d} V ${base} H ${x(spent[0].t)} Z` }));
      nodes.push(svg('path', { class: 'line', d }));
      for (const p of spent) {
        const dot = svg('circle', { class: 'dot', cx: x(p.t), cy: y(p.v), r: 3.5, tabindex: 0 });
        dot.append(svg('title', {}, `${new Date(p.t).toLocaleString('en-GB', { hour12: false })}: ${money(p.v)}`));
        nodes.push(dot);
      }
    }
    chart.replaceChildren(...nodes);
    chart.setAttribute('aria-label', `Cumulative spend over the last ${state.range / 3600} hours: ${money(max)}`);
  }

  // ---- wiring --------------------------------------------------------------------

  function debounce(fn, ms) {
    let t = null;
    return (...args) => { clearTimeout(t); t = setTimeout(() => fn(...args), ms); };
  }

  function agentById(id) {
    return state.agents.find((a) => a.id === id);
  }

  function wire() {
    for (const t of AGENT_TYPES) {
      $('#filter-type').append(el('option', { value: t, text: t }));
      $('#deploy-type').append(el('option', { value: t, text: t }));
    }
    $('#deploy-type').value = 'coder';

    $('#signin').addEventListener('submit', (e) => {
      e.preventDefault();
      signIn($('#api-key').value.trim());
    });
    $('#signout').addEventListener('click', () => signOut());
    $('#refresh-toggle').addEventListener('click', () => {
      state.autoRefresh = !state.autoRefresh;
      const b = $('#refresh-toggle');
      b.setAttribute('aria-pressed', String(state.autoRefresh));
      b.textContent = `Auto-refresh: ${state.autoRefresh ? 'on' : 'paused'}`;
      if (state.autoRefresh) refresh();
      else { clearTimeout(state.timer); state.timer = null; }
    });

    $('#filter-status').addEventListener('change', (e) => { state.filters.status = e.target.value; state.offset = 0; reload(); });
    $('#filter-type').addEventListener('change', (e) => { state.filters.type = e.target.value; state.offset = 0; reload(); });
    $('#search').addEventListener('input', debounce((e) => { state.filters.q = e.target.value.trim(); state.offset = 0; reload(); }, 250));
    for (const b of $$('th button[data-sort]')) {
      b.addEventListener('click', () => {
        const column = b.dataset.sort;
        if (state.sort === column) state.order = state.order === 'asc' ? 'desc' : 'asc';
        else { state.sort = column; state.order = ASCENDING_FIRST.has(column) ? 'asc' : 'desc'; }
        state.offset = 0;
        renderSortHeaders();
        reload();
      });
    }
    $('#page-prev').addEventListener('click', () => { state.offset = Math.max(0, state.offset - PAGE_SIZE); reload(); });
    $('#page-next').addEventListener('click', () => { if (state.offset + PAGE_SIZE < state.total) { state.offset += PAGE_SIZE; reload(); } });

    const tbody = $('#agents tbody');
    tbody.addEventListener('click', (e) => {
      const button = e.target.closest('button[data-action]');
      if (!button) return;
      const id = button.closest('tr').dataset.agentId;
      const agent = agentById(id) || { id, name: id };
      if (button.dataset.action === 'view') openDetail(id);
      else actOn(button.dataset.action, agent);
    });
    tbody.addEventListener('change', (e) => {
      if (!e.target.matches('input[data-select]')) return;
      const tr = e.target.closest('tr');
      if (e.target.checked) state.selected.add(tr.dataset.agentId);
      else state.selected.delete(tr.dataset.agentId);
      tr.classList.toggle('selected', e.target.checked);
      renderSelection();
    });
    $('#select-all').addEventListener('change', (e) => {
      state.selected.clear();
      if (e.target.checked) for (const a of state.agents) state.selected.add(a.id);
      for (const tr of $$('tr[data-agent-id]', tbody)) {
        const on = state.selected.has(tr.dataset.agentId);
        tr.querySelector('input[data-select]').checked = on;
        tr.classList.toggle('selected', on);
      }
      renderSelection();
    });
    $('#bulk-terminate').addEventListener('click', () => bulk('terminate'));
    $('#bulk-destroy').addEventListener('click', () => bulk('destroy'));

    $('#deploy-open').addEventListener('click', openDeploy);
    $('#deploy-close').addEventListener('click', () => $('#deploy').close());
    $('#deploy-cancel').addEventListener('click', () => $('#deploy').close());
    $('#env-add').addEventListener('click', () => addEnvRow().querySelector('.env-key').focus());
    $('#deploy-form').addEventListener('submit', (e) => { e.preventDefault(); submitDeploy(); });

    $('#detail-close').addEventListener('click', () => $('#detail').close());
    $('#detail').addEventListener('close', closeDetail);

    for (const b of $$('button[data-range]')) {
      b.addEventListener('click', () => {
        state.range = Number(b.dataset.range);
        for (const o of $$('button[data-range]')) o.setAttribute('aria-pressed', String(o === b));
        loadChart().catch(handleActionError);
      });
    }
    window.addEventListener('resize', debounce(() => { if (state.key) loadChart().catch(handleActionError); }, 200));
  }

  function start() {
    wire();
    addEnvRow();
    const key = sessionStorage.getItem(KEY_STORAGE);
    if (key) signIn(key);
    else $('#api-key').focus();
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
