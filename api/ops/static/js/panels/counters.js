// Big figures for the room: open incidents by state, urgent ones, overdue ones, and today's total.

import { urgency } from '../deadline.js';
import { OPEN_STATES, label, t } from '../i18n.js';
import { OpsPanel, registerPanel } from '../registry.js';
import { h } from '../util.js';

const TODAY = `query Today($filter: IncidentFilter) { incidents(first: 1, filter: $filter) { totalCount } }`;

class CountersPanel extends OpsPanel {
  setup() {
    this.today = null;
    this.listen(this.ctx.store, 'change', () => this.refresh());
    this.loadToday();
    const timer = setInterval(() => { this.loadToday(); this.refresh(); }, 30_000);
    this.cleanup(() => clearInterval(timer));
  }

  async loadToday() {
    // Midnight in Phú Quốc (UTC+7, no daylight saving).
    const now = new Date(Date.now() + 7 * 3600e3);
    const midnight = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()) - 7 * 3600e3);
    try {
      const data = await this.ctx.gql(TODAY, { filter: { reportedAfter: midnight.toISOString(),
        states: ['REPORTED', 'ACKNOWLEDGED', 'DISPATCHED', 'RESOLVED', 'CLOSED', 'REJECTED', 'MERGED'] } });
      this.today = data.incidents.totalCount;
    } catch { this.today = null; }
    this.refresh();
  }

  render() {
    const open = [...this.ctx.store.incidents.values()].filter((i) => OPEN_STATES.includes(i.state));
    const now = Date.now();
    const overdue = open.filter((i) => urgency(i, now)?.level === 'red').length;
    const big = (key, value, cls = '') => h('div', { class: `counter ${cls}`, 'data-counter': key },
      h('span', { class: 'value' }, value === null ? '—' : String(value)), h('span', { class: 'name' }, t(key)));
    this.replaceChildren(h('div', { class: 'panel-head' }, h('h2', { class: 'panel-title' }, t('counters'))),
      h('div', { class: 'counters' },
        big('openIncidents', open.length),
        big('p1Open', open.filter((i) => i.priority === 'P1').length, 'urgent'),
        big('overdueCount', overdue, overdue ? 'urgent' : ''),
        big('todayCount', this.today)),
      h('div', { class: 'by-state' }, OPEN_STATES.map((st) => h('span', { class: `state state-${st}` },
        `${label(st)}: ${open.filter((i) => i.state === st).length}`))));
  }
}

registerPanel({ id: 'counters', tag: 'ops-counters', element: CountersPanel, titleKey: 'counters' });
