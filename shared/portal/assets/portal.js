// The webhooks portal: plain DOM, no framework, no build step. Everything that comes from a
// person or a receiver (labels, URLs, payloads, error texts) is put in the page as text nodes;
// nothing here writes HTML from a string, sets a style attribute or evaluates code, so the page
// runs under `Content-Security-Policy: default-src 'self'`.
'use strict';
(() => {
  const API = '/v1/developer';
  const TOKEN_KEY = 'webhooks-portal-token';
  const PAGE_SIZE = 20; // deliveries asked for per page of the log
  const EXPIRED = 'This link has expired or is not valid. Ask for a new portal link.';
  const SVG = 'http://www.w3.org/2000/svg';
  const HOUR = 3600e3;

  let token = null;
  let view = 0; // bumped on every render: answers for an older view are dropped
  let firstRender = true;
  let flash = null; // a message for the next page drawn
  let catalogue = null;
  let ids = 0;

  // ---- DOM -----------------------------------------------------------------------------------

  // h('tag', {attributes}, ...children): strings become text nodes, never markup.
  function h(tag, attrs, ...children) {
    return fill(document.createElement(tag), attrs, children);
  }
  function s(tag, attrs, ...children) {
    return fill(document.createElementNS(SVG, tag), attrs, children);
  }
  function fill(el, attrs, children) {
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v == null || v === false) continue;
      if (k === 'style' || k.startsWith('inner') || k === 'outerHTML') throw new Error('refused: ' + k);
      if (k === 'text') el.textContent = v;
      else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
      else if (k === 'value' || k === 'checked') el[k] = v;
      else if (k === 'class') el.setAttribute('class', v);
      else el.setAttribute(k, v === true ? '' : String(v));
    }
    for (const c of children.flat(4)) {
      if (c != null && c !== false) el.append(c instanceof Node ? c : String(c));
    }
    return el;
  }
  const uid = (p) => `${p}-${++ids}`;
  const main = () => document.getElementById('main');
  const live = (gen) => gen === view;

  function plural(n, one, many) { return `${n} ${n === 1 ? one : many}`; }

  const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
  function when(iso, none = 'Never') {
    if (!iso) return h('span', { class: 'muted' }, none);
    const d = new Date(iso);
    if (Number.isNaN(d.getTime())) return String(iso);
    return h('time', { datetime: iso, title: iso }, dateFormat.format(d));
  }
  // <input type="datetime-local"> value <-> ISO 8601 UTC
  function localInput(date) {
    const p = (n) => String(n).padStart(2, '0');
    return `${date.getFullYear()}-${p(date.getMonth() + 1)}-${p(date.getDate())}T${p(date.getHours())}:${p(date.getMinutes())}`;
  }
  function isoFromLocal(value) {
    if (!value) return '';
    const d = new Date(value);
    return Number.isNaN(d.getTime()) ? null : d.toISOString();
  }

  // ---- the API -------------------------------------------------------------------------------

  class Expired extends Error {}
  class ApiError extends Error {
    constructor(status, body, retryAfter) {
      const detail = body && typeof body.detail === 'string' ? body.detail : '';
      let message = detail || (status ? `The service answered ${status}.` : 'The service could not be reached.');
      if (status === 429 && retryAfter) message += ` Try again in ${plural(Number(retryAfter) || 1, 'second', 'seconds')}.`;
      super(message);
      this.status = status;
      this.errors = body && body.errors && typeof body.errors === 'object' ? body.errors : {};
    }
  }

  async function api(method, path, { query, body } = {}) {
    if (!token) { expire(); throw new Expired(); }
    let url = API + path;
    if (query) {
      const q = new URLSearchParams();
      for (const [k, v] of Object.entries(query)) if (v != null && v !== '') q.set(k, v);
      if (q.toString()) url += '?' + q;
    }
    const init = { method, headers: { Authorization: 'Bearer ' + token, Accept: 'application/json' }, cache: 'no-store', credentials: 'omit' };
    if (body !== undefined) {
      init.headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    let res;
    try {
      res = await fetch(url, init);
    } catch {
      throw new ApiError(0, { detail: 'The service could not be reached. Check your connection and try again.' });
    }
    if (res.status === 401) { expire(); throw new Expired(); }
    const text = await res.text();
    let data = null;
    if (text) try { data = JSON.parse(text); } catch { data = null; }
    if (!res.ok) throw new ApiError(res.status, data, res.headers.get('Retry-After'));
    return data;
  }
  const endpointPath = (id) => `/webhook-endpoints/${encodeURIComponent(id)}`;

  function eventTypes() {
    if (!catalogue) catalogue = api('GET', '/webhook-event-types').catch((e) => { catalogue = null; throw e; });
    return catalogue;
  }

  // ---- sign-in and expiry --------------------------------------------------------------------

  function start() {
    let stored = null;
    try { stored = sessionStorage.getItem(TOKEN_KEY); } catch { /* storage off: memory only */ }
    if (location.hash.startsWith('#token=')) {
      let fresh = location.hash.slice('#token='.length).split('&')[0];
      try { fresh = decodeURIComponent(fresh); } catch { /* keep it raw */ }
      stored = fresh;
      try { sessionStorage.setItem(TOKEN_KEY, fresh); } catch { /* memory only */ }
      history.replaceState(null, '', location.pathname + location.search + '#/endpoints');
    }
    token = stored;
    if (!token) return expire();
    window.addEventListener('hashchange', render);
    render();
  }

  function expire() {
    view++;
    token = null;
    try { sessionStorage.removeItem(TOKEN_KEY); } catch { /* nothing kept */ }
    window.removeEventListener('hashchange', render);
    document.title = 'Portal link expired';
    document.body.replaceChildren(h('main', { id: 'main', class: 'wrap expired' },
      h('p', { role: 'alert', class: 'expired-message' }, EXPIRED)));
  }

  // ---- routing -------------------------------------------------------------------------------

  function parseHash() {
    const raw = location.hash.replace(/^#\/?/, '');
    const [path, qs] = raw.split('?');
    const parts = path.split('/').filter(Boolean).map((p) => { try { return decodeURIComponent(p); } catch { return p; } });
    return { parts, query: new URLSearchParams(qs || '') };
  }

  function render() {
    const gen = ++view;
    const { parts, query } = parseHash();
    const page = parts[0] || 'endpoints';
    for (const a of document.querySelectorAll('#nav a')) {
      if (a.dataset.page === page) a.setAttribute('aria-current', 'page');
      else a.removeAttribute('aria-current');
    }
    const m = main();
    m.replaceChildren();
    if (flash) { m.append(h('p', { class: 'alert ok', role: 'status' }, flash)); flash = null; }
    let drawn;
    if (page === 'endpoints' && !parts[1]) drawn = endpointsPage(gen);
    else if (page === 'endpoints' && parts[1] === 'new') drawn = newEndpointPage(gen);
    else if (page === 'endpoints') drawn = endpointPage(gen, parts[1]);
    else if (page === 'deliveries' && parts[1]) drawn = deliveryPage(gen, parts[1], query);
    else if (page === 'deliveries') drawn = deliveriesPage(gen, query);
    else if (page === 'event-types') drawn = eventTypesPage(gen);
    else drawn = notFoundPage();
    Promise.resolve(drawn).catch((e) => {
      if (e instanceof Expired || !live(gen)) return;
      m.querySelector('.loading')?.remove();
      m.append(h('div', { class: 'alert error', role: 'alert' },
        h('p', {}, 'Could not load this page: ', e.message || String(e)),
        h('button', { type: 'button', onclick: render }, 'Try again')));
    });
    if (!firstRender) (m.querySelector('h1') || m).focus();
    firstRender = false;
  }

  function go(hash) {
    if (location.hash === hash) render();
    else location.hash = hash;
  }

  function pageHead(title, ...actions) {
    document.title = `${title} · Webhooks portal`;
    return h('div', { class: 'page-head' }, h('h1', { tabindex: '-1' }, title), actions.length ? h('div', { class: 'actions' }, actions) : null);
  }
  const loading = () => h('p', { class: 'loading muted', role: 'status' }, 'Loading…');

  function notFoundPage() {
    main().append(pageHead('Page not found'), h('p', {}, h('a', { href: '#/endpoints' }, 'Go to the endpoints')));
  }

  // ---- shared controls -----------------------------------------------------------------------

  // Runs fn once at a time for a button, which stays focusable (aria-disabled, not disabled).
  function action(button, fn) {
    button.addEventListener('click', async (event) => {
      event.preventDefault();
      if (button.getAttribute('aria-disabled') === 'true') return;
      button.setAttribute('aria-disabled', 'true');
      try { await fn(); } catch (e) { if (!(e instanceof Expired)) throw e; } finally { button.removeAttribute('aria-disabled'); }
    });
    return button;
  }

  function field(labelText, control, hint) {
    if (!control.id) control.id = uid('f');
    const err = h('p', { class: 'field-error', id: control.id + '-error', hidden: true });
    const hintEl = hint ? h('p', { class: 'hint', id: control.id + '-hint' }, hint) : null;
    control.setAttribute('aria-describedby', (hintEl ? hintEl.id + ' ' : '') + err.id);
    return { el: h('div', { class: 'field' }, h('label', { for: control.id }, labelText), hintEl, control, err), control, err };
  }

  // Shows an API error: per-field messages beside their fields, the rest in the box.
  function showErrors(fields, box, e) {
    clearErrors(fields, box);
    if (e instanceof Expired) return;
    const other = [];
    let first = null;
    for (const [name, messages] of Object.entries(e.errors || {})) {
      const text = (Array.isArray(messages) ? messages : [messages]).map(String).join(' ');
      const f = fields[name];
      if (f) {
        f.err.textContent = text;
        f.err.hidden = false;
        f.control.setAttribute('aria-invalid', 'true');
        if (!f.control.closest('[hidden]')) first = first || f.control;
      } else other.push(`${name}: ${text}`);
    }
    // Each field's messages are beside it; the box says what is left, or where to look.
    const said = first ? (other.length ? 'Check the fields marked below, and:' : 'Check the fields marked below.') : (e.message || String(e));
    box.append(h('p', {}, said));
    if (other.length) box.append(h('ul', {}, other.map((t) => h('li', {}, t))));
    box.hidden = false;
    (first && first.focus ? first : box).focus();
  }
  function clearErrors(fields, box) {
    for (const f of Object.values(fields)) {
      f.err.hidden = true;
      f.err.textContent = '';
      f.control.removeAttribute('aria-invalid');
    }
    box.replaceChildren();
    box.hidden = true;
  }
  const errorBox = () => h('div', { class: 'alert error', role: 'alert', tabindex: '-1', hidden: true });

  // A read-only value with a Copy button: its label, the row, and a note saying how it went.
  function copyRow(labelText, value, what) {
    const input = h('input', { id: uid('copy'), class: 'secret', readonly: true, value, spellcheck: 'false', autocomplete: 'off' });
    const note = h('span', { class: 'copy-note', role: 'status' });
    const copy = h('button', { type: 'button' }, 'Copy');
    action(copy, async () => {
      let ok = false;
      try { await navigator.clipboard.writeText(value); ok = true; } catch {
        input.select();
        try { ok = document.execCommand('copy'); } catch { ok = false; }
      }
      note.textContent = ok ? 'Copied.' : `Select the ${what} and copy it.`;
    });
    return [h('label', { for: input.id }, labelText), h('div', { class: 'copy-row' }, input, copy), note];
  }

  function secretPanel(title, secret) {
    const heading = h('h2', { tabindex: '-1' }, title);
    const panel = h('section', { class: 'panel secret-panel' }, heading,
      h('p', { class: 'warning' }, h('strong', {}, 'Copy this secret now: it will not be shown again. '),
        'Your receiver needs it to verify the signature of each delivery.'),
      copyRow('Signing secret', secret, 'secret'));
    panel.focusHeading = () => heading.focus();
    return panel;
  }

  // A secret is shown once: made after the person moved to another page, it is shown at the top
  // of that page rather than dropped (a rotation's would otherwise be lost while already signing).
  function secretOnThisPage(title, secret) {
    const panel = secretPanel(title, secret);
    main().prepend(panel);
    panel.focusHeading();
  }

  function badge(status) {
    const names = { active: 'active', disabled: 'disabled', failing: 'failing', delivered: 'delivered', failed: 'failed', retrying: 'retrying' };
    return h('span', { class: 'badge badge-' + (names[status] || 'other') }, String(status));
  }

  function eventsSummary(events) {
    if (!events || !events.length) return h('span', { class: 'all-events' }, 'All events');
    return h('ul', { class: 'chips' }, events.map((t) => h('li', {}, t)));
  }

  // A table that stacks into cards on a narrow screen: each cell carries its column's name.
  function table(caption, columns, extraClass) {
    const tbody = h('tbody');
    const t = h('table', { class: 'data' + (extraClass ? ' ' + extraClass : '') },
      caption ? h('caption', { class: 'visually-hidden' }, caption) : null,
      h('thead', {}, h('tr', {}, columns.map((c) => h('th', { scope: 'col' }, c)))), tbody);
    t.row = (...cells) => {
      const tr = h('tr', {}, cells.map((c, i) => h('td', { 'data-label': columns[i] }, c)));
      tbody.append(tr);
      return tr;
    };
    return t;
  }
  function wrapTable(t) { return h('div', { class: 'table-wrap' }, t); }

  // ---- the health chart ----------------------------------------------------------------------

  // Per-hour bars when the stats carry `hourly: [{hour, successes, failures}]`; otherwise one
  // bar of the 24-hour totals (a server from before `hourly`).
  function healthChart(st, large) {
    const ok = Number(st.successes_24h) || 0;
    const bad = Number(st.failures_24h) || 0;
    const summary = `Last 24 hours: ${ok} delivered, ${bad} failed`;
    const W = large ? 480 : 120;
    const H = large ? 64 : 24;
    const svg = s('svg', { class: 'chart' + (large ? ' chart-large' : ''), viewBox: `0 0 ${W} ${H}`, width: W, height: H, role: 'img', 'aria-label': summary, preserveAspectRatio: 'none', focusable: 'false' },
      s('title', {}, summary));
    const rect = (x, y, w, hh, cls, tip) => {
      if (w <= 0 || hh <= 0) return;
      const r = s('rect', { x: x.toFixed(2), y: y.toFixed(2), width: w.toFixed(2), height: hh.toFixed(2), class: cls });
      if (tip) r.append(s('title', {}, tip));
      svg.append(r);
    };
    const hourly = Array.isArray(st.hourly) ? st.hourly : null;
    if (hourly) {
      // Oldest first, the current hour last: placed by order, so a skewed clock moves nothing.
      const buckets = Array.from({ length: 24 }, () => ({ ok: 0, bad: 0, hour: null }));
      hourly.slice(-24).forEach((b, i, all) => {
        const slot = buckets[24 - all.length + i];
        const at = Date.parse(b && b.hour);
        slot.ok = Number(b && b.successes) || 0;
        slot.bad = Number(b && b.failures) || 0;
        slot.hour = Number.isNaN(at) ? null : at;
      });
      const max = Math.max(1, ...buckets.map((b) => b.ok + b.bad));
      const bw = W / 24;
      buckets.forEach((b, i) => {
        const x = i * bw;
        const hourName = b.hour ? new Date(b.hour).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' }) : `${23 - i} h ago`;
        const tip = `${hourName}: ${b.ok} delivered, ${b.bad} failed`;
        rect(x, H - 1, bw - 1, 1, 'bar-none', tip);
        const hOk = (b.ok / max) * (H - 1);
        const hBad = (b.bad / max) * (H - 1);
        rect(x, H - 1 - hOk, bw - 1, hOk, 'bar-ok', tip);
        rect(x, H - 1 - hOk - hBad, bw - 1, hBad, 'bar-bad', tip);
      });
    } else {
      const total = ok + bad;
      const y = H / 2 - H / 4;
      if (!total) rect(0, y, W, H / 2, 'bar-none');
      else {
        rect(0, y, (W * ok) / total, H / 2, 'bar-ok');
        rect((W * ok) / total, y, (W * bad) / total, H / 2, 'bar-bad');
      }
    }
    return h('div', { class: 'health' }, svg, h('span', { class: 'health-text' }, `${ok} delivered · ${bad} failed`));
  }

  // ---- endpoints -----------------------------------------------------------------------------

  async function endpointsPage(gen) {
    const add = h('button', { type: 'button', class: 'primary', onclick: () => go('#/endpoints/new') }, 'Add endpoint');
    const m = main();
    m.append(pageHead('Endpoints', add), loading());
    const endpoints = await api('GET', '/webhook-endpoints');
    if (!live(gen)) return;
    m.querySelector('.loading').remove();
    if (!endpoints.length) {
      m.append(h('p', { class: 'empty' }, 'No endpoints yet. Add one to start receiving webhooks.'));
      performance.mark('endpoints-rendered');
      return;
    }
    const t = table('Endpoints', ['Label', 'URL', 'Status', 'Events', 'Last 24 hours', 'Last success', 'Last failure'], 'endpoints');
    const stats = [];
    for (const ep of endpoints) {
      const health = h('span', { class: 'muted' }, '…');
      const success = h('span', { class: 'muted' }, '…');
      const failure = h('span', { class: 'muted' }, '…');
      const tr = t.row(h('a', { href: '#/endpoints/' + encodeURIComponent(ep.id), class: 'label-link' }, ep.label),
        h('span', { class: 'url' }, ep.url), badge(ep.status), eventsSummary(ep.events), health, success, failure);
      tr.dataset.endpointId = ep.id;
      stats.push([ep, health, success, failure]);
    }
    m.append(wrapTable(t));
    performance.mark('endpoints-rendered');
    for (const [ep, health, success, failure] of stats) {
      api('GET', endpointPath(ep.id) + '/stats').then((st) => {
        if (!live(gen)) return;
        health.replaceWith(healthChart(st));
        success.replaceWith(when(st.last_success_at));
        failure.replaceWith(when(st.last_failure_at));
      }, (e) => {
        if (e instanceof Expired || !live(gen)) return;
        health.textContent = 'Unavailable';
        success.textContent = failure.textContent = '';
      });
    }
  }

  // "Name: value" lines as an object; a line without a colon is a name with an empty value,
  // which the API names in its answer if it refuses it.
  function parseHeaders(text) {
    const headers = {};
    for (const line of text.split('\n')) {
      if (!line.trim()) continue;
      const colon = line.indexOf(':');
      const name = (colon < 0 ? line : line.slice(0, colon)).trim();
      headers[name] = colon < 0 ? '' : line.slice(colon + 1).trim();
    }
    return headers;
  }

  // Empty is no limit; a whole number goes as a number; anything else goes as typed, for the
  // API to say what is wrong with it beside the field.
  function rateLimitValue(text) {
    const raw = text.trim();
    if (raw === '') return null;
    return /^\d+$/.test(raw) ? Number(raw) : raw;
  }

  // An SQS queue's or EventBridge bus's ARN rather than an https URL: it takes a role.
  const isArn = (text) => text.trim().startsWith('arn:');

  // Label, URL, Role ARN (for an ARN url), Events, custom headers and rate limit; onSubmit(values) runs the request and may throw an ApiError.
  function endpointForm(ep, types, submitName, onSubmit) {
    const label = field('Label', h('input', { type: 'text', name: 'label', required: true, maxlength: '120', autocomplete: 'off', value: ep.label }));
    const url = field('URL', h('input', { type: 'url', name: 'url', required: true, maxlength: '2048', autocomplete: 'off', inputmode: 'url', spellcheck: 'false', placeholder: 'https://example.com/webhooks', value: ep.url }),
      'Where deliveries are sent: an https URL, or the ARN of an SQS queue or EventBridge bus.');
    const role = field('Role ARN', h('input', { type: 'text', name: 'role_arn', autocomplete: 'off', spellcheck: 'false', placeholder: 'arn:aws:iam::123456789012:role/webhooks', value: ep.role_arn || '' }),
      'For a queue or bus: a role in its account that may send there, and that trusts this service with your external id (below). No AWS keys are stored.');
    const identity = h('div', { class: 'aws-identity' });
    role.el.append(identity);
    let identityAsked = false;
    // The role field belongs to ARN urls; the external id is fetched the first time it shows.
    const showRole = () => {
      const aws = isArn(url.control.value);
      if (role.el.hidden === aws) { // a role error was said of the other kind of url
        role.err.hidden = true;
        role.err.textContent = '';
        role.control.removeAttribute('aria-invalid');
      }
      role.el.hidden = !aws;
      if (!aws || identityAsked) return;
      identityAsked = true;
      identity.replaceChildren(h('p', { class: 'muted' }, 'Loading your external id…'));
      api('GET', '/webhook-aws-identity').then((id) => {
        // replaceChildren, unlike h, writes a null as text: the policy goes in only when given.
        const policy = id.trust_policy ? [h('details', {}, h('summary', {}, 'Trust policy for the role'),
          h('pre', { class: 'payload', tabindex: '0', 'aria-label': 'Trust policy' }, h('code', {}, JSON.stringify(id.trust_policy, null, 2))))] : [];
        identity.replaceChildren(...copyRow('Your external id', id.external_id, 'external id'), ...policy);
      }, (e) => {
        if (!(e instanceof Expired)) identity.replaceChildren(h('p', { class: 'field-error' }, 'Your external id could not be loaded: ', e.message));
      });
    };
    url.control.addEventListener('input', showRole);
    showRole();
    const chosen = new Set(ep.events || []);
    const boxes = types.map((t) => {
      const box = h('input', { type: 'checkbox', name: 'events', value: t.type, checked: chosen.has(t.type) });
      return h('label', { class: 'check' }, box,
        h('span', {}, h('span', { class: 'type' }, t.type), ' ',
          h('span', { class: 'desc' }, t.description, t.blocking ? ' (blocking: the receiver answers within 2 s)' : '')));
    });
    const eventsErr = h('p', { class: 'field-error', id: uid('events-error'), hidden: true });
    const hint = h('p', { class: 'hint', id: uid('events-hint') }, 'Leave every box empty to receive all events, including types added later.');
    const fieldset = h('fieldset', { class: 'events', 'aria-describedby': hint.id + ' ' + eventsErr.id },
      h('legend', {}, 'Events'), hint, h('div', { class: 'checks' }, boxes), eventsErr);
    const headerLines = Object.entries(ep.headers || {}).map(([name, value]) => `${name}: ${value}`).join('\n');
    const headers = field('Custom headers', h('textarea', { name: 'headers', rows: '3', autocomplete: 'off', spellcheck: 'false', placeholder: 'Authorization: Bearer …' }, headerLines),
      'Sent with every delivery, one per line as Name: value (at most 20), for example a token your gateway asks for.');
    const rateLimit = field('Rate limit', h('input', { type: 'text', name: 'rate_limit', inputmode: 'numeric', autocomplete: 'off', placeholder: 'None', value: ep.rate_limit == null ? '' : String(ep.rate_limit) }),
      'Deliveries a second at most (1 to 100), for a receiver that cannot take bursts. Leave empty for none: delivery still slows down by itself when the receiver asks.');
    const fields = { label, url, role_arn: role, events: { control: fieldset, err: eventsErr }, headers, rate_limit: rateLimit };
    const box = errorBox();
    const submit = h('button', { type: 'submit', class: 'primary' }, submitName);
    const form = h('form', { class: 'endpoint-form', novalidate: true }, box, label.el, url.el, role.el, fieldset, headers.el, rateLimit.el, h('div', { class: 'actions' }, submit));
    let busy = false;
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      if (busy) return;
      busy = true;
      submit.setAttribute('aria-disabled', 'true');
      clearErrors(fields, box);
      const values = {
        label: label.control.value,
        url: url.control.value.trim(),
        role_arn: isArn(url.control.value) ? (role.control.value.trim() || null) : null,
        events: [...form.querySelectorAll('input[name=events]:checked')].map((c) => c.value),
        headers: parseHeaders(headers.control.value),
        rate_limit: rateLimitValue(rateLimit.control.value),
      };
      try { await onSubmit(values); } catch (e) { showErrors(fields, box, e); } finally {
        busy = false;
        submit.removeAttribute('aria-disabled');
      }
    });
    return form;
  }

  async function newEndpointPage(gen) {
    const m = main();
    m.append(h('p', { class: 'crumb' }, h('a', { href: '#/endpoints' }, 'Endpoints')), pageHead('Add endpoint'), loading());
    const types = await eventTypes();
    if (!live(gen)) return;
    m.querySelector('.loading').remove();
    const form = endpointForm({ label: '', url: '', events: [] }, types, 'Create endpoint', async (values) => {
      // role_arn goes with an ARN url; an https endpoint is created as before (undefined is left out of the JSON).
      const created = await api('POST', '/webhook-endpoints', { body: isArn(values.url) ? values : { ...values, role_arn: undefined } });
      if (!live(gen)) return secretOnThisPage('Endpoint created: ' + created.label, created.secret);
      const panel = secretPanel('Endpoint created', created.secret);
      panel.append(h('p', { class: 'actions' },
        h('a', { class: 'button', href: '#/endpoints/' + encodeURIComponent(created.id) }, 'Open the endpoint'),
        h('a', { class: 'button', href: '#/endpoints' }, 'Back to endpoints')));
      form.replaceWith(h('p', {}, 'Created ', h('strong', {}, created.label), '.'), panel);
      panel.focusHeading();
    });
    m.append(form);
    form.querySelector('input').focus();
  }

  async function endpointPage(gen, id) {
    const m = main();
    m.append(h('p', { class: 'crumb' }, h('a', { href: '#/endpoints' }, 'Endpoints')), loading());
    const [endpoints, types] = await Promise.all([api('GET', '/webhook-endpoints'), eventTypes()]);
    if (!live(gen)) return;
    m.querySelector('.loading').remove();
    let ep = endpoints.find((e) => e.id === id);
    if (!ep) {
      m.append(pageHead('Endpoint not found'), h('p', {}, 'There is no such endpoint: it may have been deleted.'));
      return;
    }
    const head = pageHead(ep.label);
    const urlText = h('p', { class: 'url big' }, ep.url);
    const statusBadge = h('span', {}, badge(ep.status));
    const hint = h('span', {}, ep.secret_hint);
    m.append(head, urlText, h('p', { class: 'meta' }, 'Status: ', statusBadge, ' · Secret: ', h('code', {}, hint)));

    const grid = h('div', { class: 'panels' });
    m.append(grid);

    // Health
    const healthBody = h('div', {}, h('p', { class: 'muted' }, 'Loading…'));
    const previousExpiry = h('p', { class: 'hint' });
    grid.append(h('section', { class: 'panel wide' }, h('h2', {}, 'Health'), healthBody,
      h('p', {}, h('a', { href: '#/deliveries?endpoint_id=' + encodeURIComponent(ep.id) }, 'View this endpoint’s deliveries'))));
    const loadStats = () => api('GET', endpointPath(ep.id) + '/stats').then((st) => {
      if (!live(gen)) return;
      const rows = [
        ['Delivered (24 h)', String(st.successes_24h)], ['Failed (24 h)', String(st.failures_24h)],
        ['Last success', when(st.last_success_at)], ['Last failure', when(st.last_failure_at)],
        ['Last HTTP status', st.last_http_status == null ? '—' : String(st.last_http_status)],
        ['Last failure category', st.last_failure_category || '—'],
        ['Delivery rate now', st.effective_rate == null ? 'As fast as events come' : `At most ${st.effective_rate} a second`],
      ];
      if (st.failing_since) rows.push(['Failing since', when(st.failing_since)]);
      healthBody.replaceChildren(healthChart(st, true), h('dl', { class: 'facts' }, rows.map(([k, v]) => h('div', {}, h('dt', {}, k), h('dd', {}, v)))));
      previousExpiry.textContent = st.previous_secret_expires_at
        ? `The previous secret keeps signing until ${dateFormat.format(new Date(st.previous_secret_expires_at))}.` : '';
    }, (e) => {
      if (!(e instanceof Expired) && live(gen)) healthBody.replaceChildren(h('p', { class: 'field-error' }, 'Health unavailable: ', e.message));
    });
    loadStats();

    const show = (updated) => {
      ep = updated;
      head.querySelector('h1').textContent = ep.label;
      document.title = `${ep.label} · Webhooks portal`;
      urlText.textContent = ep.url;
      statusBadge.replaceChildren(badge(ep.status));
      hint.textContent = ep.secret_hint;
      drawStatus();
    };

    // Status: pause and resume
    const statusBody = h('div', {});
    const statusNote = h('p', { role: 'status', class: 'note' });
    const statusBox = errorBox();
    grid.append(h('section', { class: 'panel' }, h('h2', {}, 'Status'), statusBox, statusBody, statusNote));
    const setStatus = (status, done) => async () => {
      statusNote.textContent = '';
      statusBox.hidden = true;
      try {
        show(await api('PATCH', endpointPath(ep.id), { body: { status } }));
        statusNote.textContent = done;
        statusBody.querySelector('button')?.focus();
      } catch (e) { showErrors({}, statusBox, e); }
    };
    function drawStatus() {
      const texts = {
        active: 'Active: events are delivered.',
        disabled: 'Paused (disabled): nothing is delivered until you resume.',
        failing: 'Failing: deliveries have kept failing. Fix the receiver, then resume to mark it active.',
      };
      const buttons = [];
      if (ep.status !== 'disabled') buttons.push(action(h('button', { type: 'button' }, 'Pause'), setStatus('disabled', 'Paused.')));
      if (ep.status !== 'active') buttons.push(action(h('button', { type: 'button', class: 'primary' }, 'Resume'), setStatus('active', 'Resumed.')));
      statusBody.replaceChildren(h('p', {}, badge(ep.status), ' ', texts[ep.status] || ''), h('div', { class: 'actions' }, buttons));
    }
    drawStatus();

    // Send test
    const testType = field('Event type', h('select', { name: 'event_type' },
      h('option', { value: 'webhook.test' }, 'webhook.test (a sample test event)'), types.map((t) => h('option', { value: t.type }, t.type))));
    const testResult = h('div', { role: 'status', class: 'note' });
    const testBox = errorBox();
    const testButton = action(h('button', { type: 'button' }, 'Send test'), async () => {
      testResult.replaceChildren('Sending…');
      clearErrors({ event_type: testType }, testBox);
      try {
        const r = await api('POST', endpointPath(ep.id) + '/test', { body: { event_type: testType.control.value } });
        if (!live(gen)) return;
        const link = h('a', { href: `#/deliveries/${encodeURIComponent(r.event_id)}?endpoint_id=${encodeURIComponent(ep.id)}` }, 'See the delivery');
        testResult.replaceChildren(h('div', {}, h('p', { class: r.success ? 'result ok' : 'result bad' },
          r.success ? 'Delivered' : 'Failed', r.response_code == null ? '' : `: HTTP ${r.response_code}`, '. ', link),
        r.error ? h('p', {}, 'Error: ', h('span', { class: 'receiver-text' }, r.error)) : null,
        r.success ? null : h('p', { class: 'hint' }, 'A failed test is retried once about a minute later.')));
        loadStats();
      } catch (e) { testResult.replaceChildren(); showErrors({ event_type: testType }, testBox, e); }
    });
    grid.append(h('section', { class: 'panel' }, h('h2', {}, 'Send test'), h('p', { class: 'hint' }, 'Sends one signed sample event now and shows what the receiver answered.'),
      testBox, testType.el, h('div', { class: 'actions' }, testButton), testResult));

    // Rotate
    const grace = field('Grace period (hours)', h('input', { type: 'number', name: 'expire_previous_after_hours', min: '0', max: '168', step: '1', value: '24', inputmode: 'numeric' }),
      'How long the previous secret keeps signing beside the new one: 0 to 168 hours.');
    const rotateBox = errorBox();
    const rotated = h('div', {});
    const rotateButton = action(h('button', { type: 'button' }, 'Rotate secret'), async () => {
      rotated.replaceChildren();
      clearErrors({ expire_previous_after_hours: grace }, rotateBox);
      const raw = grace.control.value.trim();
      const hours = raw === '' ? 24 : Number(raw);
      if (!Number.isInteger(hours) || hours < 0 || hours > 168) {
        showErrors({ expire_previous_after_hours: grace }, rotateBox, Object.assign(new Error('Check the grace period.'), { errors: { expire_previous_after_hours: ['A whole number of hours from 0 to 168.'] } }));
        return;
      }
      try {
        const r = await api('POST', endpointPath(ep.id) + '/rotate-secret', { body: { expire_previous_after_hours: hours } });
        if (!live(gen)) return secretOnThisPage('New signing secret for ' + r.label, r.secret);
        const { secret, ...rest } = r;
        show(rest);
        const panel = secretPanel('New signing secret', secret);
        rotated.replaceChildren(panel);
        panel.focusHeading();
        loadStats();
      } catch (e) { showErrors({ expire_previous_after_hours: grace }, rotateBox, e); }
    });
    grid.append(h('section', { class: 'panel' }, h('h2', {}, 'Signing secret'),
      h('p', {}, 'Rotating makes a new secret. Deliveries are signed with both for the grace period, so your receiver can switch without failures.'),
      previousExpiry, rotateBox, grace.el, h('div', { class: 'actions' }, rotateButton), rotated));

    // Recover
    const since = field('Since', h('input', { type: 'datetime-local', name: 'since', value: localInput(new Date(Date.now() - 24 * HOUR)) }),
      'Resends this endpoint’s failed deliveries of events from this time on (your local time), at most 1,000 at a time.');
    const recoverBox = errorBox();
    const recovered = h('p', { role: 'status', class: 'note' });
    let recoverCursor = null;
    let recoverSince = null;
    since.control.addEventListener('input', () => { recoverCursor = null; });
    const recoverButton = action(h('button', { type: 'button' }, 'Recover'), async () => {
      recovered.textContent = '';
      clearErrors({ since }, recoverBox);
      const iso = isoFromLocal(since.control.value);
      if (!iso) {
        showErrors({ since }, recoverBox, Object.assign(new Error('Choose a date and time.'), { errors: { since: ['Choose a date and time.'] } }));
        return;
      }
      const body = { since: iso };
      if (recoverCursor && recoverSince === iso) body.cursor = recoverCursor;
      try {
        const r = await api('POST', endpointPath(ep.id) + '/recover', { body });
        recoverCursor = r.has_more ? r.next_cursor : null;
        recoverSince = iso;
        recovered.textContent = `Queued ${plural(r.queued, 'failed delivery', 'failed deliveries')} for resending.` +
          (r.has_more ? ' More remain: press Recover again to queue the next ones.' : '');
      } catch (e) { showErrors({ since }, recoverBox, e); }
    });
    grid.append(h('section', { class: 'panel' }, h('h2', {}, 'Recover'), recoverBox, since.el, h('div', { class: 'actions' }, recoverButton), recovered));

    // Edit
    const saved = h('p', { role: 'status', class: 'note' });
    const form = endpointForm(ep, types, 'Save', async (values) => {
      saved.textContent = '';
      const body = {};
      if (values.label !== ep.label) body.label = values.label;
      // A role goes with its url: both are sent when either changes.
      if (values.url !== ep.url || values.role_arn !== (ep.role_arn ?? null)) {
        body.url = values.url;
        body.role_arn = values.role_arn;
      }
      const before = [...ep.events].sort().join();
      if ([...values.events].sort().join() !== before) body.events = values.events;
      if (JSON.stringify(values.headers) !== JSON.stringify(ep.headers || {})) body.headers = values.headers;
      if (values.rate_limit !== (ep.rate_limit ?? null)) body.rate_limit = values.rate_limit;
      show(await api('PATCH', endpointPath(ep.id), { body }));
      saved.textContent = 'Saved.';
      if ('rate_limit' in body) loadStats();
    });
    form.append(saved);
    grid.append(h('section', { class: 'panel wide' }, h('h2', {}, 'Settings'), form));

    // Delete, with a confirmation step in the page
    const deleteBox = errorBox();
    const confirmArea = h('div', {});
    const deleteButton = h('button', { type: 'button', class: 'danger' }, 'Delete');
    deleteButton.addEventListener('click', () => {
      deleteButton.hidden = true;
      const yes = action(h('button', { type: 'button', class: 'danger' }, 'Yes, delete this endpoint'), async () => {
        try {
          await api('DELETE', endpointPath(ep.id));
          flash = `Deleted the endpoint “${ep.label}”.`;
          go('#/endpoints');
        } catch (e) { showErrors({}, deleteBox, e); }
      });
      const cancel = h('button', { type: 'button', onclick: () => { confirmArea.replaceChildren(); deleteButton.hidden = false; deleteButton.focus(); } }, 'Cancel');
      const question = h('p', { class: 'confirm-text', id: uid('confirm') }, `Delete “${ep.label}”? Its secret and stats are deleted too, and nothing more is delivered to it. This cannot be undone.`);
      confirmArea.replaceChildren(h('div', { class: 'confirm', role: 'group', 'aria-labelledby': question.id }, question, h('div', { class: 'actions' }, yes, cancel)));
      yes.focus();
    });
    grid.append(h('section', { class: 'panel wide danger-zone' }, h('h2', {}, 'Delete'), deleteBox, deleteButton, confirmArea));
  }

  // ---- deliveries ----------------------------------------------------------------------------

  function deliveryHref(d) {
    return `#/deliveries/${encodeURIComponent(d.event_id)}?endpoint_id=${encodeURIComponent(d.endpoint_id || 'legacy')}`;
  }

  async function deliveriesPage(gen, query) {
    const m = main();
    m.append(pageHead('Deliveries'), loading());
    const filters = {
      status: query.get('status') || '',
      event_type: query.get('event_type') || '',
      endpoint_id: query.get('endpoint_id') || '',
      since: query.get('since') || '',
    };
    const [types, endpoints] = await Promise.all([eventTypes(), api('GET', '/webhook-endpoints')]);
    if (!live(gen)) return;
    m.querySelector('.loading').remove();

    const opt = (value, text, current) => h('option', { value, selected: value === current }, text);
    const status = field('Status', h('select', { name: 'status' }, opt('', 'Any status', filters.status),
      ['delivered', 'failed', 'retrying'].map((v) => opt(v, v, filters.status))));
    const typeNames = ['webhook.test', ...types.map((t) => t.type)];
    if (filters.event_type && !typeNames.includes(filters.event_type)) typeNames.push(filters.event_type);
    const eventType = field('Event type', h('select', { name: 'event_type' }, opt('', 'Any event type', filters.event_type),
      typeNames.map((v) => opt(v, v, filters.event_type))));
    const endpointOptions = endpoints.map((e) => opt(e.id, e.label, filters.endpoint_id));
    if (filters.endpoint_id && !endpoints.some((e) => e.id === filters.endpoint_id)) endpointOptions.push(opt(filters.endpoint_id, 'A deleted endpoint', filters.endpoint_id));
    const endpoint = field('Endpoint', h('select', { name: 'endpoint_id' }, opt('', 'Any endpoint', filters.endpoint_id), endpointOptions));
    const sinceDate = filters.since ? new Date(filters.since) : null;
    const since = field('Since', h('input', { type: 'datetime-local', name: 'since', value: sinceDate && !Number.isNaN(sinceDate.getTime()) ? localInput(sinceDate) : '' }));
    const fields = { status, event_type: eventType, endpoint_id: endpoint, since };
    const box = errorBox();
    const form = h('form', { class: 'filters', role: 'search', 'aria-label': 'Filter deliveries' }, box,
      h('div', { class: 'filter-row' }, status.el, eventType.el, endpoint.el, since.el),
      h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, 'Apply filters'),
        h('a', { class: 'button', href: '#/deliveries' }, 'Clear')));
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      const q = new URLSearchParams();
      for (const [k, f] of Object.entries(fields)) {
        let v = f.control.value;
        if (k === 'since') v = isoFromLocal(v) || '';
        if (v) q.set(k, v);
      }
      go('#/deliveries' + (q.toString() ? '?' + q : ''));
    });
    m.append(form);

    const t = table('Deliveries', ['Occurred', 'Event type', 'Endpoint', 'Status', 'Attempts', 'HTTP status', 'Next retry'], 'deliveries');
    const count = h('p', { class: 'count muted', role: 'status' });
    const more = h('button', { type: 'button', class: 'load-more', hidden: true }, 'Load more');
    const empty = h('p', { class: 'empty', hidden: true }, 'No deliveries match these filters.');
    const tableBox = wrapTable(t);
    m.append(tableBox, empty, count, h('div', { class: 'actions' }, more));
    let shown = 0;
    let cursor = null;
    const load = async () => {
      // A page may be short, even empty, with more behind it: follow a few empty pages at once.
      for (let tries = 0; tries < 5; tries++) {
        const q = { ...filters, limit: PAGE_SIZE };
        if (cursor) q.cursor = cursor;
        let page;
        try {
          page = await api('GET', '/webhook-deliveries', { query: q });
        } catch (e) { showErrors(fields, box, e); return; }
        if (!live(gen)) return;
        for (const d of page.results) {
          const tr = t.row(h('a', { href: deliveryHref(d) }, when(d.occurred_at)),
            h('span', {}, d.event_type, d.test ? h('span', { class: 'muted' }, ' (test)') : null),
            d.source === 'legacy' ? h('span', { class: 'muted' }, 'Legacy URL') : h('span', { class: 'label-text' }, d.endpoint_label),
            badge(d.status), String(d.attempt_count),
            d.http_status == null ? (d.failure_category || '—') : String(d.http_status) + (d.failure_category ? ` (${d.failure_category})` : ''),
            when(d.next_retry_at, '—'));
          tr.dataset.eventId = d.event_id;
        }
        shown += page.results.length;
        cursor = page.has_more ? page.next_cursor : null;
        if (page.results.length || !cursor) break;
      }
      tableBox.hidden = shown === 0;
      empty.hidden = shown !== 0 || !!cursor;
      more.hidden = !cursor;
      count.textContent = shown ? `Showing ${plural(shown, 'delivery', 'deliveries')}${cursor ? '; more are older.' : '.'}` :
        (cursor ? 'Nothing matched in this stretch of the log: load more to look further back.' : '');
    };
    action(more, load);
    await load();
  }

  async function deliveryPage(gen, eventId, query) {
    const m = main();
    const endpointId = query.get('endpoint_id') || '';
    m.append(h('p', { class: 'crumb' }, h('a', { href: '#/deliveries' }, 'Deliveries')), pageHead('Delivery'), loading());
    if (!endpointId) {
      m.querySelector('.loading').remove();
      m.append(h('p', { class: 'alert error' }, 'This address names no endpoint: open the delivery from the log.'));
      return;
    }
    const body = h('div', {});
    const note = h('p', { role: 'status', class: 'note' });
    const box = errorBox();
    let polls = 0;
    const draw = async () => {
      const d = await api('GET', `/webhook-deliveries/${encodeURIComponent(eventId)}`, { query: { endpoint_id: endpointId } });
      if (!live(gen)) return null;
      m.querySelector('.loading')?.remove();
      m.querySelector('h1').textContent = d.event_type;
      document.title = `${d.event_type} delivery · Webhooks portal`;
      const facts = [
        ['Status', badge(d.status)],
        ['Endpoint', d.source === 'legacy' ? 'Legacy URL' : h('a', { href: '#/endpoints/' + encodeURIComponent(d.endpoint_id) }, d.endpoint_label)],
        ['URL', h('span', { class: 'url' }, d.url || '—')],
        ['Occurred', when(d.occurred_at)],
        ['Attempts', String(d.attempt_count)],
        ['Next retry', when(d.next_retry_at, '—')],
        ['Event id', h('code', {}, d.event_id)],
      ];
      if (d.test) facts.push(['Sent by', 'the test route']);
      const attempts = table('Attempts', ['Time', 'HTTP status', 'Failure category', 'Duration', 'Next retry'], 'attempts');
      (d.attempts || []).forEach((a, i, all) => attempts.row(when(a.at), a.http_status == null ? '—' : String(a.http_status),
        a.failure_category || '—', `${a.duration_ms} ms`, i === all.length - 1 ? when(d.next_retry_at, '—') : '—'));
      const payload = d.payload == null
        ? h('p', { class: 'muted' }, 'This delivery was logged before bodies were kept.')
        : h('pre', { class: 'payload', tabindex: '0', 'aria-label': 'Payload' }, h('code', {}, JSON.stringify(d.payload, null, 2)));
      body.replaceChildren(h('section', { class: 'panel' }, h('dl', { class: 'facts' }, facts.map(([k, v]) => h('div', { class: k === 'URL' ? 'wide' : null }, h('dt', {}, k), h('dd', {}, v))))),
        h('h2', {}, 'Attempts'), (d.attempts || []).length ? wrapTable(attempts) : h('p', { class: 'muted' }, 'No attempt yet.'),
        h('h2', {}, 'Payload'), payload);
      return d;
    };
    const resend = action(h('button', { type: 'button', class: 'primary' }, 'Resend'), async () => {
      note.textContent = '';
      box.hidden = true;
      try {
        const r = await api('POST', `/webhook-deliveries/${encodeURIComponent(eventId)}/resend`, { body: { endpoint_id: endpointId } });
        note.textContent = r.queued ? 'Queued: the same message (same webhook-id) is sent again now.' : 'It is still retrying: nothing new was queued.';
        polls = 10;
        poll();
      } catch (e) { showErrors({}, box, e); }
    });
    const refresh = action(h('button', { type: 'button' }, 'Refresh'), () => draw().catch((e) => showErrors({}, box, e)));
    // After a resend, look again a few times while it is in flight.
    const poll = () => setTimeout(async () => {
      if (!live(gen) || polls-- <= 0) return;
      try {
        const d = await draw();
        if (d && d.status === 'retrying') poll();
      } catch { /* the Refresh button is there */ }
    }, 1500);
    m.append(h('div', { class: 'actions' }, resend, refresh), box, note, body);
    await draw();
  }

  // ---- event types ---------------------------------------------------------------------------

  async function eventTypesPage(gen) {
    const m = main();
    m.append(pageHead('Event types'), h('p', {}, 'Every event an endpoint can subscribe to. An endpoint with no events chosen receives them all.'), loading());
    const types = await eventTypes();
    if (!live(gen)) return;
    m.querySelector('.loading').remove();
    const t = table('Event types', ['Type', 'Description', 'Blocking', 'Legacy name'], 'types');
    for (const e of types) {
      t.row(h('code', {}, e.type), e.description, e.blocking ? 'Yes: the receiver has 2 s, and its answer configures the call' : 'No', h('code', {}, e.legacy_name));
    }
    m.append(wrapTable(t));
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
