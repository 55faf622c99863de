// The live incident queue: priority then age, deadline countdowns, filters, unseen marks.

import { urgency } from '../deadline.js';
import { CATEGORIES, CHANNELS, PRIORITIES, STATES, label, t } from '../i18n.js';
import { OpsPanel, registerPanel } from '../registry.js';
import { clock, coalesce, h, shortId } from '../util.js';

const WALL_ROWS = 14;

class QueuePanel extends OpsPanel {
  setup() {
    const { store, bus } = this.ctx;
    this.rows = new Map();
    this.order = [];
    this.selected = null;
    // A wall tile may pin a priority ("queue:P1"); the console uses the store's filter.
    this.filter = this.arg && PRIORITIES.includes(this.arg)
      ? { ...store.filter, priorities: [this.arg] } : null;
    this.list = h('ol', { class: 'queue-list', tabindex: '0', 'aria-label': t('queue') });
    this.topPad = h('li', { class: 'pad', 'aria-hidden': 'true' });
    this.bottomPad = h('li', { class: 'pad', 'aria-hidden': 'true' });
    this.items = [];
    const onScroll = coalesce(() => this.update(null));
    this.list.addEventListener('scroll', onScroll);
    this.count = h('span', { class: 'count' });
    this.controls = this.ctx.wall ? h('div') : h('div', { class: 'filters' });
    this.replaceChildren(h('div', { class: 'panel-head' }, h('h2', { class: 'panel-title' }), this.count),
      this.controls, this.list);
    this.listen(store, 'change', (event) => this.update(event.detail.ids));
    this.listen(bus, 'select', (event) => this.mark(event.detail));
    this.list.addEventListener('keydown', (event) => this.key(event));
    const timer = setInterval(() => this.tick(), 1000);
    this.cleanup(() => clearInterval(timer));
  }

  get activeFilter() { return this.filter || this.ctx.store.filter; }

  render() {
    this.querySelector('.panel-title').textContent = t('queue');
    if (!this.ctx.wall) this.renderFilters();
    for (const row of this.rows.values()) row.dataset.v = '';
    this.update(null);
  }

  renderFilters() {
    const f = this.ctx.store.filter;
    const select = (name, values, current, allLabel) => {
      const el = h('select', { name, 'aria-label': t(`filter${name[0].toUpperCase()}${name.slice(1)}`) },
        h('option', { value: '' }, allLabel),
        values.map((v) => h('option', { value: v, selected: current === v }, name === 'priority' ? v : label(v))));
      el.addEventListener('change', () => this.applyFilters());
      return el;
    };
    this.controls.replaceChildren(
      select('state', STATES, f.states.length === 1 ? f.states[0] : '', `${t('filterState')}: ${t('open')}`),
      select('category', CATEGORIES, f.categories[0] || '', `${t('filterCategory')}: ${t('all')}`),
      select('priority', PRIORITIES, f.priorities[0] || '', `${t('filterPriority')}: ${t('all')}`),
      select('channel', CHANNELS, f.channels[0] || '', `${t('filterChannel')}: ${t('all')}`));
  }

  async applyFilters() {
    const value = (name) => this.controls.querySelector(`[name=${name}]`).value;
    const one = (v) => (v ? [v] : []);
    const filter = { states: one(value('state')), categories: one(value('category')),
      priorities: one(value('priority')), channels: one(value('channel')) };
    if (!filter.states.length) filter.states = ['REPORTED', 'ACKNOWLEDGED', 'DISPATCHED'];
    this.ctx.store.filter = filter;
    this.update(null);
    await this.ctx.store.load(filter);
  }

