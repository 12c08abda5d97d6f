// The operator's page: a small hash-routed app over /api/v1. Everything a tool sent is untrusted, so the
// page builds DOM nodes and sets text only (no innerHTML), and the server's CSP allows no inline script.

const TOKEN_KEY = 'vulnsync.token';
const SCOPES = ['read', 'operate', 'admin'];
const SEVERITIES = ['Critical', 'High', 'Medium', 'Low', 'Info'];
const FINAL = new Set(['succeeded', 'failed', 'partial']);
const POLL_MS = 1500;

const view = document.getElementById('view');
const flashBox = document.getElementById('flash');
let me = null;
/** Bumped on every navigation, so a poll or a late answer of the previous page draws nothing. */
let generation = 0;

// ---------------------------------------------------------------- DOM

/** Builds an element; strings and numbers become text nodes, never markup. */
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on')) el.addEventListener(key.slice(2), value);
    else if (key === 'class') el.className = value;
    else if (key === 'dataset') Object.assign(el.dataset, value);
    else if (key in el && typeof value !== 'string') el[key] = value;
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

function show(...children) {
  view.replaceChildren();
  append(view, children);
}

function flash(message, kind = 'error') {
  flashBox.textContent = message;
  flashBox.className = `flash ${kind === 'info' ? 'info' : ''}`;
  flashBox.hidden = !message;
}

const badge = (kind, value) => h('span', { class: `badge ${kind}-${value}` }, value);
const when = (iso) => (iso ? new Date(iso).toLocaleString() : '—');
function duration(ms) {
  if (ms === null || ms === undefined) return '—';
  if (ms < 1000) return `${ms} ms`;
  const s = Math.round(ms / 100) / 10;
  return s < 60 ? `${s} s` : `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
}
/** Only http(s) links are followed; anything else is shown as text. */
function externalLink(href, text) {
  try {
    const url = new URL(href);
    if (url.protocol === 'http:' || url.protocol === 'https:') return h('a', { href: url.href, target: '_blank', rel: 'noopener noreferrer' }, text);
  } catch {
    // not a URL: shown as text below
  }
  return h('span', {}, text);
}

// ---------------------------------------------------------------- API

class ApiFailure extends Error {
  constructor(status, code, message, details) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

const token = () => sessionStorage.getItem(TOKEN_KEY);

async function api(method, path, body) {
  const headers = { authorization: `Bearer ${token()}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`/api/v1${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), cache: 'no-store' });
  const text = await res.text();
  const data = text ? JSON.parse(text) : undefined;
  if (res.status === 401 && token()) {
    signOut('Your session ended: the token is no longer valid.');
    throw new ApiFailure(401, 'UNAUTHORIZED', data?.error?.message ?? 'unauthorized');
  }
  if (!res.ok) {
    const error = data?.error ?? {};
    throw new ApiFailure(res.status, error.code ?? `HTTP_${res.status}`, error.message ?? res.statusText, error.details);
  }
  return data;
}

/** Every item of a list, following nextCursor (lists are small on this page: connectors, records, products). */
async function all(path) {
  const items = [];
  let cursor = null;
  do {
    const sep = path.includes('?') ? '&' : '?';
    const page = await api('GET', `${path}${sep}limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    items.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor);
  return items;
}

const describeError = (err) => (err instanceof ApiFailure ? `${err.code}: ${err.message}${issuesOf(err)}` : String(err?.message ?? err));
function issuesOf(err) {
  const issues = err.details?.issues;
  return Array.isArray(issues) && issues.length ? ` (${issues.map((i) => `${(i.path ?? []).join('.') || i.in}: ${i.message}`).join('; ')})` : '';
}

/** Runs an action from a button: disables it meanwhile, shows the error if any, then redraws the page. */
function act(button, work, { redraw = true } = {}) {
  return async () => {
    button.disabled = true;
    flash('');
    try {
      await work();
      if (redraw) await redrawPage();
    } catch (err) {
      if (!(err instanceof ApiFailure && err.status === 401)) flash(describeError(err));
    } finally {
      button.disabled = false;
    }
  };
}

/** Draws the current page again; a poll of the page drawn before stops. */
function redrawPage() {
  generation += 1;
  return route();
}

const may = (scope) => me && SCOPES.indexOf(me.scope) >= SCOPES.indexOf(scope);

