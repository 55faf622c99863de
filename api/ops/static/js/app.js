// <ops-app>: sign-in, then either the console (tabs of panels) or the video wall (a 4 x 3 grid of tiles).

import { makeGql } from './gql.js';
import { initialLanguage, language, onLanguage, setLanguage, t } from './i18n.js';
import { createPanel, panelDef, panelIds } from './registry.js';
import { Session, SessionError } from './session.js';
import { Alarm } from './sound.js';
import { IncidentStore } from './store.js';
import { h } from './util.js';
import { TransportWs, graphqlWsUrl } from './ws.js';

export const WALL_COLUMNS = 4;
export const WALL_ROWS = 3;
// A wall URL names its tiles (/ops/wall?tiles=queue,map:south,chart:7d,...); missing ones come from here.
export const DEFAULT_WALL = ['queue', 'map', 'map:south', 'counters', 'queue:P1', 'chart', 'chart:7d', 'units',
  'feed', 'map:north', 'clock', 'counters'];

const TABS = [
  { id: 'dispatch', titleKey: 'tabDispatch', panels: ['queue', 'map', 'detail'] },
  { id: 'hotline', titleKey: 'tabHotline', panels: ['hotline', 'map'] },
  { id: 'stats', titleKey: 'tabStats', panels: ['chart', 'counters', 'units', 'feed'] },
];

/** The tiles of a wall URL: known panel ids (with an optional ':arg'), padded to 4 x 3 with the defaults. */
export function wallTiles(search) {
  const wanted = (new URLSearchParams(search).get('tiles') || '').split(',').map((x) => x.trim()).filter(Boolean);
  const known = new Set(panelIds({ wall: true }));
  const tiles = wanted.filter((spec) => known.has(spec.split(':')[0]));
  for (let i = tiles.length; tiles.length < WALL_COLUMNS * WALL_ROWS; i += 1) tiles.push(DEFAULT_WALL[i % DEFAULT_WALL.length]);
  return tiles.slice(0, WALL_COLUMNS * WALL_ROWS);
}

class OpsApp extends HTMLElement {
  async connectedCallback() {
    this.config = await fetch('/ops/config.json').then((r) => r.json());
    setLanguage(initialLanguage(this.config.defaultLanguage));
    this.wall = /\/wall\/?$/.test(location.pathname);
    document.body.classList.toggle('wall', this.wall);
    this.session = new Session();
    this.gql = makeGql(this.session, language);
    this.alarm = new Alarm();
    this.session.addEventListener('change', (event) => {
      if (!event.detail.signedIn && this.running) this.stop(event.detail.reason);
    });
    onLanguage(() => { document.title = t('appTitle'); if (!this.running) this.showSignIn(this.reason); });
    document.title = t('appTitle');
    if (await this.session.resume()) await this.start();
    else this.showSignIn();
  }

