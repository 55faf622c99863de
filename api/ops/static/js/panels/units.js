// Responder units and their readiness.

import { label, t } from '../i18n.js';
import { OpsPanel, registerPanel } from '../registry.js';
import { h } from '../util.js';

const ORDER = { AVAILABLE: 0, BUSY: 1, OUT_OF_SERVICE: 2 };

class UnitsPanel extends OpsPanel {
  setup() {
    this.listen(this.ctx.store, 'change', (event) => { if (event.detail.units) this.refresh(); });
    const timer = setInterval(() => this.ctx.store.loadUnits().catch(() => null), 30_000);
    this.cleanup(() => clearInterval(timer));
  }

  render() {
    const units = [...this.ctx.store.units.values()]
      .sort((a, b) => ORDER[a.readiness] - ORDER[b.readiness] || a.code.localeCompare(b.code));
    const count = (r) => units.filter((u) => u.readiness === r).length;
    this.replaceChildren(h('div', { class: 'panel-head' }, h('h2', { class: 'panel-title' }, t('units')),
      h('span', { class: 'count' }, `${t('available')} ${count('AVAILABLE')} · ${t('busy')} ${count('BUSY')}`)),
    h('ul', { class: 'unit-list' }, units.map((u) => h('li', { class: `unit-row unit-${u.readiness}` },
      h('span', { class: 'dot' }), h('strong', {}, u.code), h('span', {}, u.name),
      h('span', { class: 'type' }, label(u.type)), h('span', { class: 'ready' }, label(u.readiness))))));
  }
}

registerPanel({ id: 'units', tag: 'ops-units', element: UnitsPanel, titleKey: 'units' });