// ---------------------------------------------------------------- session

function signOut(message) {
  sessionStorage.removeItem(TOKEN_KEY);
  me = null;
  drawHeader();
  location.hash = '#/signin';
  if (message) flash(message);
}

function drawHeader() {
  document.getElementById('nav').hidden = !me;
  document.getElementById('sign-out').hidden = !me;
  const who = document.getElementById('who');
  who.hidden = !me;
  who.textContent = me ? `${me.name} · ${me.scope}` : '';
}

function signInPage() {
  const input = h('input', { id: 'token', name: 'token', type: 'password', autocomplete: 'off', required: true, placeholder: 'vs_…' });
  const submit = h('button', { type: 'submit', class: 'primary' }, 'Sign in');
  const form = h(
    'form',
    { class: 'stack signin', 'aria-label': 'Sign in' },
    h('h1', {}, 'Sign in to vulnsync'),
    h('label', { for: 'token' }, 'API token', h('span', { class: 'hint' }, 'Kept in this browser tab only (session storage), never in a URL.'), input),
    submit,
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    submit.disabled = true;
    sessionStorage.setItem(TOKEN_KEY, input.value.trim());
    try {
      me = await api('GET', '/tokens/self');
      flash('');
      drawHeader();
      location.hash = '#/connectors';
    } catch (err) {
      sessionStorage.removeItem(TOKEN_KEY);
      flash(`Sign-in failed: ${err instanceof ApiFailure ? err.message : String(err)}`);
    } finally {
      submit.disabled = false;
    }
  });
  show(form);
  input.focus();
}

// ---------------------------------------------------------------- connectors

async function connectorsPage() {
  const connectors = await all('/connectors');
  const rows = connectors.map((c) => {
    const [check, checked] = checkButton(c, { class: 'check-result' }, 'ok');
    return h(
      'tr',
      { dataset: { connector: c.label } },
      h('td', {}, h('a', { href: `#/connectors/${c.id}` }, c.label)),
      h('td', {}, c.tool),
      h('td', {}, c.location),
      h('td', {}, c.enabled ? 'enabled' : 'disabled'),
      h('td', {}, `${pad(c.schedule.hour)}:${pad(c.schedule.minute)} ${c.schedule.timezone}`),
      h('td', {}, c.minSeverity),
      h('td', {}, c.autoMap ? 'yes' : 'no'),
      h(
        'td',
        { class: 'actions' },
        h('a', { class: 'button', href: `#/connectors/${c.id}` }, 'Records & Operations'),
        may('admin') && h('a', { class: 'button', href: `#/connectors/${c.id}/edit` }, 'Edit'),
        may('operate') && check,
        checked,
      ),
    );
  });
  show(
    h('h1', {}, 'Connectors', ' ', may('admin') && h('a', { class: 'button primary', href: '#/connectors/new' }, 'Add connector')),
    connectors.length === 0
      ? h('p', { class: 'muted' }, 'No connectors yet.')
      : h(
          'table',
          { id: 'connectors' },
          h('thead', {}, h('tr', {}, ['Label', 'Tool', 'Location', 'Enabled', 'Daily sync', 'Min severity', 'Auto-map', ''].map((t) => h('th', {}, t)))),
          h('tbody', {}, rows),
        ),
  );
}

const pad = (n) => String(n).padStart(2, '0');

/**
 * One input per property of the tool's settings JSON Schema (string, number, boolean, enum, array of
 * strings or of options), each with its required mark and description; `read()` gives the value to send.
 */
