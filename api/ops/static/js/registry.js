// The panel registry: every panel is a custom element registered here with an id and a title. The console
// tabs and the video wall build themselves from ids, so a later domain (cameras, air quality, lodging)
// adds a panel by calling registerPanel() from its own module and listing that module in panels/index.js.

import { onLanguage } from './i18n.js';

const PANELS = new Map();

/**
 * Registers a panel. def: {id, tag, element (class extending OpsPanel), titleKey, wall (bool: may be a
 * wall tile)}.
 */
export function registerPanel(def) {
  if (PANELS.has(def.id)) throw new Error(`panel ${def.id} registered twice`);
  if (!customElements.get(def.tag)) customElements.define(def.tag, def.element);
  PANELS.set(def.id, { wall: true, ...def });
}

/** The registered panel ids (wall-capable ones only when asked). */
export function panelIds({ wall = false } = {}) {
  return [...PANELS.values()].filter((d) => !wall || d.wall).map((d) => d.id);
}

export function panelDef(id) { return PANELS.get(id); }

/** A new panel element bound to the console context; `arg` is the part after ':' in a wall tile spec. */
export function createPanel(id, ctx, arg = null) {
  const def = PANELS.get(id);
  if (!def) throw new Error(`unknown panel ${id}`);
  const el = document.createElement(def.tag);
  el.ctx = ctx;
  el.arg = arg;
  el.dataset.panel = id;
  el.classList.add('panel');
  return el;
}

/** What every panel shares: the context, clean-up of listeners, redraw on language change, lazy drawing
 * while hidden (a panel in a hidden tab is marked dirty and drawn when shown). */
export class OpsPanel extends HTMLElement {
  connectedCallback() {
    if (this._started) return;
    this._started = true;
    this._cleanups = [];
    this.cleanup(onLanguage(() => this.refresh()));
    this.listen(this.ctx.bus, 'shown', () => { if (this._dirty) this.refresh(); });
    this.setup();
    this.refresh();
  }

  disconnectedCallback() {
    for (const fn of this._cleanups || []) fn();
    this._cleanups = [];
    this._started = false;
  }

  /** Registers a function to run when the panel goes away. */
  cleanup(fn) { this._cleanups.push(fn); }

  /** addEventListener that is removed with the panel. */
  listen(target, type, fn) {
    target.addEventListener(type, fn);
    this.cleanup(() => target.removeEventListener(type, fn));
  }

  /** Whether the panel is on screen now (not in a hidden tab). */
  get visible() { return this.isConnected && !this.closest('[hidden]'); }

  /** Draws now when visible, else later. */
  refresh() {
    if (!this.visible) { this._dirty = true; return; }
    this._dirty = false;
    this.render();
  }

  setup() {}
  render() {}
}
