// The live event feed: what the subscription delivered, newest first.

import { label, language, t } from '../i18n.js';
import { OpsPanel, registerPanel } from '../registry.js';
import { h, shortId } from '../util.js';

class FeedPanel extends OpsPanel {
  setup() {
    this.listen(this.ctx.store, 'change', () => this.refresh());
  }

  render() {
    const events = this.ctx.store.feed.slice(0, this.ctx.wall ? 14 : 40);
    const locale = language() === 'vi' ? 'vi-VN' : 'en-GB';
    this.replaceChildren(h('div', { class: 'panel-head' }, h('h2', { class: 'panel-title' }, t('feed')),
      h('span', { class: 'count' }, String(this.ctx.store.eventsReceived))),
    events.length ? h('ol', { class: 'feed' }, events.map((e) => h('li', {},
      h('time', {}, new Date(e.at).toLocaleTimeString(locale, { timeZone: 'Asia/Ho_Chi_Minh' })), ' ',
      h('strong', {}, label(e.kind)), ` #${shortId(e.incidentId)} `, label(e.category),
      e.state ? h('span', { class: `state state-${e.state}` }, label(e.state)) : null)))
      : h('p', { class: 'hint' }, t('noData')));
  }
}

registerPanel({ id: 'feed', tag: 'ops-feed', element: FeedPanel, titleKey: 'feed' });
