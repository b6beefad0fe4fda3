// Mamori web UI. Plain JavaScript, no build step: it uses only the public
// REST API under /api/v1 (session cookie + X-CSRF-Token), so anything it does
// a script can do too. Pages are routed by the URL fragment (#/discover?…).
'use strict';

(function () {
  // ---------------------------------------------------------------- helpers
  const $ = (sel, root) => (root || document).querySelector(sel);

  /** Build an element: h('div.cls#id', {attrs, on: {click}}, children...). */
  function h(spec, attrs, ...kids) {
    const tag = /^[a-z0-9]*/i.exec(spec)[0] || 'div';
    const el = document.createElement(tag);
    const classes = [];
    for (const [, kind, name] of spec.slice(tag === 'div' && !spec.startsWith('div') ? 0 : tag.length).matchAll(/([.#])([\w-]+)/g)) {
      if (kind === '#') el.id = name; else classes.push(name);
    }
    if (classes.length) el.className = classes.join(' ');
    if (attrs && (typeof attrs !== 'object' || attrs instanceof Node || Array.isArray(attrs))) {
      kids.unshift(attrs);
      attrs = null;
    }
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'style') el.style.cssText = v; // CSSOM: allowed by the CSP, unlike style attributes
      else if (k === 'on') for (const [ev, fn] of Object.entries(v)) el.addEventListener(ev, fn);
      else if (k === 'class') el.className += (el.className ? ' ' : '') + v;
      else if (k === 'dataset') Object.assign(el.dataset, v);
      else if (k === 'value' || (k in el && typeof v !== 'string')) el[k] = v;
      else el.setAttribute(k, v === true ? '' : v);
    }
    add(el, kids);
    return el;
  }
  function add(el, kids) {
    for (const k of kids.flat(Infinity)) {
      if (k === null || k === undefined || k === false) continue;
      el.appendChild(k instanceof Node ? k : document.createTextNode(String(k)));
    }
    return el;
  }
  function clear(el, ...kids) {
    el.textContent = '';
    return add(el, kids);
  }
  const fmtN = (n) => (n === undefined || n === null ? '–' : Number(n).toLocaleString('en-US'));
  const pad = (n) => String(n).padStart(2, '0');
  function fmtTime(s, withMs) {
    if (!s) return '–';
    const d = new Date(s);
    if (isNaN(d)) return String(s);
    const t = `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
    return withMs ? `${t}.${String(d.getMilliseconds()).padStart(3, '0')}` : t;
  }
  function ago(s) {
    if (!s) return 'never';
    const sec = Math.round((Date.now() - new Date(s).getTime()) / 1000);
    if (sec < 60) return `${sec} s ago`;
    if (sec < 3600) return `${Math.round(sec / 60)} min ago`;
    if (sec < 172800) return `${Math.round(sec / 3600)} h ago`;
    return `${Math.round(sec / 86400)} days ago`;
  }
  function toast(text) {
    document.querySelectorAll('.toast').forEach((x) => x.remove());
    const t = h('div.toast', text);
    document.body.appendChild(t);
    setTimeout(() => t.remove(), 1800);
  }
  async function copy(text) {
    try {
      await navigator.clipboard.writeText(text);
    } catch (_) {
      const ta = h('textarea', { value: text });
      document.body.appendChild(ta);
      ta.select();
      document.execCommand('copy');
      ta.remove();
    }
    toast('Copied');
  }
  const copyBtn = (text, title) =>
    h('button.icon', { title: title || 'Copy', on: { click: (e) => { e.stopPropagation(); copy(typeof text === 'function' ? text() : text); } } }, 'copy');

  /** Leaf values of a document as dotted paths (arrays stay whole). */
  function flatten(obj, prefix, out) {
    out = out || {};
    for (const [k, v] of Object.entries(obj || {})) {
      const key = prefix ? `${prefix}.${k}` : k;
      if (v && typeof v === 'object' && !Array.isArray(v)) flatten(v, key, out);
      else out[key] = v;
    }
    return out;
  }
  function getPath(doc, path) {
    if (doc && Object.prototype.hasOwnProperty.call(doc, path)) return doc[path];
    let cur = doc;
    for (const part of path.split('.')) {
      if (cur === null || typeof cur !== 'object') return undefined;
      cur = cur[part];
    }
    return cur;
  }
  const show = (v) => (v === undefined || v === null ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v));

  // ------------------------------------------------------------ the API
  const session = { me: null, csrf: null, tenants: [] };
  let pending = 0; // requests in flight (the browser tests wait for 0)
  let navigating = false; // the hash changed and its page is not drawn yet
  window.mamoriIdle = () => pending === 0 && !navigating;

  class ApiError extends Error {
    constructor(status, body) {
      super(body.message || `HTTP ${status}`);
      this.status = status;
      this.code = body.code || 'http_' + status;
      this.column = body.column;
      this.retryAfter = body.retryAfter;
    }
  }

  /** Call the REST API; rejects with an ApiError carrying the API's code, message and column. */
  async function api(method, path, body, raw) {
    const headers = {};
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (method !== 'GET' && session.csrf) headers['X-CSRF-Token'] = session.csrf;
    pending++;
    try {
      let resp;
      try {
        resp = await fetch('/api/v1' + path, {
          method, headers, credentials: 'same-origin',
          body: body === undefined ? undefined : JSON.stringify(body),
        });
      } catch (e) {
        throw new ApiError(0, { code: 'network', message: 'the server cannot be reached (is it running? is the network up?)' });
      }
      if (!resp.ok) {
        let b = {};
        try { b = await resp.json(); } catch (_) { b = { message: `${resp.status} ${resp.statusText}` }; }
        b.retryAfter = resp.headers.get('Retry-After');
        const err = new ApiError(resp.status, b);
        if (resp.status === 401 && path !== '/login' && session.me) {
          session.me = null;
          go('#/login');
        }
        throw err;
      }
      if (raw) return resp;
      if (resp.status === 204) return null;
      return await resp.json();
    } finally {
      pending--;
    }
  }

  /** An API error in words a user understands. */
  function explain(err) {
    if (!(err instanceof ApiError)) return String(err && err.message || err);
    switch (err.code) {
      case 'network': return 'The server cannot be reached. Check that Mamori is running and try again.';
      case 'unauthorized': return 'Your session has ended. Please log in again.';
      case 'bad_credentials': return 'Wrong user name or password.';
      case 'tenant_not_found': return `${err.message}. It does not exist, or your account may not see it.`;
      case 'not_found': return `Not found: ${err.message}. It may not exist, or belong to a tenant you cannot see.`;
      case 'forbidden': return `Not allowed: ${err.message}.`;
      case 'bad_filter': return `The filter has a mistake${err.column && !/column/.test(err.message) ? ` at column ${err.column}` : ''}: ${err.message}.`;
      case 'bad_time': return `The time range is not understood: ${err.message}. Use e.g. -15m, -24h, -7d, now, or 2024-05-01T10:00:00Z.`;
      case 'too_broad': return `${err.message}.`;
      case 'busy': return `The server is busy${err.retryAfter ? `; try again in ${err.retryAfter} s` : '; try again shortly'}.`;
      case 'invalid': return `Not accepted: ${err.message}`;
      case 'internal': return `The server failed: ${err.message}. Try again; if it persists, tell an administrator.`;
      default: return err.message;
    }
  }
  const sentence = (text) => text.charAt(0).toUpperCase() + text.slice(1);
  const errBox = (err) => h('div.error', { role: 'alert' }, sentence(explain(err)));

  // ------------------------------------------------------------ prefs
  const prefs = {
    get(k, d) { try { const v = localStorage.getItem('mamori.' + k); return v === null ? d : JSON.parse(v); } catch (_) { return d; } },
    set(k, v) { try { localStorage.setItem('mamori.' + k, JSON.stringify(v)); } catch (_) { /* private mode */ } },
  };
  function applyTheme() {
    const t = prefs.get('theme', null) || (matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light');
    document.documentElement.dataset.theme = t;
  }
  applyTheme();

  // ------------------------------------------------------------ routing
  function go(hash) {
    if (location.hash === hash) return route();
    navigating = true; // until the hashchange event runs the route
    location.hash = hash;
  }
  function parseHash() {
    const raw = location.hash.replace(/^#/, '') || '/discover';
    const [path, qs] = raw.split('?');
    return { parts: path.split('/').filter(Boolean).map(decodeURIComponent), params: new URLSearchParams(qs || '') };
  }
  let closers = []; // what Esc closes, innermost last
  const app = () => $('#app');

  // Main navigation; `config` pages need a role that reads configuration (not customers).
  const NAV = [
    { id: 'discover', label: 'Discover', hash: '#/discover' },
    { id: 'alerts', label: 'Alerts', hash: '#/alerts' },
    { id: 'rules', label: 'Rules', hash: '#/rules', config: true },
    { id: 'exclusions', label: 'Exclusions', hash: '#/exclusions', config: true },
    { id: 'sources', label: 'Sources', hash: '#/sources' },
    { id: 'lists', label: 'Context lists', hash: '#/lists' },
    { id: 'admin', label: 'Admin', hash: '#/admin/tenants', admin: true },
  ];

  function currentTenants() {
    const t = prefs.get('tenant', null);
    const names = session.tenants.map((x) => x.name);
    if (t === '*' && names.length > 1) return names;
    if (t && names.includes(t)) return [t];
    return names.length ? [names[0]] : [];
  }
  /** Whether the user may change configuration (saved searches, context lists). */
  const canWrite = () => session.me && (session.me.role === 'admin' || session.me.role === 'analyst');
  function oneTenant() {
    const t = currentTenants();
    return t.length === 1 ? t[0] : (session.tenants[0] || {}).name;
  }

  function frame(active, body) {
    const names = session.tenants.map((t) => t.name);
    const sel = prefs.get('tenant', null);
    const tenantSelect = h('select#tenant', {
      title: 'Tenant',
      on: { change: (e) => { prefs.set('tenant', e.target.value); route(); } },
    },
    names.length > 1 ? h('option', { value: '*' }, 'All tenants') : null,
    names.map((n) => h('option', { value: n }, n)));
    tenantSelect.value = sel === '*' && names.length > 1 ? '*' : currentTenants()[0] || '';
    const menuList = h('div.menu-list', { hidden: true },
      h('div.who', `${session.me.user} · ${session.me.role}`),
      h('button#theme', { on: { click: () => { const d = document.documentElement.dataset.theme === 'dark'; prefs.set('theme', d ? 'light' : 'dark'); applyTheme(); menuList.hidden = true; } } }, 'Switch light / dark'),
      h('button', { on: { click: () => { menuList.hidden = true; go('#/tokens'); } } }, 'My API tokens'),
      h('button#logout', { on: { click: logout } }, 'Log out'));
    const menu = h('div.menu#user-menu',
      h('button', {
        title: 'User menu',
        on: { click: (e) => { e.stopPropagation(); menuList.hidden = !menuList.hidden; if (!menuList.hidden) closers.push(() => { menuList.hidden = true; }); } },
      }, `${session.me.user} ▾`), menuList);
    document.querySelectorAll('.flyout, .pop, .modal-back').forEach((x) => x.remove());
    clear(app(),
      h('header.top',
        h('a.brand', { href: '#/discover' }, h('img', { src: 'icon.svg', alt: '' }), 'Mamori'),
        h('nav.main', NAV.filter((n) => (!n.admin || session.me.role === 'admin') && (!n.config || session.me.role !== 'customer')).map((n) =>
          h('a', { href: n.hash, class: n.id === active ? 'on' : '' }, n.label))),
        h('label.tenant-switch', 'Tenant', tenantSelect),
        menu),
      h('main', body));
  }

  async function logout() {
    try { await api('POST', '/logout', {}); } catch (_) { /* gone anyway */ }
    session.me = null;
    session.csrf = null;
    go('#/login');
  }

  async function ensureSession() {
    if (session.me) return true;
    try {
      const me = await api('GET', '/me');
      session.me = me;
      session.csrf = me.csrf;
      session.tenants = await api('GET', '/tenants');
      return true;
    } catch (e) {
      return false;
    }
  }

  async function route() {
    navigating = false;
    closers = [];
    const { parts, params } = parseHash();
    if (parts[0] === 'login') return loginPage(params);
    if (!(await ensureSession())) return go('#/login?next=' + encodeURIComponent(location.hash || '#/discover'));
    switch (parts[0]) {
      case 'discover': return discoverPage(params);
      case 'event': return eventPage(parts[1], parts[2]);
      case 'alerts': return alertsPage(params);
      case 'alert': return alertPage(parts[1]);
      case 'rules': return rulesPage(parts[1]);
      case 'exclusions': return exclusionsPage(params);
      case 'sources': return sourcesPage(params);
      case 'lists': return listsPage(parts[1]);
      case 'tokens': return adminPage('tokens');
      case 'admin': return adminPage(parts[1] || 'tenants');
      default: return go('#/discover');
    }
  }

  // ------------------------------------------------------------ login
  function loginPage(params) {
    const err = h('div');
    const user = h('input#login-user', { autocomplete: 'username', required: true, autofocus: true });
    const pw = h('input#login-password', { type: 'password', autocomplete: 'current-password', required: true });
    const form = h('form.login', {
      on: {
        submit: async (e) => {
          e.preventDefault();
          clear(err);
          try {
            const me = await api('POST', '/login', { user: user.value, password: pw.value });
            session.me = me;
            session.csrf = me.csrf;
            session.tenants = await api('GET', '/tenants');
            go(params.get('next') || '#/discover');
          } catch (ex) {
            clear(err, h('div.error#login-error', { role: 'alert' }, explain(ex)));
            pw.select();
          }
        },
      },
    },
    h('h1', h('img', { src: 'icon.svg', alt: '', width: 26, height: 26 }), 'Mamori'),
    h('label', { for: 'login-user' }, 'User name'), user,
    h('label', { for: 'login-password' }, 'Password'), pw,
    err,
    h('button.primary#login-submit', { type: 'submit' }, 'Log in'));
    clear(app(), form);
    user.focus();
  }

  // ------------------------------------------------------------ Discover
  const PRESETS = [['-15m', 'Last 15 minutes'], ['-1h', 'Last hour'], ['-24h', 'Last 24 hours'], ['-7d', 'Last 7 days'], ['-30d', 'Last 30 days']];
  const PAGE = 100;
  /** Fields an analyst reads first in a row's summary; the others follow in document order. */
  const SUMMARY_FIRST = ['message', 'event.action', 'event.outcome', 'user.name', 'source.ip', 'destination.ip',
    'destination.port', 'host.name', 'process.command_line', 'url.path', 'http.request.method',
    'http.response.status_code', 'rule.name', 'event.reason', 'user_agent.original', 'event.dataset'];

  /** Quote a value for the filter language. */
  const quote = (v) => '"' + String(v).replace(/\\/g, '\\\\').replace(/"/g, '\\"') + '"';
  /** Filter text of one chip. */
  function chipText(c) {
    const base = c.raw !== undefined ? `(${c.raw})` : `${c.field}:${quote(c.value)}`;
    return c.neg ? `not ${base}` : base;
  }
  /** The query sent: the query bar AND every active chip. */
  function combined(q, chips) {
    const parts = [];
    if (q.trim()) parts.push(chips.some((c) => c.on) ? `(${q.trim()})` : q.trim());
    for (const c of chips) if (c.on) parts.push(chipText(c));
    return parts.join(' and ');
  }
  function rangeLabel(from, to) {
    const p = PRESETS.find(([f]) => f === from);
    if (p && to === 'now') return p[1];
    const f = /^\d{4}-/.test(from) ? fmtTime(from) : from;
    const t = /^\d{4}-/.test(to) ? fmtTime(to) : to;
    return `${f} → ${t}`;
  }

  const HELP = [
    ['event.action:ConsoleLogin', 'field equals a value (case-insensitive for keywords)'],
    ['"access denied"', 'words anywhere (text fields) or any whole value'],
    ['user.name:adm*', 'wildcards: * any run, ? one character'],
    ['source.ip:10.0.0.0/8', 'address inside a network'],
    ['http.response.status_code >= 500', 'comparisons: > >= < <='],
    ['bytes:[100 TO 200}', 'ranges, [ ] inclusive, { } exclusive'],
    ['_exists_:aws.cloudtrail.error_code', 'the field is present (or field:*)'],
    ['source.ip:@office', "values of the tenant's context list office"],
    ['a and not (b or c)', 'and, or, not, parentheses'],
    ['message:/fail(ed|ure)/', 'regular expression'],
    ['process.command_line:=*user.name*', "another field's value: := equal, *x* contains, x* starts, *x ends; :== case-sensitive"],
    ['2 of (a or b or c)', 'at least that many of the alternatives'],
  ];

  function discoverPage(params) {
    const st = {
      q: params.get('q') || '',
      from: params.get('from') || prefs.get('from', '-24h'),
      to: params.get('to') || prefs.get('to', 'now'),
      chips: (() => { try { return JSON.parse(params.get('chips') || '[]'); } catch (_) { return []; } })(),
      cols: params.has('cols') ? params.get('cols').split(',').filter(Boolean) : prefs.get('cols', []),
      tenants: currentTenants(),
      total: null, hits: [], offset: 0, seq: 0, expanded: new Set(prefs.get('expanded', ['event.action'])),
      facets: null, open: null,
    };
    const q = h('input.q#q', {
      value: st.q, placeholder: 'Filter, e.g. event.action:ConsoleLogin and not source.ip:@office   ( / to focus, Enter to run )',
      spellcheck: false, autocomplete: 'off',
      on: { keydown: (e) => { if (e.key === 'Enter') { e.preventDefault(); st.q = q.value; run(true); } } },
    });
    const qerr = h('div#qerr');
    const chipsEl = h('div.chips#chips');
    const timeBtn = h('button#time-btn', { title: 'Time range', on: { click: (e) => { e.stopPropagation(); timePop(timeBtn); } } });
    const hitsEl = h('span.hits#hits', '…');
    const tookEl = h('span.range#took');
    const noteEl = h('div');
    const histo = h('div.histo#histogram');
    const tbl = h('div.results#results');
    const sidebar = h('aside.sidebar#sidebar');
    const helpBtn = h('button', { title: 'Filter syntax', on: { click: (e) => { e.stopPropagation(); helpPop(helpBtn); } } }, '?');
    const savedBtn = h('button#saved-btn', { on: { click: (e) => { e.stopPropagation(); savedPop(savedBtn); } } }, 'Open ▾');
    const exportBtn = h('button#export-btn', { on: { click: (e) => { e.stopPropagation(); exportPop(exportBtn); } } }, 'Export ▾');

    frame('discover', h('div.discover',
      h('div.qbar',
        h('div.qrow', q, helpBtn, timeBtn,
          h('button.primary#run', { on: { click: () => { st.q = q.value; run(true); } } }, 'Search'),
          canWrite() ? h('button#save-btn', { on: { click: saveSearch } }, 'Save') : null, savedBtn, exportBtn),
        qerr, chipsEl),
      sidebar,
      h('section.content',
        h('div.summary', hitsEl, tookEl, h('span.spacer'),
          h('span.muted', 'Drag on the chart to zoom into a time range')),
        noteEl, histo, tbl)));

    function stateHash() {
      const p = new URLSearchParams();
      if (st.q) p.set('q', st.q);
      p.set('from', st.from);
      p.set('to', st.to);
      if (st.chips.length) p.set('chips', JSON.stringify(st.chips));
      if (st.cols.length) p.set('cols', st.cols.join(','));
      return '#/discover?' + p.toString();
    }
    function sel() {
      return { tenants: st.tenants, query: combined(st.q, st.chips), from: st.from, to: st.to };
    }

    function renderChips() {
      clear(chipsEl, st.chips.map((c, i) => {
        const label = c.raw !== undefined ? c.raw : `${c.field}: ${c.value}`;
        const el = h('span.chip', { class: (c.neg ? 'neg ' : '') + (c.on ? '' : 'off'), dataset: { field: c.field || '', value: c.value === undefined ? '' : String(c.value), i: String(i) }, title: chipText(c) },
          h('input.chip-toggle', { type: 'checkbox', checked: c.on, title: c.on ? 'Turn off' : 'Turn on', on: { change: () => { c.on = !c.on; run(true); } } }),
          h('span.chip-label', (c.neg ? 'NOT ' : '') + label),
          h('button.chip-neg', { title: 'Negate', on: { click: () => { c.neg = !c.neg; run(true); } } }, '±'),
          h('button.chip-edit', { title: 'Edit', on: { click: () => editChip(el, c) } }, '✎'),
          h('button.chip-remove', { title: 'Remove', on: { click: () => { st.chips.splice(i, 1); run(true); } } }, '×'));
        return el;
      }));
    }
    function editChip(el, c) {
      const input = h('input.chip-input', {
        value: c.raw !== undefined ? c.raw : `${c.field}:${quote(c.value)}`,
        on: {
          keydown: (e) => {
            if (e.key === 'Enter') {
              const v = input.value.trim();
              if (!v) return;
              delete c.field; delete c.value;
              c.raw = v;
              run(true);
            } else if (e.key === 'Escape') { e.stopPropagation(); renderChips(); }
          },
        },
      });
      clear(el, input);
      input.focus();
    }
    function addChip(field, value, neg) {
      const same = st.chips.find((c) => c.field === field && c.value === value);
      if (same) { same.neg = neg; same.on = true; } else st.chips.push({ field, value, neg, on: true });
      run(true);
    }

    function showFilterError(err) {
      q.classList.add('bad');
      const text = combined(st.q, st.chips);
      const col = err.column;
      const kids = [];
      if (col && col >= 1 && col <= text.length + 1) {
        const i = col - 1;
        kids.push(h('span.echo', text.slice(0, i), h('mark', { dataset: { column: String(col) } }, text.slice(i, i + 1) || ' '), text.slice(i + 1)));
        // Put the cursor on the mistake when it lies in the query bar's own text.
        const offset = st.chips.some((c) => c.on) && st.q.trim() ? 1 : 0;
        const inBar = i - offset;
        if (inBar >= 0 && inBar <= q.value.length) { q.focus(); q.setSelectionRange(inBar, Math.min(inBar + 1, q.value.length)); }
      }
      kids.push(h('span.error-text', sentence(explain(err))));
      clear(qerr, h('div.qerr.error', { role: 'alert' }, kids));
    }

    async function run(push) {
      const seq = ++st.seq;
      st.hits = []; st.offset = 0; st.total = null; st.open = null;
      closeDetail();
      q.classList.remove('bad');
      clear(qerr); clear(noteEl);
      renderChips();
      timeBtn.textContent = rangeLabel(st.from, st.to) + ' ▾';
      tookEl.textContent = '';
      hitsEl.textContent = 'Searching…';
      delete hitsEl.dataset.total;
      const hash = stateHash();
      if (push && location.hash !== hash) history.pushState(null, '', hash);
      else if (!push) history.replaceState(null, '', hash);
      if (!st.tenants.length) { hitsEl.textContent = ''; clear(tbl, h('div.notice', 'You may not see any tenant yet. Ask an administrator to give you access.')); return; }
      const s = sel();
      const started = performance.now();
      const search = api('POST', '/search', { ...s, limit: PAGE, offset: 0 });
      const agg = api('POST', '/aggregate', { ...s, aggregations: [{ type: 'date_histogram' }] });
      const fac = api('POST', '/facets', { ...s, top: 5 });
      // Handled below once the search answered; this keeps an early failure from counting as unhandled.
      agg.catch(() => {}); fac.catch(() => {});
      try {
        const r = await search;
        if (seq !== st.seq) return;
        st.total = r.total; st.hits = r.hits; st.offset = r.hits.length;
        hitsEl.textContent = `${fmtN(r.total)} ${r.total === 1 ? 'hit' : 'hits'}`;
        hitsEl.dataset.total = String(r.total);
        tookEl.textContent = `${r.took_ms} ms · ${r.tenants.join(', ')}`;
        renderTable();
        window.mamoriLastSearchMs = performance.now() - started;
      } catch (e) {
        if (seq !== st.seq) return;
        hitsEl.textContent = '';
        if (e.code === 'bad_filter') showFilterError(e);
        else clear(qerr, errBox(e));
        clear(tbl); clear(histo); clear(sidebar);
        return;
      }
      agg.then((a) => { if (seq === st.seq) renderHisto(a.results[0]); })
        .catch((e) => { if (seq === st.seq) clear(histo, errBox(e)); });
      fac.then((f) => { if (seq === st.seq) { st.facets = f; renderSidebar(); } })
        .catch((e) => { if (seq === st.seq) clear(sidebar, errBox(e)); });
    }

    async function more() {
      if (st.loadingMore || st.offset >= (st.total || 0) || st.offset >= 10000) return;
      st.loadingMore = true;
      const seq = st.seq;
      try {
        const r = await api('POST', '/search', { ...sel(), limit: PAGE, offset: st.offset });
        if (seq !== st.seq) return;
        st.hits = st.hits.concat(r.hits);
        st.offset += r.hits.length;
        renderTable();
      } catch (e) {
        add(tbl, errBox(e));
      } finally {
        st.loadingMore = false;
      }
    }

    function renderTable() {
      const multi = st.tenants.length > 1;
      const cols = st.cols;
      const head = h('tr', h('th', 'Time'), multi ? h('th', 'Tenant') : null,
        cols.length ? cols.map((c) => h('th', c, ' ', h('button.icon', { title: 'Remove column', on: { click: () => toggleCol(c) } }, '×'))) : h('th', 'Event'));
      const rows = st.hits.map((doc, i) => {
        const tr = h('tr.hit', { dataset: { i: String(i) }, on: { click: () => openDetail(i, tr) } },
          h('td.t', fmtTime(doc['@timestamp'], true)),
          multi ? h('td', doc.tenant) : null,
          cols.length ? cols.map((c) => h('td', h('div.cell', { title: show(getPath(doc, c)) }, show(getPath(doc, c))))) : h('td', summaryOf(doc)));
        if (st.open === i) tr.classList.add('open');
        return tr;
      });
      const moreEl = st.offset < (st.total || 0)
        ? h('div.more', st.offset >= 10000
          ? 'The first 10,000 events are shown. Narrow the search, or export for all of them.'
          : h('button#more', { on: { click: more } }, `Load more (${fmtN(st.offset)} of ${fmtN(st.total)})`))
        : h('div.more', st.total ? `All ${fmtN(st.total)} shown` : 'No events match. Widen the time range or remove filters.');
      clear(tbl, h('table', h('thead', head), h('tbody', rows)), moreEl);
      const btn = $('#more', tbl);
      if (btn && 'IntersectionObserver' in window) {
        const io = new IntersectionObserver((es) => { if (es.some((x) => x.isIntersecting)) { io.disconnect(); more(); } }, { root: tbl });
        io.observe(btn);
      }
    }
    function summaryOf(doc) {
      const f = flatten(doc);
      const keys = Object.keys(f).filter((k) => k !== '@timestamp' && k !== 'event.original' && k !== 'tenant' && k !== 'event.id');
      const order = (k) => { const i = SUMMARY_FIRST.indexOf(k); return i >= 0 ? i : SUMMARY_FIRST.length; };
      keys.sort((a, b) => order(a) - order(b));
      const kids = [];
      for (const k of keys.slice(0, 24)) kids.push(h('b', k + ':'), ' ', show(f[k]), '  ');
      return h('div.sum', kids);
    }
    function toggleCol(c) {
      const i = st.cols.indexOf(c);
      if (i >= 0) st.cols.splice(i, 1); else st.cols.push(c);
      prefs.set('cols', st.cols);
      history.replaceState(null, '', stateHash());
      renderTable();
      renderSidebar();
    }

    function renderSidebar() {
      const f = st.facets;
      if (!f) return;
      const find = h('input.find#field-find', { placeholder: 'Find a field', value: st.find || '', on: { input: () => { st.find = find.value; draw(); } } });
      const list = h('div');
      function draw() {
        const needle = (st.find || '').toLowerCase();
        clear(list, f.fields.filter((x) => !needle || x.field.toLowerCase().includes(needle)).map((fd) => {
          const open = st.expanded.has(fd.field);
          const isCol = st.cols.includes(fd.field);
          const el = h('div.field', { dataset: { field: fd.field } },
            h('div.field-head', {
              title: `${fd.field}: in ${fmtN(fd.count)} of ${fmtN(f.examined)} events, ${fmtN(fd.distinct)} distinct values${fd.top_examined ? ` among the newest ${fmtN(fd.top_examined)}` : ''}`,
              on: { click: () => { if (open) st.expanded.delete(fd.field); else st.expanded.add(fd.field); prefs.set('expanded', [...st.expanded]); draw(); } },
            },
            h('span.muted', open ? '▾' : '▸'),
            h('span.field-name', fd.field),
            h('span.share', `${Math.round(fd.share * 100)}%`),
            h('button.icon.col', { class: isCol ? 'on' : '', title: isCol ? 'Remove column' : 'Add as column', on: { click: (e) => { e.stopPropagation(); toggleCol(fd.field); } } }, '▦')),
            open ? h('div.vals', fd.top.map((b) => {
              const of = fd.top_examined || f.examined;
              const share = of ? b.count / of : 0;
              return h('div.val', { dataset: { value: b.value, count: String(b.count) } },
                h('span.v', { title: b.value }, b.value === '' ? '(empty)' : b.value),
                h('span.n', `${fmtN(b.count)} · ${(share * 100).toFixed(share < 0.1 ? 1 : 0)}%`),
                h('button.icon.plus', { title: `Only ${fd.field} = ${b.value}`, on: { click: () => addChip(fd.field, b.value, false) } }, '+'),
                h('button.icon.minus', { title: `Without ${fd.field} = ${b.value}`, on: { click: () => addChip(fd.field, b.value, true) } }, '−'),
                h('div.bar', h('i', { style: `width:${Math.max(1, share * 100).toFixed(1)}%` })));
            }), fd.distinct > fd.top.length ? h('div.muted', `${fmtN(fd.distinct)} distinct values`) : null,
            fd.top_examined ? h('div.muted', `values of the newest ${fmtN(fd.top_examined)} events`) : null) : null);
          return el;
        }));
      }
      draw();
      clear(sidebar, find,
        f.sampled ? h('div.note', `Fields of the newest ${fmtN(f.examined)} of ${fmtN(f.total)} events`)
          : h('div.note', f.examined ? `Fields of all ${fmtN(f.examined)} events` : 'No events, so no fields'),
        list);
    }

    // The histogram: SVG bars; dragging selects buckets and narrows the time range to them.
    function renderHisto(res) {
      const buckets = (res && res.buckets) || [];
      if (!buckets.length) { clear(histo); return; }
      const W = Math.max(300, histo.clientWidth || 900), H = 96, top = 14, bottom = 16;
      const max = Math.max(1, ...buckets.map((b) => b.count));
      const bw = W / buckets.length;
      const ns = 'http://www.w3.org/2000/svg';
      const svg = document.createElementNS(ns, 'svg');
      svg.setAttribute('viewBox', `0 0 ${W} ${H}`);
      svg.setAttribute('preserveAspectRatio', 'none');
      const el = (tag, attrs, text) => {
        const e = document.createElementNS(ns, tag);
        for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
        if (text !== undefined) e.textContent = text;
        svg.appendChild(e);
        return e;
      };
      el('line', { x1: 0, x2: W, y1: H - bottom + 0.5, y2: H - bottom + 0.5 });
      buckets.forEach((b, i) => {
        const bh = (b.count / max) * (H - top - bottom);
        const r = el('rect', { class: 'b', x: i * bw + 0.5, y: H - bottom - bh, width: Math.max(1, bw - 1), height: bh });
        const t = document.createElementNS(ns, 'title');
        t.textContent = `${fmtTime(b.start)}: ${fmtN(b.count)}`;
        r.appendChild(t);
      });
      const ticks = Math.min(8, buckets.length);
      for (let k = 0; k < ticks; k++) {
        const i = Math.floor((k * buckets.length) / ticks);
        const d = new Date(buckets[i].start);
        const label = res.interval_secs >= 86400 ? `${d.getMonth() + 1}-${pad(d.getDate())}` : `${d.getMonth() + 1}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
        el('text', { x: i * bw + 2, y: H - 3 }, label);
      }
      el('text', { x: W - 2, y: 10, 'text-anchor': 'end' }, `highest ${fmtN(max)} per ${res.interval_secs >= 3600 ? res.interval_secs / 3600 + ' h' : res.interval_secs >= 60 ? res.interval_secs / 60 + ' min' : res.interval_secs + ' s'}`);
      const selRect = el('rect', { class: 'sel', x: 0, y: 0, width: 0, height: H - bottom, visibility: 'hidden' });
      const idx = (ev) => {
        const box = svg.getBoundingClientRect();
        const x = ((ev.clientX - box.left) / box.width) * W;
        return Math.max(0, Math.min(buckets.length - 1, Math.floor(x / bw)));
      };
      let a = null;
      svg.addEventListener('mousedown', (ev) => {
        ev.preventDefault();
        a = idx(ev);
        selRect.setAttribute('visibility', 'visible');
        selRect.setAttribute('x', a * bw);
        selRect.setAttribute('width', bw);
      });
      svg.addEventListener('mousemove', (ev) => {
        if (a === null) return;
        const b = idx(ev);
        selRect.setAttribute('x', Math.min(a, b) * bw);
        selRect.setAttribute('width', (Math.abs(b - a) + 1) * bw);
      });
      const finish = (ev) => {
        if (a === null) return;
        const b = idx(ev);
        const lo = Math.min(a, b), hi = Math.max(a, b);
        a = null;
        st.from = new Date(buckets[lo].start).toISOString();
        st.to = new Date(new Date(buckets[hi].start).getTime() + res.interval_secs * 1000).toISOString();
        run(true);
      };
      svg.addEventListener('mouseup', finish);
      svg.addEventListener('mouseleave', (ev) => { if (a !== null) finish(ev); });
      clear(histo, svg);
    }

    // Detail flyout of one event.
    let flyout = null;
    function closeDetail() {
      if (flyout) { flyout.remove(); flyout = null; }
      const o = tbl.querySelector('tr.open');
      if (o) o.classList.remove('open');
    }
    function openDetail(i, tr) {
      closeDetail();
      st.open = i;
      tr.classList.add('open');
      const doc = st.hits[i];
      flyout = h('aside.flyout#detail', { role: 'dialog', 'aria-label': 'Event' });
      document.body.appendChild(flyout);
      closers.push(closeDetail);
      renderEvent(flyout, doc, { onFilter: addChip, onClose: closeDetail, onPivot: pivot });
    }
    function pivot(p) {
      st.q = p.query; q.value = p.query; st.from = p.from; st.to = p.to; st.chips = [];
      run(true);
    }

    function popover(anchor, cls, kids) {
      document.querySelectorAll('.pop').forEach((p) => p.remove());
      const r = anchor.getBoundingClientRect();
      const pop = h('div.pop', { class: cls, on: { click: (e) => e.stopPropagation() } }, kids);
      pop.style.top = `${r.bottom + 4}px`;
      document.body.appendChild(pop);
      const left = Math.min(r.left, window.innerWidth - pop.offsetWidth - 8);
      pop.style.left = `${Math.max(8, left)}px`;
      const close = () => { pop.remove(); document.removeEventListener('click', close); };
      setTimeout(() => document.addEventListener('click', close), 0);
      closers.push(close);
      return { pop, close };
    }
    function timePop(anchor) {
      const from = h('input#time-from', { value: st.from, spellcheck: false });
      const to = h('input#time-to', { value: st.to, spellcheck: false });
      const apply = () => { st.from = from.value.trim() || '-24h'; st.to = to.value.trim() || 'now'; prefs.set('from', st.from); prefs.set('to', st.to); close(); run(true); };
      const { close } = popover(anchor, 'timepop', [
        h('div.presets', PRESETS.map(([f, label]) => h('button', { dataset: { from: f }, on: { click: () => { from.value = f; to.value = 'now'; apply(); } } }, label))),
        h('div.custom',
          h('label', { for: 'time-from' }, 'From'), from,
          h('label', { for: 'time-to' }, 'To'), to,
          h('span'), h('div.muted', 'Relative (-15m, -2h, -7d, -1w, now) or absolute (2024-05-01, 2024-05-01T10:00:00Z).')),
        h('div.row', h('button.primary#time-apply', { on: { click: apply } }, 'Apply')),
      ]);
      [from, to].forEach((i) => i.addEventListener('keydown', (e) => { if (e.key === 'Enter') apply(); }));
      from.focus();
    }
    function helpPop(anchor) {
      popover(anchor, 'helppop', [
        h('strong', 'Filter language'),
        h('table', h('tbody', HELP.map(([ex, what]) => h('tr', h('td', h('a', { href: '#', on: { click: (e) => { e.preventDefault(); q.value = ex; q.focus(); } } }, ex)), h('td', what))))),
        h('div.muted', 'Chips from the field list are added with "and". Press / to focus the filter, Enter to run, Esc to close panels.'),
      ]);
    }
    async function savedPop(anchor) {
      const t = oneTenant();
      const body = h('div', 'Loading…');
      popover(anchor, 'savedpop', [h('strong', `Saved searches of ${t}`), body]);
      try {
        const list = await api('GET', `/tenants/${encodeURIComponent(t)}/saved-searches`);
        clear(body, list.length ? list.map((s) => h('div.item',
          h('a', { href: '#', title: s.filter, on: { click: (e) => { e.preventDefault(); document.querySelectorAll('.pop').forEach((p) => p.remove()); st.q = s.filter; q.value = s.filter; st.from = s.from; st.to = s.to; st.chips = []; if (s.columns.length) st.cols = s.columns.slice(); run(true); } } }, s.name),
          h('span.muted', s.owner),
          !canWrite() ? null : h('button.icon.danger', { title: 'Delete', on: { click: async () => { if (!confirm(`Delete the saved search ${s.name}?`)) return; try { await api('DELETE', `/tenants/${encodeURIComponent(t)}/saved-searches/${encodeURIComponent(s.name)}`); savedPop(anchor); } catch (e) { add(body, errBox(e)); } } } }, '×'))) : h('div.muted', 'None yet: use Save.'));
      } catch (e) { clear(body, errBox(e)); }
    }
    function saveSearch() {
      const t = oneTenant();
      modal(`Save this search in ${t}`, [['Name', 'name', '']], async (v) => {
        await api('PUT', `/tenants/${encodeURIComponent(t)}/saved-searches/${encodeURIComponent(v.name)}`, { query: combined(st.q, st.chips), columns: st.cols, from: st.from, to: st.to });
        toast(`Saved as ${v.name}`);
      });
    }
    function exportPop(anchor) {
      const dl = async (format) => {
        try {
          const resp = await api('POST', '/export', { ...sel(), format, columns: st.cols }, true);
          const blob = await resp.blob();
          const a = h('a', { href: URL.createObjectURL(blob), download: `mamori-export.${format === 'csv' ? 'csv' : 'ndjson'}` });
          document.body.appendChild(a); a.click(); a.remove();
          setTimeout(() => URL.revokeObjectURL(a.href), 10000);
        } catch (e) { clear(qerr, errBox(e)); }
      };
      const { close } = popover(anchor, '', [
        h('div', h('button', { on: { click: () => { close(); dl('csv'); } } }, 'CSV (the table\'s columns)')),
        h('div', { style: 'margin-top:4px' }, h('button', { on: { click: () => { close(); dl('ndjson'); } } }, 'NDJSON (whole events)')),
        h('div.muted', { style: 'margin-top:6px' }, `Every matching event (${fmtN(st.total)}), newest first.`),
      ]);
    }

    run(false);
  }

  /** The fields of one event, its original, copy buttons and pivots. */
  function renderEvent(box, doc, opts) {
    const flat = flatten(doc);
    const original = flat['event.original'];
    delete flat['event.original'];
    const tenant = doc.tenant;
    const id = getPath(doc, 'event.id');
    const pivots = h('div.pivots', h('span.muted', 'Pivots…'));
    const keys = Object.keys(flat).sort();
    const body = h('div.flyout-body',
      h('h3', 'Pivots'), pivots,
      h('h3', 'Fields'),
      h('table.kv', h('tbody', keys.map((k) => h('tr', { dataset: { field: k } },
        h('td', k), h('td.v', show(flat[k])),
        h('td.acts',
          opts.onFilter && !Array.isArray(flat[k]) && flat[k] !== null ? [
            h('button.icon', { title: 'Filter for this value', on: { click: () => opts.onFilter(k, show(flat[k]), false) } }, '+'),
            h('button.icon', { title: 'Filter out this value', on: { click: () => opts.onFilter(k, show(flat[k]), true) } }, '−')] : null,
          copyBtn(show(flat[k]))))))),
      h('h3', 'Original', original !== undefined ? copyBtn(String(original), 'Copy the original') : null),
      original !== undefined ? h('pre#original', String(original)) : h('div.muted', 'No original kept for this event.'));
    clear(box,
      h('div.flyout-head',
        h('h3', `${tenant || ''} · ${fmtTime(doc['@timestamp'], true)}`),
        h('a', { href: `#/event/${encodeURIComponent(tenant)}/${encodeURIComponent(id)}`, title: 'Link to this event' }, 'Link'),
        copyBtn(() => JSON.stringify(doc, null, 2), 'Copy as JSON'),
        opts.onClose ? h('button.icon', { title: 'Close (Esc)', on: { click: opts.onClose } }, '✕') : null),
      body);
    if (tenant && id) {
      api('GET', `/tenants/${encodeURIComponent(tenant)}/events/${encodeURIComponent(id)}/pivots`).then((ps) => {
        clear(pivots, ps.length ? ps.map((p) => h('a', {
          href: `#/discover?${new URLSearchParams({ q: p.query, from: p.from, to: p.to })}`,
          title: `${p.query} from ${fmtTime(p.from)} to ${fmtTime(p.to)}`,
          on: opts.onPivot ? { click: (e) => { e.preventDefault(); opts.onPivot(p); } } : undefined,
        }, `${p.name}: ${p.value} ±1 h (${fmtN(p.count)})`)) : h('span.muted', 'No pivot fields in this event.'));
      }).catch((e) => clear(pivots, errBox(e)));
    } else clear(pivots);
  }

  async function eventPage(tenant, id) {
    const box = h('div.box');
    frame('discover', h('div.page#event-page', h('h2', 'Event'), box));
    clear(box, 'Loading…');
    try {
      const doc = await api('GET', `/tenants/${encodeURIComponent(tenant)}/events/${encodeURIComponent(id)}`);
      renderEvent(box, doc, {});
    } catch (e) {
      clear(box, errBox(e));
    }
  }

  // ------------------------------------------------------------ modal form
  function modal(title, fields, submit) {
    const inputs = {};
    const err = h('div');
    const back = h('div.modal-back');
    const close = () => back.remove();
    const form = h('form.modal', {
      on: {
        submit: async (e) => {
          e.preventDefault();
          const v = {};
          for (const [k, i] of Object.entries(inputs)) v[k] = i.value.trim();
          try { await submit(v); close(); } catch (ex) { clear(err, errBox(ex)); }
        },
      },
    },
    h('h3', title),
    h('div.form', fields.map(([label, key, value]) => { inputs[key] = h('input', { name: key, value, required: true }); return [h('label', label), inputs[key]]; })),
    err,
    h('div.row', h('button.primary', { type: 'submit' }, 'Save'), h('button', { type: 'button', on: { click: close } }, 'Cancel')));
    back.appendChild(form);
    back.addEventListener('click', (e) => { if (e.target === back) close(); });
    document.body.appendChild(back);
    closers.push(close);
    Object.values(inputs)[0].focus();
  }

  // ------------------------------------------------------------ Alerts
  const LEVELS = ['critical', 'high', 'medium', 'low', 'informational'];
  const STATUSES = ['new', 'acknowledged', 'closed'];
  const REASONS = [['true_positive', 'True positive'], ['benign', 'Benign'], ['false_positive', 'False positive'], ['duplicate', 'Duplicate']];
  const levelBadge = (l) => h('span.badge.lvl', { class: 'lvl-' + l }, l);
  const statusBadge = (s) => h('span.badge.st', { class: 'st-' + s }, s);
  const attackTags = (a) => h('span.tags', (a.tactics || []).map((t) => h('span.badge.tactic', t)), (a.techniques || []).map((t) => h('span.badge.tech', t.toUpperCase())));
  /** Count list items by a key, largest first. */
  function countBy(list, key) {
    const m = new Map();
    for (const x of list) { const k = key(x); m.set(k, (m.get(k) || 0) + 1); }
    return [...m.entries()].sort((a, b) => b[1] - a[1]);
  }
  /** Triage dialog: close with a reason or assign; resolves after every alert is changed. */
  function triageDialog(kind, ids, done) {
    const err = h('div');
    const back = h('div.modal-back');
    const close = () => back.remove();
    const reason = h('select#close-reason', { name: 'reason' }, REASONS.map(([v, l]) => h('option', { value: v }, l)));
    const who = h('input#assignee', { name: 'assignee', value: session.me.user, placeholder: 'user name (empty: nobody)' });
    const form = h('form.modal#triage', {
      on: {
        submit: async (e) => {
          e.preventDefault();
          const body = kind === 'close' ? { status: 'closed', reason: reason.value } : { assignee: who.value.trim() };
          try {
            for (const id of ids) await api('PATCH', `/alerts/${id}`, body);
            close();
            toast(kind === 'close' ? `Closed ${ids.length}` : `Assigned ${ids.length}`);
            done();
          } catch (ex) { clear(err, errBox(ex)); }
        },
      },
    },
    h('h3', kind === 'close' ? `Close ${ids.length === 1 ? 'alert ' + ids[0] : ids.length + ' alerts'}` : `Assign ${ids.length === 1 ? 'alert ' + ids[0] : ids.length + ' alerts'}`),
    h('div.form', kind === 'close' ? [h('label', 'Reason'), reason] : [h('label', 'Assignee'), who]),
    err,
    h('div.row', h('button.primary', { type: 'submit' }, kind === 'close' ? 'Close' : 'Assign'), h('button', { type: 'button', on: { click: close } }, 'Cancel')));
    back.appendChild(form);
    back.addEventListener('click', (e) => { if (e.target === back) close(); });
    document.body.appendChild(back);
    closers.push(close);
    (kind === 'close' ? reason : who).focus();
  }
  async function acknowledge(ids, done) {
    try {
      for (const id of ids) await api('PATCH', `/alerts/${id}`, { status: 'acknowledged', assignee: session.me.user });
      toast(`Acknowledged ${ids.length}`);
      done();
    } catch (e) { toast(sentence(explain(e))); }
  }

  async function alertsPage(params) {
    const f = {
      status: params.get('status') || '', level: params.get('level') || '', rule: params.get('rule') || '',
      from: params.get('from') || '-7d',
    };
    const setF = (k, v) => { const p = new URLSearchParams({ ...f, [k]: v }); for (const [kk, vv] of [...p]) if (!vv) p.delete(kk); go('#/alerts?' + p); };
    const sel = (id, value, opts, k) => {
      const s = h('select#' + id, { on: { change: () => setF(k, s.value) } }, opts.map(([v, l]) => h('option', { value: v }, l)));
      if (![...s.options].some((o) => o.value === value)) s.appendChild(h('option', { value }, value));
      s.value = value;
      return s;
    };
    const groups = h('div.groups#alert-groups');
    const bulk = h('div.row.bulk#bulk');
    const table = h('div#alerts-table', 'Loading…');
    const ruleSel = sel('f-rule', f.rule, [['', 'any rule']], 'rule');
    frame('alerts', h('div.page#alerts-page',
      h('div.row.filters',
        h('h2', 'Alerts'),
        h('label', 'Status', sel('f-status', f.status, [['', 'any'], ...STATUSES.map((s) => [s, s])], 'status')),
        h('label', 'Severity', sel('f-level', f.level, [['', 'any'], ...LEVELS.map((s) => [s, s])], 'level')),
        h('label', 'Rule', ruleSel),
        h('label', 'Last seen', sel('f-from', f.from, [['-24h', 'last 24 hours'], ['-7d', 'last 7 days'], ['-30d', 'last 30 days'], ['-90d', 'last 90 days']], 'from')),
        h('span.spacer'),
        h('span.muted', `Tenant: ${currentTenants().join(', ')}`)),
      groups, bulk, table));
    const q = new URLSearchParams({ tenants: currentTenants().join(','), from: f.from, limit: '1000' });
    if (f.status) q.set('status', f.status);
    if (f.level) q.set('level', f.level);
    if (f.rule) q.set('rule', f.rule);
    let list;
    try {
      list = await api('GET', `/alerts?${q}`);
    } catch (e) { clear(table, errBox(e)); return; }
    // Rules seen in these alerts fill the rule filter.
    for (const [id, title] of new Map(list.map((a) => [a.rule_id, a.rule_title]))) if (id !== f.rule) ruleSel.appendChild(h('option', { value: id }, title));
    const group = (title, key, k, label) => h('div.box.group', { dataset: { group: k } }, h('h3', title),
      countBy(list, key).map(([v, n]) => h('a.gc', { href: '#', dataset: { value: v }, class: f[k] === v ? 'on' : '', on: { click: (e) => { e.preventDefault(); setF(k, f[k] === v ? '' : v); } } },
        h('span.gl', label ? label(v) : v), h('span.n', fmtN(n)))));
    const titles = new Map(list.map((a) => [a.rule_id, a.rule_title]));
    clear(groups, list.length ? [
      group('By status', (a) => a.status, 'status', statusBadge),
      group('By severity', (a) => a.level, 'level', levelBadge),
      group('By rule', (a) => a.rule_id, 'rule', (v) => titles.get(v) || v),
    ] : null);
    const checked = new Set();
    const all = h('input#check-all', { type: 'checkbox', title: 'Select all', on: { change: () => { for (const c of table.querySelectorAll('input.pick')) { c.checked = all.checked; if (all.checked) checked.add(Number(c.dataset.id)); else checked.delete(Number(c.dataset.id)); } drawBulk(); } } });
    const reload = () => route();
    function drawBulk() {
      if (!canWrite()) { clear(bulk); return; }
      const ids = [...checked];
      clear(bulk, h('span.muted', ids.length ? `${ids.length} selected` : 'Select alerts to triage them'),
        h('button#bulk-ack', { disabled: !ids.length, on: { click: () => acknowledge(ids, reload) } }, 'Acknowledge'),
        h('button#bulk-assign', { disabled: !ids.length, on: { click: () => triageDialog('assign', ids, reload) } }, 'Assign…'),
        h('button#bulk-close', { disabled: !ids.length, on: { click: () => triageDialog('close', ids, reload) } }, 'Close…'));
    }
    drawBulk();
    if (!list.length) { clear(table, h('div.box.muted', 'No alerts match these filters.')); return; }
    clear(table, h('table.alerts',
      h('thead', h('tr', canWrite() ? h('th', all) : null, h('th.num', '#'), h('th', 'Severity'), h('th', 'Rule'), h('th', 'ATT&CK'), h('th', 'Tenant'), h('th', 'About'),
        h('th.num', 'Events'), h('th', 'Last seen'), h('th', 'Status'), h('th', 'Assignee'))),
      h('tbody', list.map((a) => h('tr.alert', { dataset: { id: String(a.id), status: a.status } },
        canWrite() ? h('td', h('input.pick', { type: 'checkbox', dataset: { id: String(a.id) }, on: { change: (e) => { if (e.target.checked) checked.add(a.id); else checked.delete(a.id); drawBulk(); } } })) : null,
        h('td.num', h('a', { href: `#/alert/${a.id}` }, String(a.id))),
        h('td', levelBadge(a.level)),
        h('td', h('a', { href: `#/alert/${a.id}` }, a.rule_title)),
        h('td', attackTags(a)),
        h('td', a.tenant),
        h('td.mono', a.group_key),
        h('td.num', fmtN(a.count)),
        h('td', { title: `first seen ${fmtTime(a.first_seen)}` }, `${fmtTime(a.last_seen)}`),
        h('td', statusBadge(a.status), a.close_reason ? h('span.muted', ' ' + a.close_reason.replace(/_/g, ' ')) : null),
        h('td', a.assignee || h('span.muted', '–')))))),
    list.length >= 1000 ? h('div.muted', 'Showing the 1,000 most recent; narrow the filters to see older ones.') : null);
  }

  /** Discover link for an alert's events: their ids on its tenant, an hour around first..last seen. */
  function alertEventsHash(a) {
    const ids = a.event_ids.map((id) => quote(id)).join(' or ');
    const from = new Date(new Date(a.first_seen).getTime() - 3600_000).toISOString();
    const to = new Date(new Date(a.last_seen).getTime() + 3600_000).toISOString();
    return `#/discover?${new URLSearchParams({ q: `event.id:(${ids})`, from, to })}`;
  }

  async function alertPage(id) {
    const box = h('div', 'Loading…');
    frame('alerts', h('div.page#alert-page', h('div.row', h('a', { href: '#/alerts' }, '← Alerts')), box));
    let a;
    try { a = await api('GET', `/alerts/${encodeURIComponent(id)}`); } catch (e) { clear(box, errBox(e)); return; }
    const reload = () => route();
    const history = h('div#alert-history', 'Loading…');
    const events = h('div#alert-events');
    const openEvents = h('a#open-events', {
      href: alertEventsHash(a),
      on: { click: () => { if (session.tenants.some((t) => t.name === a.tenant)) prefs.set('tenant', a.tenant); } },
    }, `Open ${fmtN(a.event_ids.length)} event${a.event_ids.length === 1 ? '' : 's'} in Discover`);
    clear(box,
      h('h2', levelBadge(a.level), ' ', `#${a.id} ${a.rule_title}`),
      h('div.row', statusBadge(a.status), a.close_reason ? h('span', `closed as ${a.close_reason.replace(/_/g, ' ')}`) : null,
        h('span.muted', a.assignee ? `assigned to ${a.assignee}` : 'unassigned'),
        h('span.spacer'),
        canWrite() ? [
          a.status === 'new' ? h('button#ack', { on: { click: () => acknowledge([a.id], reload) } }, 'Acknowledge') : null,
          h('button#assign', { on: { click: () => triageDialog('assign', [a.id], reload) } }, 'Assign…'),
          a.status !== 'closed' ? h('button.primary#close', { on: { click: () => triageDialog('close', [a.id], reload) } }, 'Close…')
            : h('button#reopen', { on: { click: async () => { try { await api('PATCH', `/alerts/${a.id}`, { status: 'new' }); reload(); } catch (e) { toast(sentence(explain(e))); } } } }, 'Reopen'),
        ] : null),
      h('div.cols2.alert-cols',
        h('div',
          h('div.box', h('h3', 'Details'), h('table.kv#alert-details', h('tbody',
            [['tenant', a.tenant], ['rule', session.me.role === 'customer' || a.rule_id.startsWith('scheduled:') ? a.rule_id : h('a', { href: `#/rules/${encodeURIComponent(a.rule_id)}` }, a.rule_id)], ['severity', a.level], ['about', a.group_key], ['events', fmtN(a.count)],
              ['first seen', fmtTime(a.first_seen)], ['last seen', fmtTime(a.last_seen)], ['updated', fmtTime(a.updated_at)]]
              .map(([k, v]) => h('tr', h('td', k), h('td.v', v)))))),
          h('div.box#alert-attack', h('h3', 'ATT&CK'),
            a.tactics.length || a.techniques.length ? h('table.kv', h('tbody',
              h('tr', h('td', 'tactics'), h('td.v', a.tactics.map((t) => h('span.badge.tactic', t)))),
              h('tr', h('td', 'techniques'), h('td.v', a.techniques.map((t) => h('span.badge.tech', t.toUpperCase())))))) : h('div.muted', 'The rule has no ATT&CK tags.')),
          h('div.box', h('h3', 'History'), history)),
        h('div', h('div.box', h('h3', 'Events ', h('span.muted', `(${fmtN(a.count)} matched; the first ${fmtN(a.event_ids.length)} are kept)`)),
          h('div.row', openEvents), events))));
    // The events themselves (first 20), from the search API.
    (async () => {
      try {
        const ids = a.event_ids.slice(0, 20);
        if (!ids.length) { clear(events, h('div.muted', 'No event ids kept.')); return; }
        const from = new Date(new Date(a.first_seen).getTime() - 3600_000).toISOString();
        const to = new Date(new Date(a.last_seen).getTime() + 3600_000).toISOString();
        const r = await api('POST', '/search', { tenants: [a.tenant], query: `event.id:(${ids.map(quote).join(' or ')})`, from, to, limit: 20 });
        clear(events, r.hits.length ? h('table.evts', h('thead', h('tr', h('th', 'Time'), h('th', 'Action'), h('th', 'User'), h('th', 'Source'), h('th', ''))),
          h('tbody', r.hits.map((d) => h('tr',
            h('td.mono', fmtTime(d['@timestamp'])), h('td', show(getPath(d, 'event.action'))), h('td', show(getPath(d, 'user.name'))),
            h('td.mono', show(getPath(d, 'source.ip'))),
            h('td', h('a', { href: `#/event/${encodeURIComponent(a.tenant)}/${encodeURIComponent(getPath(d, 'event.id'))}` }, 'open')))))) : h('div.muted', 'The events are no longer stored (retention).'));
      } catch (e) { clear(events, errBox(e)); }
    })();
    if (session.me.role === 'admin') {
      try {
        const log = await api('GET', `/audit?${new URLSearchParams({ object: `${a.tenant}/alert/${a.id}`, limit: '100' })}`);
        const desc = (x) => {
          const b = x.before || {}, c = x.after || {};
          const parts = [];
          if (b.status !== c.status) parts.push(`status ${b.status} → ${c.status}`);
          if (c.close_reason && b.close_reason !== c.close_reason) parts.push(`reason ${c.close_reason.replace(/_/g, ' ')}`);
          if (b.assignee !== c.assignee) parts.push(`assignee ${b.assignee || 'nobody'} → ${c.assignee || 'nobody'}`);
          return parts.join(', ') || x.action;
        };
        clear(history, h('table#history', h('tbody',
          h('tr', h('td.mono', fmtTime(a.first_seen)), h('td', 'rule'), h('td', 'raised the alert')),
          log.slice().reverse().map((x) => h('tr', h('td.mono', fmtTime(x.at)), h('td', x.actor), h('td', desc(x)))))));
      } catch (e) { clear(history, errBox(e)); }
    } else {
      clear(history, h('div', `Raised ${fmtTime(a.first_seen)}; now ${a.status}${a.assignee ? `, assigned to ${a.assignee}` : ''}; last change ${fmtTime(a.updated_at)}.`),
        h('div.muted', 'The full history is in the audit log (admins).'));
    }
  }

  // ------------------------------------------------------------ Rules
  async function rulesPage(id) {
    const body = h('div', 'Loading…');
    const side = h('div#rule-detail');
    frame('rules', h('div.page#rules-page', h('h2', 'Rules'), h('div.rules-cols', body, side)));
    let rules, alerts = [], scheduled = [];
    try {
      [rules, alerts, scheduled] = await Promise.all([
        api('GET', '/rules').catch((e) => { if (e.status === 404 && e.code === 'not_found') return e; throw e; }),
        api('GET', `/alerts?${new URLSearchParams({ tenants: currentTenants().join(','), from: '-90d', limit: '5000' })}`).catch(() => []),
        api('GET', '/scheduled-rules').catch(() => []),
      ]);
    } catch (e) { clear(body, errBox(e)); return; }
    const last = new Map();
    for (const a of alerts) if (!last.has(a.rule_id) || last.get(a.rule_id).last_seen < a.last_seen) last.set(a.rule_id, a);
    const lastHit = (rid) => { const a = last.get(rid); return a ? h('a', { href: `#/alert/${a.id}`, title: fmtTime(a.last_seen) }, ago(a.last_seen)) : h('span.muted', 'never'); };
    const toggle = (r) => canWrite() ? h('button.toggle', {
      dataset: { rule: r.id },
      on: { click: async () => { try { await api('PATCH', `/rules/${encodeURIComponent(r.id)}`, { enabled: !r.enabled }); toast(r.enabled ? 'Disabled' : 'Enabled'); route(); } catch (e) { toast(sentence(explain(e))); } } },
    }, r.enabled ? 'Disable' : 'Enable') : null;
    const sigma = rules instanceof ApiError
      ? h('div.notice#no-rules', `No Sigma rules are loaded: ${rules.message}. Add a folder of rules to mamori.toml and restart the server.`)
      : rules.length ? h('table#rules', h('thead', h('tr', h('th', 'Rule'), h('th', 'Severity'), h('th', 'ATT&CK / tags'), h('th', 'State'), h('th', 'Last hit'), h('th', ''))),
        h('tbody', rules.map((r) => h('tr', { class: (r.id === id ? 'on ' : '') + (r.enabled ? '' : 'disabled'), dataset: { rule: r.id } },
          h('td', h('a', { href: `#/rules/${encodeURIComponent(r.id)}` }, r.title)),
          h('td', levelBadge(r.level)),
          h('td', attackTags(r), r.tags.filter((t) => !t.startsWith('attack.')).map((t) => h('span.badge', t))),
          h('td', r.enabled ? h('span.badge.ok', 'enabled') : h('span.badge.bad', 'disabled')),
          h('td.nowrap', lastHit(r.id)),
          h('td', toggle(r))))))
        : h('div.muted', 'The rule folders hold no rules.');
    clear(body, h('div.box', h('h3', 'Sigma rules (run at ingest)'), sigma),
      h('div.box', h('h3', 'Scheduled rules'), scheduled.length ? h('table#scheduled', h('thead', h('tr', h('th', 'Name'), h('th', 'Title'), h('th', 'Tenants'), h('th', 'Query'), h('th', 'Threshold'), h('th', 'Schedule'), h('th', 'Severity'), h('th', 'State'), h('th', 'Last hit'))),
        h('tbody', scheduled.map((s) => h('tr', h('td.mono', s.name), h('td', s.title), h('td', s.tenants.join(', ')), h('td.mono', s.query),
          h('td', `≥ ${fmtN(s.threshold)} in ${Math.round(s.window_secs / 60)} min${s.group_by ? ` per ${s.group_by}` : ''}`), h('td.mono', s.schedule), h('td', levelBadge(s.level)),
          h('td', s.enabled ? h('span.badge.ok', 'enabled') : h('span.badge.bad', 'disabled')), h('td', lastHit(`scheduled:${s.name}`))))))
        : h('div.muted', 'No scheduled rules (PUT /api/v1/scheduled-rules/{name} creates one).')));
    if (!id || rules instanceof ApiError) return;
    clear(side, h('div.box', 'Loading…'));
    closers.push(() => go('#/rules'));
    try {
      const r = await api('GET', `/rules/${encodeURIComponent(id)}`);
      const from = h('select#backtest-from', [['-24h', 'last 24 hours'], ['-7d', 'last 7 days'], ['-30d', 'last 30 days'], ['-90d', 'last 90 days']].map(([v, l]) => h('option', { value: v }, l)));
      from.value = '-7d';
      const out = h('div#backtest');
      const run = async () => {
        clear(out, 'Running…');
        try {
          const b = await api('POST', `/rules/${encodeURIComponent(id)}/backtest`, { from: from.value, tenants: currentTenants() });
          const days = [...new Set(Object.values(b.per_tenant).flatMap((d) => Object.keys(d)))].sort();
          clear(out, h('div', h('strong#backtest-total', fmtN(b.total)), ` matching event${b.total === 1 ? '' : 's'} in the ${from.selectedOptions[0].textContent}`),
            days.length ? h('table#backtest-table', h('thead', h('tr', h('th', 'Day'), Object.keys(b.per_tenant).map((t) => h('th.num', t)))),
              h('tbody', days.map((d) => h('tr', h('td.mono', d), Object.values(b.per_tenant).map((m) => h('td.num', m[d] ? fmtN(m[d]) : h('span.muted', '0'))))))) : h('div.muted', 'Nothing would have matched.'));
        } catch (e) { clear(out, errBox(e)); }
      };
      clear(side, h('div.box',
        h('div.flyout-head', h('h3', r.title), h('button.icon', { title: 'Close (Esc)', on: { click: () => go('#/rules') } }, '✕')),
        r.description ? h('p', r.description) : null,
        h('table.kv', h('tbody',
          [['id', r.id], ['severity', r.level], ['status', r.status || '–'], ['file', r.path || '–'], ['false positives', r.falsepositives.join('; ') || '–']]
            .map(([k, v]) => h('tr', h('td', k), h('td.v', v))),
          h('tr', h('td', 'filter'), h('td.v', h('code', r.filter))))),
        h('h3', 'Backtest'),
        h('div.row', 'Over the', from, h('button.primary#backtest-run', { on: { click: run } }, 'Backtest')),
        out,
        h('h3', 'Sigma source'),
        r.source ? h('pre#rule-source', r.source) : h('div.muted', 'The source file cannot be read.')));
    } catch (e) { clear(side, errBox(e)); }
  }

  // ------------------------------------------------------------ Exclusions
  async function exclusionsPage(params) {
    const body = h('div', 'Loading…');
    const form = h('div');
    frame('exclusions', h('div.page#exclusions-page', h('h2', 'Exclusions'), form, body));
    let list, rules = [];
    try {
      [list, rules] = await Promise.all([api('GET', '/exclusions'), api('GET', '/rules').catch(() => [])]);
    } catch (e) { clear(body, errBox(e)); return; }
    const titles = new Map(rules.map((r) => [r.id, r.title]));
    const err = h('div#exclusion-error');
    const act = (fn) => async () => { clear(err); try { await fn(); route(); } catch (e) { clear(err, errBox(e)); } };
    const preview = h('div#preview');
    const showPreview = async (x) => {
      clear(preview, h('div.box', 'Loading…'));
      try {
        const hidden = await api('GET', `/exclusions/${x.id}/preview?days=7`);
        clear(preview, h('div.box', h('h3', `Exclusion ${x.id} would have hidden, over the last 7 days:`),
          hidden.length ? h('table#preview-table', h('thead', h('tr', h('th.num', 'Alert'), h('th', 'Tenant'), h('th', 'Rule'), h('th', 'About'), h('th.num', 'Events hidden'))),
            h('tbody', hidden.map((a) => h('tr', h('td.num', h('a', { href: `#/alert/${a.alert}` }, String(a.alert))), h('td', a.tenant), h('td', a.rule_title), h('td.mono', a.group_key),
              h('td.num', `${fmtN(a.hidden)} of ${fmtN(a.events)}`)))))
            : h('div.muted', 'No alert of the last 7 days has events it matches.')));
      } catch (e) { clear(preview, errBox(e)); }
    };
    const showState = params.get('state') || '';
    const shown = showState ? list.filter((x) => x.state === showState) : list;
    const stateTabs = h('div.tabs', [['', 'All'], ['proposed', 'Proposed'], ['active', 'Active'], ['expired', 'Expired'], ['revoked', 'Revoked']].map(([s, l]) =>
      h('a', { href: s ? `#/exclusions?state=${s}` : '#/exclusions', class: s === showState ? 'on' : '' }, l, ' ', h('span.muted', `(${s ? list.filter((x) => x.state === s).length : list.length})`))));
    clear(body, stateTabs, err, shown.length ? h('table#exclusions', h('thead', h('tr', h('th.num', '#'), h('th', 'State'), h('th', 'Tenants'), h('th', 'Rules'), h('th', 'Filter'), h('th', 'Reason / risk'),
      h('th', 'Owner'), h('th', 'Approver'), h('th', 'Expires'), h('th.num', 'Hits'), h('th', ''))),
    h('tbody', shown.map((x) => h('tr', { dataset: { id: String(x.id), state: x.state } },
      h('td.num', String(x.id)),
      h('td', h('span.badge', { class: 'x-' + x.state }, x.state)),
      h('td', x.tenants.join(', ')),
      h('td', x.rules.map((r) => r === '*' ? 'all rules' : titles.get(r) || r).join(', ')),
      h('td.mono', x.filter),
      h('td', x.reason, h('div.muted', 'Risk: ' + x.risk)),
      h('td', x.owner, h('div.muted', fmtTime(x.created_at))),
      h('td', x.approved_by || h('span.muted', '–'), x.approved_at ? h('div.muted', fmtTime(x.approved_at)) : null),
      h('td.nowrap', { title: x.expires_at }, fmtTime(x.expires_at).slice(0, 10)),
      h('td.num', fmtN(x.hits)),
      h('td.acts', h('button.preview', { on: { click: () => showPreview(x) } }, 'Preview'),
        canWrite() && x.state === 'proposed' ? h('button.approve', { title: x.owner === session.me.user ? 'Another user must approve your proposal' : 'Approve', on: { click: act(() => api('POST', `/exclusions/${x.id}/approve`).then(() => toast(`Exclusion ${x.id} approved`))) } }, 'Approve') : null,
        canWrite() && (x.state === 'proposed' || x.state === 'active') ? h('button.danger.revoke', { on: { click: act(async () => { if (confirm(`Revoke exclusion ${x.id}? It will never apply again.`)) await api('DELETE', `/exclusions/${x.id}`); }) } }, 'Revoke') : null)))))
      : h('div.box.muted', 'No exclusions here.'), preview);
    if (!canWrite()) return;
    // Propose.
    const tenants = h('input#x-tenants', { value: currentTenants().join(', '), placeholder: 'acme, globex  (* = all)' });
    const ruleSel = h('select#x-rules', { multiple: true, size: Math.min(5, rules.length + 1) }, h('option', { value: '*' }, 'all rules'), rules.map((r) => h('option', { value: r.id }, r.title)));
    const filter = h('input#x-filter', { placeholder: 'user.name:"svc deploy" and source.ip:@office', spellcheck: false });
    const reason = h('input#x-reason', { placeholder: 'why it is needed (10+ characters)' });
    const risk = h('input#x-risk', { placeholder: 'what could be missed because of it' });
    const exp = h('input#x-expires', { type: 'date', required: true });
    const perr = h('div#propose-error');
    const details = h('details.box#propose', h('summary', 'Propose an exclusion'),
      h('div.form', field('Tenants', tenants), field('Rules', ruleSel), field('Filter', filter), field('Reason', reason), field('Risk', risk), field('Expires on', exp)),
      perr,
      h('div.row', h('button.primary#x-propose', {
        on: {
          click: async () => {
            clear(perr);
            if (!exp.value) { clear(perr, h('div.error', 'Choose the day the exclusion expires: every exclusion must end.')); return; }
            const picked = [...ruleSel.selectedOptions].map((o) => o.value);
            try {
              const x = await api('POST', '/exclusions', {
                tenants: splitList(tenants.value), rules: picked.length ? picked : ['*'], filter: filter.value.trim(),
                reason: reason.value.trim(), risk: risk.value.trim(), expires_at: new Date(exp.value + 'T23:59:59').toISOString(),
              });
              toast(`Exclusion ${x.id} proposed; another user must approve it`);
              go('#/exclusions?state=proposed');
            } catch (e) { clear(perr, errBox(e)); }
          },
        },
      }, 'Propose')),
      h('div.muted', 'It applies only once another user approves it, and stops on its expiry day.'));
    if (params.get('propose')) details.open = true;
    clear(form, details);
  }

  // ------------------------------------------------------------ Sources
  async function sourcesPage(params) {
    const t = oneTenant();
    const from = params.get('from') || '-7d';
    const body = h('div', 'Loading…');
    const win = h('select#sources-window', { on: { change: () => go(`#/sources?from=${win.value}`) } },
      [['-24h', 'last 24 hours'], ['-7d', 'last 7 days'], ['-30d', 'last 30 days']].map(([v, l]) => h('option', { value: v }, l)));
    if (![...win.options].some((o) => o.value === from)) win.appendChild(h('option', { value: from }, from));
    win.value = from;
    frame('sources', h('div.page#sources-page', h('h2', `Sources of ${t}`, ' ', h('span.muted', '· '), win), body));
    try {
      const enc = encodeURIComponent(t);
      const [byLabel, byDataset] = await Promise.all([
        api('GET', `/tenants/${enc}/sources?by=labels.source&from=${encodeURIComponent(from)}`),
        api('GET', `/tenants/${enc}/sources?by=event.dataset&from=${encodeURIComponent(from)}`),
      ]);
      const feeds = (list, field) => list.length ? h('table', h('thead', h('tr', h('th', 'Feed'), h('th.num', 'Events'), h('th', 'Last event'), h('th.num', 'Active hours'), h('th', 'State'))),
        h('tbody', list.map((f) => h('tr', { class: f.silent ? 'silent' : '' },
          h('td', h('a', { href: `#/discover?${new URLSearchParams({ q: `${field}:${quote(f.name)}`, from })}` }, f.name)),
          h('td.num', fmtN(f.events)),
          h('td', { title: f.last_seen }, `${fmtTime(f.last_seen)} (${ago(f.last_seen)})`),
          h('td.num', `${Math.round(f.active_share * 100)}%`),
          h('td', f.silent ? h('span.badge.bad', 'silent') : h('span.badge.ok', 'sending')))))) : h('div.muted', `No events with ${field} in this window.`);
      const live = Object.entries(byLabel.live || {});
      clear(body,
        h('div.box', h('h3', 'Live sources since the server started'),
          live.length ? h('table#live', h('thead', h('tr', h('th', 'Source'), h('th.num', 'Events'), h('th.num', 'Bytes'), h('th.num', 'Rejected (dead letter)'), h('th.num', 'Dropped'), h('th', 'Last event'))),
            h('tbody', live.map(([name, c]) => h('tr', h('td', name), h('td.num', fmtN(c.events)), h('td.num', fmtN(c.bytes)),
              h('td.num', c.rejected ? h('span.badge.bad', fmtN(c.rejected)) : '0'), h('td.num', fmtN(c.dropped)), h('td', c.last_event_at ? `${fmtTime(c.last_event_at)} (${ago(c.last_event_at)})` : '–')))))
            : h('div.muted', 'Nothing received since the server started.')),
        ...(byLabel.listeners || []).length ? [h('div.box', h('h3', 'Syslog listeners'),
          h('table#listeners', h('thead', h('tr', h('th', 'Listener'), h('th.num', 'Messages'), h('th.num', 'Oversized (dead letter)'), h('th.num', 'Dropped by the kernel'))),
            h('tbody', byLabel.listeners.map((l) => h('tr', h('td', l.listener), h('td.num', fmtN(l.messages)),
              h('td.num', l.oversized ? h('span.badge.bad', fmtN(l.oversized)) : '0'),
              h('td.num', l.kernel_drops == null ? '–' : (l.kernel_drops ? h('span.badge.bad', fmtN(l.kernel_drops)) : '0')))))))] : [],
        h('div.box', h('h3', 'Feeds by source (labels.source)'), feeds(byLabel.feeds, 'labels.source')),
        h('div.box', h('h3', 'Feeds by data set (event.dataset)'), feeds(byDataset.feeds, 'event.dataset')),
        h('div.muted', 'A feed is silent when it used to send most hours and has sent nothing for 6 hours.'));
    } catch (e) {
      clear(body, errBox(e));
    }
  }

  // ------------------------------------------------------------ Context lists
  async function listsPage(name) {
    const t = oneTenant();
    const enc = encodeURIComponent(t);
    const left = h('div.box.list', 'Loading…');
    const right = h('div');
    frame('lists', h('div.page#lists-page', h('h2', `Context lists of ${t}`),
      h('div.cols2', h('div', left, !canWrite() ? h('div.muted', 'Read-only for your role.') : h('button#new-list', { on: { click: () => go('#/lists/' + encodeURIComponent('\u0000new')) } }, 'New list')), right)));
    let lists = [];
    try {
      lists = await api('GET', `/tenants/${enc}/context-lists`);
      clear(left, lists.length ? lists.map((l) => h('a', { href: '#/lists/' + encodeURIComponent(l.name), class: l.name === name ? 'on' : '' }, '@' + l.name, ' ', h('span.muted', `(${l.entries.length})`)))
        : h('div.muted', 'No lists yet.'));
    } catch (e) { clear(left, errBox(e)); return; }
    const isNew = name === '\u0000new';
    const cur = isNew ? { name: '', entries: [], description: '' } : lists.find((l) => l.name === name);
    if (!cur) {
      clear(right, h('div.box', h('p', 'A context list holds values (addresses, networks, user names…) that filters use as ', h('code', '@name'), ', e.g. ', h('code', 'source.ip:@office'), '. Choose a list or create one.')));
      return;
    }
    const nm = h('input#list-name', { value: cur.name, disabled: !isNew, placeholder: 'office' });
    const desc = h('input#list-description', { value: cur.description || '' });
    const entries = h('textarea#list-entries', { readOnly: !canWrite(), value: cur.entries.join('\n'), placeholder: 'one value per line: 10.1.0.0/16, alice, …' });
    const err = h('div');
    const save = async () => {
      clear(err);
      const n = nm.value.trim();
      try {
        await api('PUT', `/tenants/${enc}/context-lists/${encodeURIComponent(n)}`, {
          entries: entries.value.split('\n').map((s) => s.trim()).filter(Boolean), description: desc.value,
        });
        toast('Saved');
        go('#/lists/' + encodeURIComponent(n));
      } catch (e) { clear(err, errBox(e)); }
    };
    const del = async () => {
      if (!confirm(`Delete @${cur.name}? Filters that use it will fail.`)) return;
      try { await api('DELETE', `/tenants/${enc}/context-lists/${encodeURIComponent(cur.name)}`); go('#/lists'); } catch (e) { clear(err, errBox(e)); }
    };
    clear(right, h('div.box',
      h('div.form', h('label', 'Name'), nm, h('label', 'Description'), desc, h('label', 'Entries'), entries),
      isNew ? null : h('div.muted', `Updated ${fmtTime(cur.updated_at)} by ${cur.updated_by}`),
      err,
      h('div.row', canWrite() ? [h('button.primary#list-save', { on: { click: save } }, 'Save'), isNew ? null : h('button.danger', { on: { click: del } }, 'Delete')] : null,
        isNew ? null : h('a', { href: `#/discover?${new URLSearchParams({ q: `source.ip:@${cur.name}` })}` }, `Search source.ip:@${cur.name}`))));
  }

  // ------------------------------------------------------------ Admin
  async function adminPage(tab) {
    const tabs = [['tenants', 'Tenants'], ['users', 'Users'], ['tokens', 'API tokens'], ['audit', 'Audit log']];
    const isAdmin = session.me.role === 'admin';
    const body = h('div', 'Loading…');
    frame(isAdmin ? 'admin' : '', h('div.page#admin-page',
      isAdmin ? h('div.tabs', tabs.map(([id, l]) => h('a', { href: id === 'tokens' ? '#/admin/tokens' : `#/admin/${id}`, class: id === tab ? 'on' : '' }, l))) : h('h2', 'My API tokens'),
      body));
    try {
      if (tab === 'tenants') await tenantsTab(body);
      else if (tab === 'users') await usersTab(body);
      else if (tab === 'tokens') await tokensTab(body);
      else if (tab === 'audit') await auditTab(body);
    } catch (e) { clear(body, errBox(e)); }
  }
  const field = (label, input) => [h('label', label), input];

  async function tenantsTab(body) {
    const list = await api('GET', '/tenants');
    const name = h('input#tenant-name', { placeholder: 'lower-case, digits, - _' });
    const days = h('input#tenant-retention', { type: 'number', min: 1, placeholder: 'forever' });
    const err = h('div');
    clear(body,
      h('table', h('thead', h('tr', h('th', 'Tenant'), h('th', 'Retention'))),
        h('tbody', list.map((t) => h('tr', h('td', t.name), h('td', t.retention_days ? `${t.retention_days} days` : 'forever'))))),
      h('div.box', { style: 'margin-top:12px' }, h('h3', 'New tenant'),
        h('div.form', field('Name', name), field('Retention (days)', days)), err,
        h('div.row', h('button.primary', {
          on: {
            click: async () => {
              try {
                await api('POST', '/tenants', { name: name.value.trim(), retention_days: days.value ? Number(days.value) : null });
                session.tenants = await api('GET', '/tenants');
                route();
              } catch (e) { clear(err, errBox(e)); }
            },
          },
        }, 'Create'))));
  }

  const ROLES = ['admin', 'analyst', 'viewer', 'customer', 'ingest'];
  const splitList = (s) => s.split(',').map((x) => x.trim()).filter(Boolean);

  async function usersTab(body) {
    const users = await api('GET', '/users');
    const err = h('div');
    const act = (fn) => async () => { try { await fn(); route(); } catch (e) { clear(err, errBox(e)); } };
    const name = h('input#user-name');
    const role = h('select#user-role', ROLES.map((r) => h('option', r)));
    role.value = 'analyst';
    const tenants = h('input#user-tenants', { placeholder: 'acme, globex  (* = all)' });
    const pw = h('input#user-password', { type: 'password', placeholder: 'at least 8 characters; empty: tokens only', autocomplete: 'new-password' });
    clear(body, err,
      h('table', h('thead', h('tr', h('th', 'User'), h('th', 'Role'), h('th', 'Tenants'), h('th', 'Created'), h('th', 'State'), h('th', ''))),
        h('tbody', users.map((u) => h('tr',
          h('td', u.name), h('td', u.role), h('td', u.tenants.join(', ')), h('td', fmtTime(u.created_at)),
          h('td', u.disabled ? h('span.badge.bad', 'disabled') : h('span.badge.ok', 'active')),
          h('td',
            h('button', { on: { click: act(() => api('PATCH', `/users/${encodeURIComponent(u.name)}`, { disabled: !u.disabled })) } }, u.disabled ? 'Enable' : 'Disable'), ' ',
            h('button', { on: { click: () => modal(`New password for ${u.name}`, [['Password', 'password', '']], (v) => api('PUT', `/users/${encodeURIComponent(u.name)}/password`, { password: v.password }).then(() => toast('Password set'))) } }, 'Password'), ' ',
            u.name === session.me.user ? null : h('button.danger', { on: { click: act(async () => { if (confirm(`Delete ${u.name} and revoke their tokens?`)) await api('DELETE', `/users/${encodeURIComponent(u.name)}`); }) } }, 'Delete')))))),
      h('div.box', { style: 'margin-top:12px' }, h('h3', 'New user'),
        h('div.form', field('Name', name), field('Role', role), field('Tenants', tenants), field('Password', pw)),
        h('div.row', h('button.primary#user-create', {
          on: { click: act(() => api('POST', '/users', { name: name.value.trim(), role: role.value, tenants: splitList(tenants.value), password: pw.value || null })) },
        }, 'Create'))));
  }

  async function tokensTab(body) {
    const tokens = await api('GET', '/tokens');
    const err = h('div');
    const shown = h('div');
    const isAdmin = session.me.role === 'admin';
    const name = h('input#token-name', { placeholder: 'what it is for: fluent-bit acme' });
    const user = h('input#token-user', { value: session.me.user, disabled: !isAdmin });
    const role = h('select#token-role', h('option', { value: '' }, "owner's role"), ROLES.map((r) => h('option', r)));
    const tenants = h('input#token-tenants', { placeholder: "owner's tenants, or: acme, globex" });
    const days = h('input#token-days', { type: 'number', min: 1, placeholder: 'never expires' });
    const draw = (list) => h('table#tokens', h('thead', h('tr', h('th', 'Id'), h('th', 'Name'), h('th', 'User'), h('th', 'Role'), h('th', 'Tenants'), h('th', 'Expires'), h('th', 'Last used'), h('th', ''))),
      h('tbody', list.map((t) => h('tr',
        h('td.mono', t.id), h('td', t.name), h('td', t.user), h('td', t.role), h('td', t.tenants.join(', ')),
        h('td', t.expires_at ? fmtTime(t.expires_at) : 'never'), h('td', t.last_used_at ? ago(t.last_used_at) : 'never'),
        h('td', t.revoked ? h('span.badge.bad', 'revoked') : h('button.danger', {
          on: { click: async () => { if (!confirm(`Revoke ${t.name}? Whatever uses it stops working.`)) return; try { await api('DELETE', `/tokens/${encodeURIComponent(t.id)}`); route(); } catch (e) { clear(err, errBox(e)); } } },
        }, 'Revoke'))))));
    clear(body, err, shown, draw(tokens),
      h('div.box', { style: 'margin-top:12px' }, h('h3', 'New token'),
        h('div.form', field('Name', name), field('User', user), field('Role', role), field('Tenants', tenants), field('Expires in (days)', days)),
        h('div.row', h('button.primary#token-create', {
          on: {
            click: async () => {
              clear(err);
              try {
                const b = { name: name.value.trim(), user: user.value.trim() || undefined };
                if (role.value) b.role = role.value;
                if (tenants.value.trim()) b.tenants = splitList(tenants.value);
                if (days.value) b.expires_at = new Date(Date.now() + Number(days.value) * 86400000).toISOString();
                const t = await api('POST', '/tokens', b);
                clear(shown, h('div.box',
                  h('strong', `Token ${t.info.name} created. Copy it now: it is shown this once.`),
                  h('div.row', h('div.secret#new-token', t.token), copyBtn(t.token))));
                const fresh = await api('GET', '/tokens');
                body.querySelector('#tokens').replaceWith(draw(fresh));
              } catch (e) { clear(err, errBox(e)); }
            },
          },
        }, 'Create'))));
  }

  async function auditTab(body) {
    const { params } = parseHash();
    const object = h('input#audit-object', { value: params.get('object') || '', placeholder: 'acme, user/alice, …' });
    const limit = h('select', ['100', '500', '2000'].map((n) => h('option', n)));
    limit.value = params.get('limit') || '100';
    const q = new URLSearchParams({ limit: limit.value });
    if (object.value) q.set('object', object.value);
    const entries = await api('GET', `/audit?${q}`);
    const apply = () => go(`#/admin/audit?${new URLSearchParams({ object: object.value, limit: limit.value })}`);
    object.addEventListener('keydown', (e) => { if (e.key === 'Enter') apply(); });
    const detail = (e) => {
      const parts = [];
      if (e.before !== null && e.before !== undefined) parts.push('before: ' + JSON.stringify(e.before));
      if (e.after !== null && e.after !== undefined) parts.push('after: ' + JSON.stringify(e.after));
      return parts.join('  ');
    };
    clear(body,
      h('div.row', 'Object', object, 'Entries', limit, h('button', { on: { click: apply } }, 'Show')),
      h('table#audit', h('thead', h('tr', h('th', 'Time'), h('th', 'Actor'), h('th', 'From'), h('th', 'Action'), h('th', 'Object'), h('th', 'Change'))),
        h('tbody', entries.map((e) => h('tr', h('td.mono', fmtTime(e.at)), h('td', e.actor), h('td', e.origin), h('td', e.action), h('td', e.object),
          h('td.mono', { style: 'max-width:560px;word-break:break-all' }, detail(e)))))),
      entries.length ? null : h('div.muted', 'No entries.'));
  }

  // ------------------------------------------------------------ keyboard
  document.addEventListener('keydown', (e) => {
    const typing = /^(INPUT|TEXTAREA|SELECT)$/.test(e.target.tagName);
    if (e.key === '/' && !typing) {
      const q = $('#q');
      if (q) { e.preventDefault(); q.focus(); q.select(); }
    } else if (e.key === 'Escape') {
      document.querySelectorAll('.pop').forEach((p) => p.remove());
      const close = closers.pop();
      if (close) close();
      if (typing) e.target.blur();
    }
  });

  document.addEventListener('click', () => document.querySelectorAll('.menu-list').forEach((m) => { m.hidden = true; }));
  window.addEventListener('hashchange', route);
  route();
})();
