// The time in Phú Quốc (Asia/Ho_Chi_Minh), large, for the wall.

import { language, t } from '../i18n.js';
import { OpsPanel, registerPanel } from '../registry.js';
import { h } from '../util.js';

class ClockPanel extends OpsPanel {
  setup() {
    const timer = setInterval(() => this.refresh(), 1000);
    this.cleanup(() => clearInterval(timer));
  }

  render() {
    const now = new Date();
    const locale = language() === 'vi' ? 'vi-VN' : 'en-GB';
    const zone = { timeZone: 'Asia/Ho_Chi_Minh' };
    this.replaceChildren(h('div', { class: 'clock' },
      h('span', { class: 'time' }, now.toLocaleTimeString(locale, { ...zone, hour: '2-digit', minute: '2-digit', second: '2-digit' })),
      h('span', { class: 'date' }, now.toLocaleDateString(locale, { ...zone, weekday: 'long', day: 'numeric', month: 'long', year: 'numeric' })),
      h('span', { class: 'zone' }, `${t('clock')} · UTC+7`)));
  }
}

registerPanel({ id: 'clock', tag: 'ops-clock', element: ClockPanel, titleKey: 'clock' });