  update(changed) {
    if (!this.visible) { this._dirty = true; return; }
    const { store } = this.ctx;
    let incidents = store.ordered(this.activeFilter);
    this.count.textContent = String(incidents.length);
    if (this.ctx.wall) incidents = incidents.slice(0, WALL_ROWS);
    this.items = incidents.map((i) => i.id);
    // Only the rows in view (and a margin) are in the DOM: 500 open incidents stay as cheap as 20.
    const rowH = this.rowHeight || 44;
    const first = Math.max(0, Math.floor(this.list.scrollTop / rowH) - 5);
    const last = Math.min(incidents.length, first + Math.ceil((this.list.clientHeight || 900) / rowH) + 10);
    const shown = incidents.slice(first, last);
    const ids = shown.map((i) => i.id);
    const keep = new Set(ids);
    for (const [id, row] of this.rows) if (!keep.has(id)) { row.remove(); this.rows.delete(id); }
    const now = Date.now();
    for (const incident of shown) {
      let row = this.rows.get(incident.id);
      if (!row) {
        row = h('li', { class: 'queue-row', 'data-id': incident.id, onclick: () => this.select(incident.id) });
        this.rows.set(incident.id, row);
      }
      if (row.dataset.v !== String(incident._v) || (changed && changed.has(incident.id))) this.fill(row, incident, now);
      row.classList.toggle('unseen', store.unseen.has(incident.id));
    }
    this.topPad.style.height = `${first * rowH}px`;
    this.bottomPad.style.height = `${(incidents.length - last) * rowH}px`;
    // Re-order the DOM only when the order in view changed (cheap in the usual case of in-place updates).
    if (ids.length !== this.order.length || ids.some((id, i) => id !== this.order[i])) {
      this.list.replaceChildren(this.topPad, ...ids.map((id) => this.rows.get(id)), this.bottomPad);
      this.order = ids;
    }
    if (!ids.length) {
      this.list.replaceChildren(h('li', { class: 'empty' }, t('empty')));
      this.order = [];
    } else if (!this.rowHeight) {
      this.rowHeight = this.rows.get(ids[0]).getBoundingClientRect().height || 44;
    }
  }

  fill(row, incident, now) {
    row.dataset.v = String(incident._v);
    row.dataset.state = incident.state;
    row.dataset.priority = incident.priority;
    row.classList.toggle('selected', incident.id === this.selected);
    const place = incident.address || incident.description || '';
    row.replaceChildren(
      h('span', { class: `prio prio-${incident.priority}` }, incident.priority),
      h('span', { class: 'what' },
        h('span', { class: 'cat' }, label(incident.category)),
        h('span', { class: 'place' }, place)),
      h('span', { class: `state state-${incident.state}` }, label(incident.state)),
      h('span', { class: 'meta' }, `#${shortId(incident.id)} · ${label(incident.channel)}`,
        incident.reportCount > 1 ? ` · ${incident.reportCount} ${t('reports')}` : ''),
      h('span', { class: 'due' }));
    this.tickRow(row, incident, now);
  }

  tickRow(row, incident, now) {
    const due = row.lastChild;
    const u = urgency(incident, now);
    if (!u) { due.textContent = ''; due.dataset.level = 'none'; return; }
    due.dataset.level = u.level;
    due.textContent = `${label(u.stage)} ${u.remaining < 0 ? '+' : ''}${clock(Math.abs(u.remaining))}`;
  }

  tick() {
    if (!this.visible) return;
    const now = Date.now();
    for (const [id, row] of this.rows) {
      const incident = this.ctx.store.incidents.get(id);
      if (incident) this.tickRow(row, incident, now);
    }
  }

  select(id) {
    this.ctx.store.markSeen(id);
    this.ctx.bus.dispatchEvent(new CustomEvent('select', { detail: id }));
  }

  mark(id) {
    this.selected = id;
    for (const [rowId, row] of this.rows) row.classList.toggle('selected', rowId === id);
  }

  key(event) {
    if (!['ArrowDown', 'ArrowUp', 'Enter'].includes(event.key) || !this.items.length) return;
    event.preventDefault();
    if (event.key === 'Enter' && this.selected) return this.select(this.selected);
    const i = this.items.indexOf(this.selected);
    const next = event.key === 'ArrowUp' ? Math.max(0, i - 1) : Math.min(this.items.length - 1, i + 1);
    this.select(this.items[next]);
    const rowH = this.rowHeight || 44;
    const top = next * rowH;
    if (top < this.list.scrollTop) this.list.scrollTop = top;
    else if (top + rowH > this.list.scrollTop + this.list.clientHeight) this.list.scrollTop = top + rowH - this.list.clientHeight;
    return undefined;
  }
}

registerPanel({ id: 'queue', tag: 'ops-queue', element: QueuePanel, titleKey: 'queue' });