function settingsFields(schema, values) {
  const required = new Set(schema?.required ?? []);
  return Object.entries(schema?.properties ?? {}).map(([name, prop]) => {
    const id = `setting-${name}`;
    const value = values?.[name] ?? prop.default;
    const title = h('span', { class: required.has(name) ? 'required' : '' }, name);
    const hint = prop.description ? h('span', { class: 'hint' }, prop.description) : null;
    let field;
    let read;
    if (prop.type === 'boolean') {
      const box = h('input', { id, type: 'checkbox', checked: value === true });
      field = h('label', { class: 'check', for: id }, box, title, hint);
      read = () => box.checked;
    } else if (prop.type === 'array' && Array.isArray(prop.items?.enum)) {
      const boxes = prop.items.enum.map((option) => h('input', { type: 'checkbox', value: option, checked: Array.isArray(value) && value.includes(option) }));
      field = h('fieldset', { id }, h('legend', {}, title), hint, boxes.map((box) => h('label', { class: 'check' }, box, box.value)));
      read = () => boxes.filter((box) => box.checked).map((box) => box.value);
    } else {
      let input;
      if (prop.type === 'array') {
        input = h('textarea', { id, rows: 3, placeholder: 'one per line' });
        input.value = Array.isArray(value) ? value.join('\n') : '';
        read = () => input.value.split('\n').map((line) => line.trim()).filter(Boolean);
      } else if (Array.isArray(prop.enum)) {
        input = h('select', { id }, required.has(name) ? null : h('option', { value: '' }, '—'), prop.enum.map((option) => h('option', { value: option, selected: option === value }, option)));
        read = () => input.value || undefined;
      } else if (prop.type === 'number' || prop.type === 'integer') {
        input = h('input', { id, type: 'number', step: prop.type === 'integer' ? '1' : 'any', value: value === undefined ? '' : String(value) });
        read = () => (input.value === '' ? undefined : Number(input.value));
      } else {
        input = h('input', { id, type: 'text', value: value === undefined ? '' : String(value), required: required.has(name) });
        read = () => (input.value.trim() === '' ? undefined : input.value.trim());
      }
      field = h('label', { for: id }, title, hint, input);
    }
    return { name, field, read };
  });
}

function readSettings(fields) {
  const settings = {};
  for (const { name, read } of fields) {
    const value = read();
    if (value !== undefined) settings[name] = value;
  }
  return settings;
}

