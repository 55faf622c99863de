// The map: the island drawn offline in SVG from our own approximate outline (optionally over tiles from a
// configured tile server), incidents coloured by state, units by readiness, and a Thổ Châu inset.
// A click on the sea or land reports its position (the hotline uses it); a click on an incident selects it.

import { BOXES, View, loadOutline } from '../geo.js';
import { label, t } from '../i18n.js';
import { OpsPanel, registerPanel } from '../registry.js';
import { h, s, shortId } from '../util.js';

const INSET = 0.3; // inset width as a share of the map's width

class MapPanel extends OpsPanel {
  setup() {
    this.box = BOXES[this.arg] || BOXES.all;
    this.svg = s('svg', { class: 'map-svg', role: 'img', 'aria-label': t('map') });
    this.legend = h('div', { class: 'legend' });
    this.replaceChildren(this.svg, this.legend);
    this.pick = null;
    this.selected = null;
    this.listen(this.ctx.store, 'change', () => this.refreshMarkers());
    this.listen(this.ctx.bus, 'select', (event) => { this.selected = event.detail; this.refreshMarkers(); });
    this.listen(this.ctx.bus, 'pick', (event) => { this.pick = event.detail; this.refreshMarkers(); });
    this.svg.addEventListener('click', (event) => this.click(event));
    const observer = new ResizeObserver(() => this.refresh());
    observer.observe(this);
    this.cleanup(() => observer.disconnect());
    loadOutline().then((outline) => { this.outline = outline; this.refresh(); });
  }

  render() {
    const width = Math.max(200, this.clientWidth);
    const height = Math.max(200, this.clientHeight);
    if (!this.outline) return;
    this.size = [width, height];
    this.view = new View(this.box, width, height);
    const insetW = width * INSET;
    const insetH = insetW * 0.6;
    this.insetRect = { x: 8, y: height - insetH - 8, w: insetW, h: insetH };
    this.insetView = new View(BOXES.thoChau, insetW, insetH);
    this.svg.setAttribute('viewBox', `0 0 ${width} ${height}`);
    const main = s('g', { class: 'land' });
    const inset = s('g', { class: 'land' });
    const labels = s('g', { class: 'places' });
    for (const feature of this.outline.features) {
      const isInset = feature.properties.inset === 'tho-chau';
      const view = isInset ? this.insetView : this.view;
      const target = isInset ? inset : main;
      if (feature.geometry.type === 'Polygon') {
        target.append(s('path', { d: path(feature.geometry.coordinates, view), class: 'island' },
          s('title', {}, feature.properties.name)));
      } else if (feature.properties.kind === 'place' && !isInset) {
        const [x, y] = view.project(feature.geometry.coordinates[1], feature.geometry.coordinates[0]);
        labels.append(s('text', { x: x + 6, y: y + 4, class: 'place' }, feature.properties.name));
      }
    }
    const { x, y, w, h: ih } = this.insetRect;
    this.nodes = new Map();
    this.unitsDrawn = null;
    this.markers = s('g', { class: 'markers' });
    this.insetMarkers = s('g', { class: 'markers' });
    this.unitLayer = s('g', { class: 'units' });
    this.insetUnits = s('g', { class: 'units' });
    this.pickLayer = s('g', { class: 'picks' });
    this.markers.addEventListener('click', (event) => this.markerClick(event));
    this.insetMarkers.addEventListener('click', (event) => this.markerClick(event));
    this.svg.replaceChildren(
      s('rect', { class: 'sea', width, height }),
      this.tiles(width, height),
      main, labels, this.unitLayer, this.markers, this.pickLayer,
      s('g', { class: 'inset', transform: `translate(${x} ${y})` },
        s('rect', { class: 'inset-frame', width: w, height: ih }), inset, this.insetUnits, this.insetMarkers,
        s('text', { x: 6, y: 16, class: 'inset-label' }, t('thoChauInset'))));
    this.legend.replaceChildren(
      ...['REPORTED', 'ACKNOWLEDGED', 'DISPATCHED'].map((st) => h('span', { class: `key state-${st}` }, label(st))),
      ...['AVAILABLE', 'BUSY'].map((r) => h('span', { class: `key unit-${r}` }, label(r))),
      h('span', { class: 'approx' }, t('mapApprox')));
    this.refreshMarkers();
  }

