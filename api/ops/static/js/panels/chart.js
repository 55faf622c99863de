// Response times: P50 and P90 per stage over the last 24 hours or 7 days, from `responseTimes`, in SVG.

import { label, t } from '../i18n.js';
import { OpsPanel, registerPanel } from '../registry.js';
import { h, s, shortDuration } from '../util.js';

const QUERY = `query ResponseTimes($filter: ResponseTimesFilter) { responseTimes(filter: $filter) {
  category stage count p50Seconds p90Seconds } }`;
const STAGES = ['ACKNOWLEDGE', 'DISPATCH', 'ARRIVE', 'RESOLVE'];
const RANGES = { '24h': 24 * 3600e3, '7d': 7 * 24 * 3600e3 };

class ChartPanel extends OpsPanel {
  setup() {
    this.range = this.arg === '7d' ? '7d' : '24h';
    this.rows = null;
    this.load();
    const timer = setInterval(() => this.load(), 60_000);
    this.cleanup(() => clearInterval(timer));
  }

  async load() {
    const after = new Date(Date.now() - RANGES[this.range]).toISOString();
    try {
      const data = await this.ctx.gql(QUERY, { filter: { reportedAfter: after } });
      this.rows = data.responseTimes.filter((r) => r.category === null);
    } catch (error) {
      this.rows = [];
      this.error = error.message;
    }
    this.refresh();
  }

  render() {
    const buttons = Object.keys(RANGES).map((key) => h('button', { class: 'small', 'aria-pressed': String(key === this.range),
      'data-range': key, onclick: () => { this.range = key; this.load(); } }, t(key === '24h' ? 'range24h' : 'range7d')));
    const head = h('div', { class: 'panel-head' }, h('h2', { class: 'panel-title' }, t('chart')),
      this.ctx.wall ? h('span', { class: 'count' }, t(this.range === '24h' ? 'range24h' : 'range7d')) : h('span', {}, buttons));
    if (!this.rows) { this.replaceChildren(head); return; }
    const byStage = Object.fromEntries(this.rows.map((r) => [r.stage, r]));
    const max = Math.max(1, ...this.rows.map((r) => r.p90Seconds || 0));
    const W = 600;
    const rowH = 56;
    const left = 130;
    const svg = s('svg', { class: 'chart', viewBox: `0 0 ${W} ${STAGES.length * rowH + 30}`, role: 'img',
      'aria-label': t('chart') });
    STAGES.forEach((stage, i) => {
      const r = byStage[stage] || { p50Seconds: null, p90Seconds: null, count: 0 };
      const y = i * rowH + 8;
      const bar = (value, dy, cls) => {
        const w = value ? ((W - left - 90) * value) / max : 0;
        return [s('rect', { x: left, y: y + dy, width: Math.max(1, w), height: 18, class: cls }),
          s('text', { x: left + w + 6, y: y + dy + 14, class: 'value' }, value === null ? '—' : shortDuration(value))];
      };
      svg.append(s('text', { x: 0, y: y + 16, class: 'stage' }, label(stage)),
        s('text', { x: 0, y: y + 36, class: 'n' }, `n = ${r.count}`),
        ...bar(r.p50Seconds, 0, 'p50'), ...bar(r.p90Seconds, 22, 'p90'));
    });
    const ly = STAGES.length * rowH + 20;
    svg.append(s('rect', { x: left, y: ly - 10, width: 12, height: 12, class: 'p50' }),
      s('text', { x: left + 16, y: ly, class: 'n' }, 'P50'),
      s('rect', { x: left + 70, y: ly - 10, width: 12, height: 12, class: 'p90' }),
      s('text', { x: left + 86, y: ly, class: 'n' }, 'P90'));
    this.replaceChildren(head, this.rows.length ? svg : h('p', { class: 'hint' }, t('noData')));
  }
}

registerPanel({ id: 'chart', tag: 'ops-chart', element: ChartPanel, titleKey: 'chart' });