async function connectorFormPage(id) {
  const tools = (await api('GET', '/tools')).items;
  const existing = id ? await api('GET', `/connectors/${id}`) : null;
  const toolSelect = h(
    'select',
    { id: 'tool', disabled: Boolean(existing) },
    tools.map((t) => h('option', { value: t.tool, selected: existing?.tool === t.tool }, t.displayName)),
  );
  const toolOf = () => tools.find((t) => t.tool === toolSelect.value);
  const settingsBox = h('fieldset', { id: 'settings' });
  const locationHint = h('span', { class: 'hint' });
  const secretHint = h('span', { class: 'hint' });
  const locationInput = h('input', { id: 'location', type: 'url', required: true, value: existing?.location ?? '' });
  let settingFields = [];
  const drawTool = () => {
    const tool = toolOf();
    settingFields = settingsFields(tool.settingsSchema, existing?.tool === tool.tool ? existing.settings : undefined);
    settingsBox.replaceChildren(h('legend', {}, `${tool.displayName} settings`));
    append(settingsBox, [settingFields.length ? settingFields.map((f) => f.field) : h('span', { class: 'hint' }, 'This tool has no settings.')]);
    locationHint.textContent = tool.locationDescription;
    secretHint.textContent = existing ? `${tool.secretDescription.replace(/\.?$/, '.')} Leave empty to keep the stored one (it is never shown).` : tool.secretDescription;
    locationInput.placeholder = tool.defaultLocation ?? 'https://…';
    if (!existing && !locationInput.value && tool.defaultLocation) locationInput.value = tool.defaultLocation;
  };
  toolSelect.addEventListener('change', drawTool);

  const label = h('input', { id: 'label', type: 'text', required: true, value: existing?.label ?? '' });
  const secret = h('input', { id: 'secret', type: 'password', autocomplete: 'new-password', required: !existing });
  const minSeverity = h('select', { id: 'minSeverity' }, SEVERITIES.slice().reverse().map((s) => h('option', { value: s, selected: (existing?.minSeverity ?? 'Info') === s }, s)));
  const autoMap = h('input', { id: 'autoMap', type: 'checkbox', checked: existing?.autoMap ?? false });
  const enabled = h('input', { id: 'enabled', type: 'checkbox', checked: existing?.enabled ?? true });
  const hour = h('input', { id: 'hour', type: 'number', min: 0, max: 23, required: true, value: existing?.schedule.hour ?? 3 });
  const minute = h('input', { id: 'minute', type: 'number', min: 0, max: 59, required: true, value: existing?.schedule.minute ?? 0 });
  const timezone = h('input', { id: 'timezone', type: 'text', required: true, value: existing?.schedule.timezone ?? Intl.DateTimeFormat().resolvedOptions().timeZone ?? 'UTC' });
  const save = h('button', { type: 'submit', class: 'primary' }, existing ? 'Save' : 'Create connector');

  const form = h(
    'form',
    { class: 'stack', id: 'connector-form', 'aria-label': 'Connector' },
    h('label', { for: 'tool' }, h('span', { class: 'required' }, 'Tool'), toolSelect),
    h('label', { for: 'label' }, h('span', { class: 'required' }, 'Label'), label),
    h('label', { for: 'location' }, h('span', { class: 'required' }, 'Location'), locationHint, locationInput),
    h('label', { for: 'secret' }, h('span', { class: existing ? '' : 'required' }, 'Secret'), secretHint, secret),
    settingsBox,
    h('label', { for: 'minSeverity' }, 'Minimum severity', h('span', { class: 'hint' }, 'Findings below it are not kept (existing ones close).'), minSeverity),
    h('label', { class: 'check', for: 'autoMap' }, autoMap, 'Auto-map', h('span', { class: 'hint' }, 'map each new record to a product of its name')),
    h('label', { class: 'check', for: 'enabled' }, enabled, 'Enabled'),
    h(
      'fieldset',
      {},
      h('legend', {}, 'Daily sync'),
      h('div', { class: 'row' }, h('label', { for: 'hour' }, 'Hour', hour), h('label', { for: 'minute' }, 'Minute', minute), h('label', { for: 'timezone' }, 'Time zone', timezone)),
    ),
    h('div', { class: 'row' }, save, h('a', { class: 'button', href: existing ? `#/connectors/${existing.id}` : '#/connectors' }, existing ? 'Records & Operations' : 'Cancel')),
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const body = {
      label: label.value.trim(),
      location: locationInput.value.trim(),
      settings: readSettings(settingFields),
      minSeverity: minSeverity.value,
      autoMap: autoMap.checked,
      enabled: enabled.checked,
      schedule: { hour: Number(hour.value), minute: Number(minute.value), timezone: timezone.value.trim() },
    };
    if (secret.value) body.secret = secret.value;
    save.disabled = true;
    flash('');
    try {
      const saved = existing ? await api('PATCH', `/connectors/${existing.id}`, body) : await api('POST', '/connectors', { tool: toolSelect.value, ...body });
      secret.value = '';
      if (existing) {
        await redrawPage();
        flash('Connector saved.', 'info');
      } else {
        location.hash = `#/connectors/${saved.id}`;
      }
    } catch (err) {
      flash(describeError(err));
    } finally {
      save.disabled = false;
    }
  });
  drawTool();

  show(
    h('h1', {}, existing ? `Edit connector “${existing.label}”` : 'Add a connector'),
    form,
    existing && checkPanel(existing),
    existing && (await schedulePanel(existing)),
  );
}

/** A Check button and where its answer goes: ok, or the error code and message the tool's answer gave. */
function checkButton(connector, resultAttrs, okText) {
  const result = h('span', resultAttrs);
  const button = h('button', { type: 'button' }, 'Check');
  button.addEventListener('click', async () => {
    button.disabled = true;
    result.replaceChildren('checking…');
    try {
      await api('POST', `/connectors/${connector.id}/check`);
      result.replaceChildren(h('span', { class: 'ok' }, okText));
    } catch (err) {
      result.replaceChildren(h('span', { class: 'error' }, describeError(err)));
    } finally {
      button.disabled = false;
    }
  });
  return [button, result];
}

function checkPanel(connector) {
  const [button, result] = checkButton(connector, { id: 'check-result' }, 'ok: the tool answered and accepted the credentials');
  return h('div', { class: 'panel' }, h('h2', {}, 'Check'), may('operate') ? h('div', { class: 'row' }, button, result) : h('p', { class: 'muted' }, 'Checking needs an operate token.'));
}