  showSignIn(reason = null) {
    this.reason = reason;
    const error = h('p', { class: 'error', role: 'alert' }, reason ? t(reason) : '');
    const username = h('input', { name: 'username', autocomplete: 'username', required: true, autofocus: true });
    const password = h('input', { name: 'password', type: 'password', autocomplete: 'current-password', required: true });
    const form = h('form', { class: 'signin', 'aria-label': t('signIn') },
      h('h1', {}, t('appTitle')),
      h('label', {}, t('username'), username),
      h('label', {}, t('password'), password),
      error,
      h('div', { class: 'row' },
        h('button', { type: 'submit', class: 'primary' }, t('signIn')),
        h('button', { type: 'button', class: 'link', onclick: () => setLanguage(language() === 'vi' ? 'en' : 'vi') },
          t('language'))));
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      error.textContent = '';
      try {
        await this.session.signIn(username.value.trim(), password.value);
        password.value = '';
        await this.start();
      } catch (exc) {
        error.textContent = exc instanceof SessionError && exc.message === 'notStaff' ? t('notStaff')
          : (exc.message || t('signInFailed'));
      }
    });
    this.replaceChildren(form);
    username.focus();
  }

  async start() {
    this.running = true;
    const bus = new EventTarget();
    const ws = new TransportWs(graphqlWsUrl(),
      async () => ({ authorization: `Bearer ${this.session.accessToken}` }),
      () => this.session.refresh());
    const store = new IncidentStore(this.gql);
    this.ctx = { config: this.config, session: this.session, gql: this.gql, ws, store, bus, alarm: this.alarm,
      wall: this.wall };
    // For the browser tests and the benchmark: the live picture, never the tokens.
    window.opsConsole = { store, ws, bus };
    store.addEventListener('arrived', (event) => { if (event.detail.priority === 'P1') this.alarm.beep(); });
    this.stopLive = store.live(ws);
    this.replaceChildren(h('p', { class: 'loading' }, t('connecting')));
    await store.load();
    if (this.wall) this.renderWall();
    else this.renderConsole();
  }

  stop(reason) {
    this.running = false;
    this.stopLive?.();
    this.ctx?.ws.close();
    window.opsConsole = null;
    this.showSignIn(reason);
  }

  async signOut() {
    this.running = false;
    this.stopLive?.();
    this.ctx.ws.close();
    window.opsConsole = null;
    await this.session.signOut();
    this.showSignIn();
  }

  renderConsole() {
    const { ctx } = this;
    const header = this.header(true);
    const views = TABS.map((tab) => h('main', { class: `view view-${tab.id}`, 'data-view': tab.id },
      tab.panels.map((id) => createPanel(id, ctx))));
    this.replaceChildren(header, ...views);
    this.showTab('dispatch');
    ctx.bus.addEventListener('show-tab', (event) => this.showTab(event.detail));
  }

  showTab(id) {
    for (const view of this.querySelectorAll('.view')) view.hidden = view.dataset.view !== id;
    for (const button of this.querySelectorAll('[data-tab]')) {
      button.setAttribute('aria-selected', String(button.dataset.tab === id));
    }
    this.ctx.bus.dispatchEvent(new CustomEvent('tab', { detail: id }));
    this.ctx.bus.dispatchEvent(new Event('shown'));
  }

  renderWall() {
    const { ctx } = this;
    const tiles = wallTiles(location.search).map((spec, i) => {
      const [id, arg] = spec.split(':');
      const title = h('h2', { class: 'tile-title' });
      const setTitle = () => { title.textContent = `${t(panelDef(id).titleKey)}${arg ? ` · ${arg}` : ''}`; };
      setTitle();
      onLanguage(setTitle);
      return h('section', { class: 'tile', 'data-tile': i, 'data-tile-panel': spec }, title, createPanel(id, ctx, arg || null));
    });
    this.replaceChildren(h('div', { class: 'wall-grid', 'data-columns': WALL_COLUMNS, 'data-rows': WALL_ROWS }, tiles),
      this.connectionDot());
  }

  connectionDot() {
    const dot = h('span', { class: 'conn', 'data-status': this.ctx.ws.status });
    const update = () => {
      dot.dataset.status = this.ctx.ws.status;
      dot.textContent = t({ live: 'live', connecting: 'connecting', offline: 'offline' }[this.ctx.ws.status]);
    };
    this.ctx.ws.addEventListener('status', update);
    onLanguage(update);
    update();
    return dot;
  }

  header() {
    const { ctx } = this;
    const tabs = h('nav', { class: 'tabs', role: 'tablist' }, TABS.map((tab) => h('button', {
      role: 'tab', 'data-tab': tab.id, onclick: () => this.showTab(tab.id),
    }, t(tab.titleKey))));
    const badge = h('button', { class: 'badge', 'data-unseen': '0', title: t('markSeen'),
      onclick: () => ctx.store.markAllSeen() });
    const updateBadge = () => {
      const n = ctx.store.unseen.size;
      badge.dataset.unseen = String(n);
      badge.textContent = `${n} ${t('unseen')}`;
      document.title = n ? `(${n}) ${t('appTitle')}` : t('appTitle');
    };
    ctx.store.addEventListener('change', updateBadge);
    const sound = h('input', { type: 'checkbox', name: 'sound' });
    sound.checked = ctx.alarm.enabled;
    sound.addEventListener('change', () => ctx.alarm.setEnabled(sound.checked));
    const soundLabel = h('label', { class: 'toggle' }, sound, h('span'));
    const langButton = h('button', { class: 'link', 'data-lang-toggle': '',
      onclick: () => setLanguage(language() === 'vi' ? 'en' : 'vi') });
    const settings = h('details', { class: 'settings' }, h('summary'), h('div', { class: 'menu' }));
    const user = h('span', { class: 'user' }, ctx.session.account?.fullName || '');
    const signOut = h('button', { class: 'link', 'data-sign-out': '', onclick: () => this.signOut() });
    const title = h('strong', { class: 'brand' });
    const relabel = () => {
      title.textContent = t('appShort');
      tabs.querySelectorAll('[data-tab]').forEach((b) => { b.textContent = t(TABS.find((x) => x.id === b.dataset.tab).titleKey); });
      soundLabel.lastChild.textContent = t('sound');
      langButton.textContent = t('language');
      signOut.textContent = t('signOut');
      settings.firstChild.textContent = t('settings');
      settings.lastChild.replaceChildren(
        h('p', {}, `${t('tileServer')}: `, h('code', {}, ctx.config.tileUrl || t('tileNone'))),
        h('p', {}, ctx.session.account?.fullName || '', ' · ', (ctx.session.roles || []).join(', ')));
      updateBadge();
    };
    onLanguage(relabel);
    relabel();
    return h('header', { class: 'top' }, title, tabs, badge, this.connectionDot(), h('span', { class: 'spacer' }),
      soundLabel, langButton, settings, user, signOut);
  }
}

customElements.define('ops-app', OpsApp);