  tiles(width, height) {
    const url = this.ctx.config.tileUrl;
    const group = s('g', { class: 'tiles' });
    if (!url) return group;
    const zoom = Math.max(0, Math.min(19, Math.round(Math.log2(this.view.scale / 256))));
    const n = 2 ** zoom;
    const tile = this.view.scale / n;
    const x0 = Math.floor(this.view.ox * n);
    const y0 = Math.floor(this.view.oy * n);
    const x1 = Math.ceil((this.view.ox + width / this.view.scale) * n);
    const y1 = Math.ceil((this.view.oy + height / this.view.scale) * n);
    for (let tx = x0; tx < x1 && tx - x0 < 12; tx += 1) {
      for (let ty = y0; ty < y1 && ty - y0 < 12; ty += 1) {
        const href = url.replace('{z}', zoom).replace('{x}', tx).replace('{y}', ty);
        group.append(s('image', { href, x: (tx / n - this.view.ox) * this.view.scale,
          y: (ty / n - this.view.oy) * this.view.scale, width: tile + 0.5, height: tile + 0.5 }));
      }
    }
    return group;
  }

  refreshMarkers() {
    if (!this.visible || !this.view) { this._dirty = true; return; }
    const { store } = this.ctx;
    // Keyed: an incident's marker is rebuilt only when that incident changed (bursts of events stay cheap).
    const seen = new Set();
    for (const incident of store.ordered()) {
      if (!incident.location) continue;
      seen.add(incident.id);
      let g = this.nodes.get(incident.id);
      if (!g || g.dataset.v !== String(incident._v)) {
        const fresh = s('g', { class: `incident state-${incident.state} prio-${incident.priority}`,
          'data-id': incident.id, 'data-v': incident._v },
        s('circle', { r: incident.priority === 'P1' ? 9 : 6 }),
        s('title', {}, `#${shortId(incident.id)} ${label(incident.category)} · ${label(incident.state)}`));
        this.place(incident.location.lat, incident.location.lng, fresh);
        if (g) g.replaceWith(fresh);
        g = fresh;
        this.nodes.set(incident.id, g);
      }
      g.classList.toggle('selected', incident.id === this.selected);
      if (!g.isConnected) (g.dataset.inset ? this.insetMarkers : this.markers).append(g);
    }
    for (const [id, g] of this.nodes) if (!seen.has(id)) { g.remove(); this.nodes.delete(id); }
    if (this.unitsDrawn !== store.units) {
      this.unitsDrawn = store.units;
      this.unitLayer.replaceChildren();
      this.insetUnits.replaceChildren();
      for (const unit of store.units.values()) {
        if (!unit.location) continue;
        const node = s('rect', { class: `unit unit-${unit.readiness}`, x: -5, y: -5, width: 10, height: 10,
          'data-unit': unit.id }, s('title', {}, `${unit.code} · ${label(unit.type)} · ${label(unit.readiness)}`));
        this.place(unit.location.lat, unit.location.lng, node);
        (node.dataset.inset ? this.insetUnits : this.unitLayer).append(node);
      }
    }
    this.pickLayer.replaceChildren();
    if (this.pick) {
      const node = s('g', { class: 'pick' },
        s('line', { x1: -12, x2: 12, y1: 0, y2: 0 }), s('line', { x1: 0, x2: 0, y1: -12, y2: 12 }),
        s('circle', { r: 7 }));
      this.place(this.pick.lat, this.pick.lng, node);
      if (!node.dataset.inset) this.pickLayer.append(node);
    }
  }

  /** Positions a marker in the main view, or in the inset when it lies around Thổ Châu. */
  place(lat, lng, node) {
    const b = BOXES.thoChau;
    const inInset = lat < b.north && lat > b.south && lng > b.west && lng < b.east;
    const [x, y] = (inInset ? this.insetView : this.view).project(lat, lng);
    node.setAttribute('transform', `translate(${x.toFixed(1)} ${y.toFixed(1)})`);
    if (inInset) node.dataset.inset = '1';
  }

  markerClick(event) {
    const g = event.target.closest('[data-id]');
    if (!g) return;
    event.stopPropagation();
    this.ctx.store.markSeen(g.dataset.id);
    this.ctx.bus.dispatchEvent(new CustomEvent('select', { detail: g.dataset.id }));
  }

  click(event) {
    if (!this.view) return;
    const point = this.svg.createSVGPoint();
    point.x = event.clientX;
    point.y = event.clientY;
    const { x, y } = point.matrixTransform(this.svg.getScreenCTM().inverse());
    const r = this.insetRect;
    const [lat, lng] = x >= r.x && x <= r.x + r.w && y >= r.y && y <= r.y + r.h
      ? this.insetView.invert(x - r.x, y - r.y) : this.view.invert(x, y);
    const detail = { lat: Math.round(lat * 1e5) / 1e5, lng: Math.round(lng * 1e5) / 1e5 };
    this.ctx.bus.dispatchEvent(new CustomEvent('map-click', { detail }));
  }
}

function path(rings, view) {
  return rings.map((ring) => `M${ring.map(([lng, lat]) => view.project(lat, lng).map((v) => v.toFixed(1)).join(' '))
    .join('L')}Z`).join('');
}

registerPanel({ id: 'map', tag: 'ops-map', element: MapPanel, titleKey: 'map' });