async function schedulePanel(connector) {
  let schedule;
  try {
    schedule = await api('GET', `/connectors/${connector.id}/schedule`);
  } catch (err) {
    return h('div', { class: 'panel' }, h('h2', {}, 'Schedule'), h('p', { class: 'error' }, describeError(err)));
  }
  const toggle = h('button', { type: 'button' }, schedule.paused ? 'Resume schedule' : 'Pause schedule');
  toggle.addEventListener('click', act(toggle, () => api('POST', `/connectors/${connector.id}/schedule/${schedule.paused ? 'unpause' : 'pause'}`, {})));
  return h(
    'div',
    { class: 'panel', id: 'schedule' },
    h('h2', {}, 'Schedule', badge('status', schedule.paused ? 'paused' : 'active')),
    h('p', {}, `Daily at ${pad(schedule.hour)}:${pad(schedule.minute)} ${schedule.timezone}`, schedule.jitter ? ` (jitter ${schedule.jitter})` : '', `, overlap ${schedule.overlap}.`),
    schedule.note && h('p', { class: 'muted' }, schedule.note),
    h('p', {}, 'Next runs:'),
    h('ul', { id: 'next-runs' }, schedule.nextRuns.length ? schedule.nextRuns.map((t) => h('li', {}, when(t))) : h('li', { class: 'muted' }, 'none while paused')),
    h('div', { class: 'row' }, may('admin') && toggle, externalLink(schedule.temporalUrl, 'Schedule in the Temporal UI')),
  );
}

// ---------------------------------------------------------------- records & operations

const MAPPED_STATES = new Set(['good', 'stale', 'missing']);

async function recordsPage(connectorId) {
  const mine = generation;
  const [connector, records, products, operations] = await Promise.all([
    api('GET', `/connectors/${connectorId}`),
    all(`/records?connectorId=${connectorId}`),
    all('/products'),
    api('GET', `/operations?connectorId=${connectorId}&limit=25`),
  ]);
  const recordNames = new Map(records.map((r) => [r.id, r.name]));
  const mapped = records.filter((r) => MAPPED_STATES.has(r.state));
  const unmapped = records.filter((r) => !MAPPED_STATES.has(r.state));

  const syncAll = h('button', { type: 'button', class: 'primary', id: 'sync' }, 'Sync');
  syncAll.addEventListener('click', act(syncAll, () => api('POST', `/connectors/${connectorId}/sync`)));
  const discover = h('button', { type: 'button', class: 'primary', id: 'discover' }, 'Discover');
  discover.addEventListener('click', act(discover, () => api('POST', `/connectors/${connectorId}/discover`)));

  const datalist = h('datalist', { id: 'product-names' }, products.map((p) => h('option', { value: p.name })));
  const recordTable = (list, id) =>
    list.length === 0
      ? h('p', { class: 'muted', id }, 'None.')
      : h(
          'table',
          { id },
          h('thead', {}, h('tr', {}, ['Record', 'External id', 'State', 'Product', 'Last sync', ''].map((t) => h('th', {}, t)))),
          h('tbody', {}, list.map((r) => recordRow(r, products))),
        );

  show(
    h('h1', {}, `${connector.label}`, h('span', { class: 'muted' }, ` · ${connector.tool} · Manage Records & Operations`)),
    h('p', {}, h('a', { href: '#/connectors' }, '← Connectors'), ' ', may('admin') && h('a', { href: `#/connectors/${connectorId}/edit` }, 'Edit connector')),
    datalist,
    h('h2', {}, `Mapped records (${mapped.length})`, may('operate') && syncAll),
    recordTable(mapped, 'mapped-records'),
    h('h2', {}, `Unmapped records (${unmapped.length})`, may('operate') && discover),
    recordTable(unmapped, 'unmapped-records'),
    h('h2', {}, 'Operations'),
    operationsTable(operations.items, recordNames),
  );

  // Live status: poll while a run is pending or running, and redraw once it ends.
  if (operations.items.some((op) => !FINAL.has(op.status))) {
    setTimeout(() => {
      if (mine === generation) route().catch((err) => flash(describeError(err)));
    }, POLL_MS);
  }
}

function recordRow(record, products) {
  const actions = [];
  if (may('operate')) {
    if (record.state !== 'ignored') {
      const input = h('input', { type: 'text', list: 'product-names', placeholder: 'product name', 'aria-label': `Product for ${record.name}`, value: record.productName ?? record.name });
      const map = h('button', { type: 'submit' }, 'Map');
      const form = h('form', { class: 'map-form' }, input, map);
      form.addEventListener('submit', (event) => {
        event.preventDefault();
        const name = input.value.trim();
        const existing = products.find((p) => p.name === name);
        return act(map, () => api('POST', `/records/${record.id}/map`, existing ? { productId: existing.id } : { productName: name }))();
      });
      actions.push(form);
    }
    const button = (text, work, cls) => {
      const b = h('button', { type: 'button', class: cls }, text);
      b.addEventListener('click', act(b, work));
      return b;
    };
    if (record.state === 'good') actions.push(button('Sync', () => api('POST', `/records/${record.id}/sync`)));
    if (MAPPED_STATES.has(record.state)) actions.push(button('Unmap', () => api('POST', `/records/${record.id}/unmap`)));
    if (record.state === 'ignored') actions.push(button('Restore', () => api('POST', `/records/${record.id}/restore`)));
    else actions.push(button('Ignore', () => api('POST', `/records/${record.id}/ignore`)));
    actions.push(button('Delete', () => api('DELETE', `/records/${record.id}`), 'danger'));
  }
  return h(
    'tr',
    { dataset: { record: record.name } },
    h('td', {}, record.name),
    h('td', { class: 'muted' }, record.externalId),
    h('td', {}, badge('state', record.state)),
    h('td', {}, record.productId ? h('a', { href: `#/findings?productId=${record.productId}` }, record.productName) : '—'),
    h('td', {}, record.lastSyncAt ? [when(record.lastSyncAt), ' ', record.lastSyncStatus && badge('status', record.lastSyncStatus)] : '—'),
    h('td', { class: 'actions' }, actions),
  );
}

function countsOf(op) {
  const s = op.summary ?? {};
  const keys =
    op.type === 'discover'
      ? ['discovered', 'created', 'mapped', 'missing']
      : ['records', 'recordsFailed', 'recordsSkipped', 'fetched', 'created', 'closed', 'reactivated', 'updated', 'untouched'];
  return keys.filter((k) => typeof s[k] === 'number' && (s[k] !== 0 || ['created', 'records', 'discovered'].includes(k))).map((k) => `${k} ${s[k]}`).join(', ');
}

function operationsTable(operations, recordNames) {
  if (operations.length === 0) return h('p', { class: 'muted', id: 'operations' }, 'No runs yet.');
  return h(
    'table',
    { id: 'operations' },
    h('thead', {}, h('tr', {}, ['Type', 'Status', 'Trigger', 'Record', 'Start', 'End', 'Duration', 'Counts', 'Error', 'Run'].map((t) => h('th', {}, t)))),
    h(
      'tbody',
      {},
      operations.map((op) =>
        h(
          'tr',
          { dataset: { operation: op.id, status: op.status, type: op.type } },
          h('td', {}, op.type),
          h('td', {}, badge('status', op.status)),
          h('td', {}, op.trigger),
          h('td', {}, op.recordId ? (recordNames.get(op.recordId) ?? op.recordId) : 'all'),
          h('td', {}, when(op.startedAt ?? op.createdAt)),
          h('td', {}, when(op.endedAt)),
          h('td', {}, duration(op.durationMs)),
          h('td', { class: 'counts' }, countsOf(op)),
          h(
            'td',
            { class: 'error' },
            op.error && `${op.error.type}: ${op.error.message}`,
            op.error?.records?.length > 0 &&
              h('ul', {}, op.error.records.map((r) => h('li', {}, `${recordNames.get(r.recordId) ?? r.recordId}: ${r.type}: ${r.message}`))),
          ),
          h('td', {}, externalLink(op.temporalUrl, 'Temporal')),
        ),
      ),
    ),
  );
}

// ---------------------------------------------------------------- findings

const FLAG_FILTERS = [
  ['active', 'Active'],
  ['falsePositive', 'False positive'],
  ['riskAccepted', 'Risk accepted'],
];

async function findingsPage(params) {
  const [products, tests] = await Promise.all([all('/products'), params.get('productId') ? all(`/tests?productId=${encodeURIComponent(params.get('productId'))}`) : []]);
  const navigate = (changes) => {
    const next = new URLSearchParams(params);
    for (const [k, v] of Object.entries(changes)) {
      if (v === '' || v === undefined) next.delete(k);
      else next.set(k, v);
    }
    location.hash = `#/findings?${next}`;
  };
  const select = (name, label, options) => {
    const el = h(
      'select',
      { id: `filter-${name}`, name },
      h('option', { value: '' }, 'any'),
      options.map(([value, text]) => h('option', { value, selected: params.get(name) === value }, text)),
    );
    el.addEventListener('change', () => navigate(name === 'productId' ? { productId: el.value, testId: '' } : { [name]: el.value }));
    return h('label', { for: `filter-${name}` }, label, el);
  };
  const filters = h(
    'div',
    { class: 'filters' },
    select('productId', 'Product', products.map((p) => [p.id, p.name])),
    select('testId', 'Test', tests.map((t) => [t.id, t.title])),
    select('severity', 'Severity', SEVERITIES.map((s) => [s, s])),
    FLAG_FILTERS.map(([name, text]) => select(name, text, [['true', 'yes'], ['false', 'no']])),
  );

  const query = new URLSearchParams();
  for (const name of ['productId', 'testId', 'severity', ...FLAG_FILTERS.map(([n]) => n)]) if (params.get(name)) query.set(name, params.get(name));
  query.set('limit', '100');
  const body = h('tbody');
  const more = h('button', { type: 'button', hidden: true }, 'Load more');
  const total = h('span', { class: 'muted' });
  let cursor = null;
  let shown = 0;
  const load = async () => {
    const page = await api('GET', `/findings?${query}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    append(body, page.items.map(findingRow));
    shown += page.items.length;
    cursor = page.nextCursor;
    more.hidden = !cursor;
    total.textContent = `${shown}${cursor ? '+' : ''} finding(s)`;
  };
  more.addEventListener('click', act(more, load, { redraw: false }));
  await load();
  show(
    h('h1', {}, 'Findings'),
    filters,
    h('p', {}, total),
    h(
      'table',
      { id: 'findings' },
      h('thead', {}, h('tr', {}, ['#', 'Severity', 'Title', 'Component', 'Vulnerability ids', 'Status', 'Last seen'].map((t) => h('th', {}, t)))),
      body,
    ),
    more,
  );
}

function statusText(f) {
  const flags = [f.active ? 'active' : 'inactive', f.isMitigated && 'mitigated', f.falsePositive && 'false positive', f.riskAccepted && 'risk accepted', f.outOfScope && 'out of scope'];
  return flags.filter(Boolean).join(', ');
}

function findingRow(f) {
  return h(
    'tr',
    { dataset: { finding: String(f.id) } },
    h('td', {}, h('a', { href: `#/findings/${f.id}` }, String(f.id))),
    h('td', {}, h('span', { class: `sev-${f.severity}` }, f.severity)),
    h('td', {}, h('a', { href: `#/findings/${f.id}` }, f.title)),
    h('td', {}, [f.componentName, f.componentVersion].filter(Boolean).join(' ') || f.filePath || '—'),
    h('td', {}, (f.vulnerabilityIds ?? []).join(', ')),
    h('td', { class: 'finding-status' }, statusText(f)),
    h('td', {}, when(f.lastSeenAt)),
  );
}

const DETAIL_FIELDS = [
  ['title', 'Title'],
  ['severity', 'Severity'],
  ['description', 'Description'],
  ['mitigation', 'Mitigation'],
  ['references', 'References'],
  ['vulnerabilityIds', 'Vulnerability ids'],
  ['cwes', 'CWE'],
  ['cvssScore', 'CVSS score'],
  ['cvssVector', 'CVSS vector'],
  ['componentName', 'Component'],
  ['componentVersion', 'Version'],
  ['filePath', 'File'],
  ['line', 'Line'],
  ['endpoint', 'Endpoint'],
  ['uniqueIdFromTool', 'Id in the tool'],
  ['firstSeenAt', 'First seen'],
  ['lastSeenAt', 'Last seen'],
  ['mitigatedAt', 'Mitigated at'],
];

async function findingPage(id) {
  const [finding, history] = await Promise.all([api('GET', `/findings/${id}`), all(`/findings/${id}/history`)]);
  const dl = h(
    'dl',
    { class: 'fields' },
    DETAIL_FIELDS.filter(([k]) => finding[k] !== null && finding[k] !== undefined).map(([k, label]) => [
      h('dt', {}, label),
      h('dd', {}, Array.isArray(finding[k]) ? finding[k].join(', ') : k.endsWith('At') ? when(finding[k]) : String(finding[k])),
    ]),
    h('dt', {}, 'Status'),
    h('dd', { id: 'finding-status' }, statusText(finding), finding.triagedByPerson ? ' (triaged by a person: syncs leave it alone)' : ''),
  );

  const flags = [
    ['falsePositive', 'False positive'],
    ['riskAccepted', 'Risk accepted'],
    ['outOfScope', 'Out of scope'],
  ].map(([key, text]) => ({ key, box: h('input', { type: 'checkbox', id: `triage-${key}`, checked: finding[key] }), text }));
  const save = h('button', { type: 'submit', class: 'primary' }, 'Save triage');
  const triage = h(
    'form',
    { class: 'stack', id: 'triage', 'aria-label': 'Triage' },
    h('h2', {}, 'Triage'),
    flags.map(({ key, box, text }) => h('label', { class: 'check', for: `triage-${key}` }, box, text)),
    h('div', {}, save),
  );
  triage.addEventListener('submit', (event) => {
    event.preventDefault();
    return act(save, async () => {
      await api('PATCH', `/findings/${id}`, Object.fromEntries(flags.map(({ key, box }) => [key, box.checked])));
      flash('Triage saved.', 'info');
    })();
  });

  show(
    h('h1', {}, `Finding #${finding.id}`),
    h('p', {}, h('a', { href: `#/findings?testId=${finding.testId}` }, '← Findings of this test')),
    dl,
    may('operate') ? triage : null,
    h('h2', {}, 'History'),
    history.length === 0
      ? h('p', { class: 'muted' }, 'Nothing has happened to it yet.')
      : h(
          'table',
          { id: 'history' },
          h('thead', {}, h('tr', {}, ['When', 'Action', 'By', 'Changes', 'Import'].map((t) => h('th', {}, t)))),
          h(
            'tbody',
            {},
            history.map((a) =>
              h(
                'tr',
                { dataset: { action: a.action } },
                h('td', {}, when(a.createdAt)),
                h('td', {}, a.action),
                h('td', {}, a.actor ? a.actor.name : 'sync'),
                h('td', {}, Object.entries(a.changes ?? {}).map(([field, c]) => `${field}: ${JSON.stringify(c.from)} → ${JSON.stringify(c.to)}`).join(', ')),
                h('td', { class: 'muted' }, a.importId ?? '—'),
              ),
            ),
          ),
        ),
  );
}

// ---------------------------------------------------------------- routing

const UUID = '[0-9a-fA-F-]{36}';
const ROUTES = [
  [new RegExp('^/connectors$'), () => connectorsPage()],
  [new RegExp('^/connectors/new$'), () => (may('admin') ? connectorFormPage(null) : connectorsPage())],
  [new RegExp(`^/connectors/(${UUID})/edit$`), (m) => (may('admin') ? connectorFormPage(m[1]) : recordsPage(m[1]))],
  [new RegExp(`^/connectors/(${UUID})$`), (m) => recordsPage(m[1])],
  [new RegExp('^/findings$'), (_m, params) => findingsPage(params)],
  [new RegExp('^/findings/(\\d{1,19})$'), (m) => findingPage(m[1])],
];

async function route() {
  const hash = location.hash.replace(/^#/, '') || '/connectors';
  const [path, search = ''] = hash.split('?');
  if (!token()) {
    if (path !== '/signin') location.hash = '#/signin';
    else signInPage();
    return;
  }
  if (!me) {
    me = await api('GET', '/tokens/self');
    drawHeader();
  }
  if (path === '/signin') {
    location.hash = '#/connectors';
    return;
  }
  for (const [pattern, page] of ROUTES) {
    const match = pattern.exec(path);
    if (match) {
      await page(match, new URLSearchParams(search));
      return;
    }
  }
  show(h('h1', {}, 'Not found'), h('p', {}, h('a', { href: '#/connectors' }, 'Connectors')));
}

function navigate() {
  generation += 1;
  route().catch((err) => {
    if (!(err instanceof ApiFailure && err.status === 401)) flash(describeError(err));
  });
}

document.getElementById('sign-out').addEventListener('click', () => signOut());
window.addEventListener('hashchange', () => {
  flash('');
  navigate();
});
navigate();
