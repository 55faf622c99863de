// Hotline intake, built for speed while on the phone: keyboard first (Alt+1..9 category, Alt+T tourist,
// Alt+A attach to the nearest likely duplicate, Ctrl+Enter log, Esc start over), the location from a map
// click or typed, and the open incidents nearby so a second call about the same thing is attached to it.

import { haversine } from '../geo.js';
import { CATEGORIES, label, t } from '../i18n.js';
import { OpsPanel, registerPanel } from '../registry.js';
import { compatibleCategories, isOpen } from '../rules.js';
import { INCIDENT_FIELDS } from '../store.js';
import { h, shortDuration, shortId } from '../util.js';

const LOG_CALL = `mutation LogCall($input: LogHotlineCallInput!) { logHotlineCall(input: $input) {
  incident { ...QueueIncident } attachedToExisting hotlineCallId errors { field code message } } }
${INCIDENT_FIELDS}`;
const NEARBY_METERS = 2000;
const LANGUAGES = [['vi', 'Tiếng Việt'], ['en', 'English'], ['zh', '中文'], ['ko', '한국어'], ['ru', 'Русский'], ['other', '…']];

// One key per call, kept across retries until the call is logged (or the form started over): a retry after a
// lost answer returns the first result instead of logging the call twice.
function newCallKey() {
  if (crypto.randomUUID) return crypto.randomUUID();
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join('');
}

class HotlinePanel extends OpsPanel {
  setup() {
    this.state = { category: null, location: null, attachTo: null, result: null, error: null };
    this.callKey = newCallKey();
    this.listen(this.ctx.bus, 'map-click', (event) => {
      if (!this.visible) return;
      this.setLocation(event.detail);
    });
    this.listen(this.ctx.store, 'change', () => { if (this.nearbyBox) this.renderNearby(); });
    this.addEventListener('keydown', (event) => this.key(event));
  }

  render() {
    // Keep what the operator has typed across a redraw (language switch).
    const values = this.form ? Object.fromEntries(new FormData(this.form)) : {};
    const field = (name, labelKey, el) => h('label', { class: `field field-${name}` }, t(labelKey), el);
    const categories = h('fieldset', { class: 'categories', role: 'radiogroup' }, h('legend', {}, t('category')),
      CATEGORIES.map((code, i) => h('label', { class: 'cat-choice' },
        h('input', { type: 'radio', name: 'category', value: code, checked: this.state.category === code,
          onchange: () => { this.state.category = code; this.renderNearby(); } }),
        h('kbd', {}, String(i + 1)), ` ${label(code)}`)));
    const location = h('input', { name: 'location', placeholder: '10.21700, 103.96000', autocomplete: 'off',
      value: this.state.location ? `${this.state.location.lat}, ${this.state.location.lng}` : '' });
    location.addEventListener('change', () => this.parseLocation(location.value));
    this.form = h('form', { class: 'hotline-form', 'aria-label': t('hotline') },
      h('div', { class: 'panel-head' }, h('h2', { class: 'panel-title' }, t('hotline'))),
      h('p', { class: 'keys' }, t('keysHelp')),
      categories,
      h('div', { class: 'grid2' },
        field('callbackNumber', 'phone', h('input', { name: 'callbackNumber', type: 'tel', autocomplete: 'off',
          value: values.callbackNumber || '' })),
        field('callerName', 'callerName', h('input', { name: 'callerName', autocomplete: 'off', value: values.callerName || '' })),
        field('language', 'lang', h('select', { name: 'language' }, LANGUAGES.map(([v, text]) => h('option', {
          value: v, selected: (values.language || 'vi') === v }, text)))),
        h('label', { class: 'field field-tourist' }, h('input', { type: 'checkbox', name: 'tourist',
          checked: values.tourist === 'on' }), ` ${t('tourist')} (Alt+T)`)),
      field('address', 'address', h('input', { name: 'address', autocomplete: 'off', value: values.address || '' })),
      field('location', 'location', location),
      h('p', { class: 'hint' }, t('pickOnMap')),
      field('description', 'description', h('textarea', { name: 'description', rows: 3 }, values.description || '')),
      field('notes', 'notes', h('textarea', { name: 'notes', rows: 2 }, values.notes || '')),
      this.nearbyBox = h('section', { class: 'nearby', 'aria-live': 'polite' }),
      this.attachBox = h('div', { class: 'attach' }),
      h('div', { class: 'row' }, h('button', { type: 'submit', class: 'primary', 'data-submit-call': '' },
        `${t('submitCall')} (Ctrl+Enter)`)),
      this.state.error ? h('p', { class: 'message error', role: 'alert' }, this.state.error) : null,
      this.state.result ? h('p', { class: 'message ok', role: 'status', 'data-result': this.state.result.kind },
        this.state.result.text) : null);
    this.form.addEventListener('submit', (event) => { event.preventDefault(); this.submit(); });
    this.replaceChildren(this.form);
    this.renderNearby();
  }

  setLocation(location) {
    this.state.location = location;
    const input = this.querySelector('[name=location]');
    if (input) input.value = `${location.lat}, ${location.lng}`;
    this.ctx.bus.dispatchEvent(new CustomEvent('pick', { detail: location }));
    this.renderNearby();
  }

  parseLocation(text) {
    const m = text.match(/(-?\d+(?:\.\d+)?)\s*[,; ]\s*(-?\d+(?:\.\d+)?)/);
    if (m) this.setLocation({ lat: Number(m[1]), lng: Number(m[2]) });
    else { this.state.location = null; this.renderNearby(); }
  }

  /** Open incidents within 2 km, nearest first; those within the duplicate radius and of a compatible
   * category are marked as likely the same. */
  nearby() {
    const here = this.state.location;
    if (!here) return [];
    const radius = this.ctx.config.duplicateRadiusMeters || 250;
    const compatible = this.state.category ? compatibleCategories(this.state.category) : null;
    const out = [];
    for (const incident of this.ctx.store.incidents.values()) {
      if (!isOpen(incident.state) || !incident.location) continue;
      const d = haversine(here.lat, here.lng, incident.location.lat, incident.location.lng);
      if (d <= NEARBY_METERS) {
        out.push({ incident, d, likely: d <= radius && (!compatible || compatible.has(incident.category)) });
      }
    }
    return out.sort((a, b) => (b.likely - a.likely) || (a.d - b.d)).slice(0, 8);
  }

  renderNearby() {
    if (!this.nearbyBox) return;
    const list = this.nearby();
    this.nearbyBox.replaceChildren(h('h3', {}, t('nearby')), list.length
      ? h('ul', {}, list.map(({ incident, d, likely }) => h('li', { class: likely ? 'likely' : '',
        'data-nearby': incident.id },
        h('span', { class: `prio prio-${incident.priority}` }, incident.priority),
        ` #${shortId(incident.id)} ${label(incident.category)} · ${label(incident.state)} · ${Math.round(d)} m · `,
        shortDuration((Date.now() - Date.parse(incident.reportedAt)) / 1000),
        likely ? h('em', {}, ` (${t('likelySame')})`) : '',
        h('button', { type: 'button', class: 'small', 'data-attach': incident.id,
          onclick: () => this.attach(incident.id) }, t('attach')))))
      : h('p', { class: 'hint' }, t('noNearby')));
    this.attachBox.replaceChildren(this.state.attachTo ? h('p', { class: 'attaching', 'data-attaching': this.state.attachTo },
      `${t('attaching')} #${shortId(this.state.attachTo)} `,
      h('button', { type: 'button', class: 'small', onclick: () => this.attach(null) }, t('detach'))) : '');
  }

  attach(id) {
    this.state.attachTo = id;
    this.renderNearby();
  }

  key(event) {
    if (event.altKey && /^[1-9]$/.test(event.key)) {
      event.preventDefault();
      const code = CATEGORIES[Number(event.key) - 1];
      this.state.category = code;
      const radio = this.querySelector(`input[name=category][value=${code}]`);
      radio.checked = true;
      radio.focus();
      this.renderNearby();
    } else if (event.altKey && event.key.toLowerCase() === 't') {
      event.preventDefault();
      const box = this.querySelector('[name=tourist]');
      box.checked = !box.checked;
    } else if (event.altKey && event.key.toLowerCase() === 'a') {
      event.preventDefault();
      const first = this.nearby()[0];
      if (first) this.attach(first.incident.id);
    } else if (event.ctrlKey && event.key === 'Enter') {
      event.preventDefault();
      this.submit();
    } else if (event.key === 'Escape') {
      event.preventDefault();
      this.reset();
    } else if (/^[1-9]$/.test(event.key) && event.target.name === 'category') {
      // Digits pick a category while the category group has the focus.
      event.preventDefault();
      this.querySelector(`input[name=category][value=${CATEGORIES[Number(event.key) - 1]}]`).click();
    }
  }

  reset() {
    this.state = { category: null, location: null, attachTo: null, result: this.state.result, error: null };
    this.callKey = newCallKey();
    this.form = null;
    this.ctx.bus.dispatchEvent(new CustomEvent('pick', { detail: null }));
    this.refresh();
    this.querySelector('input[name=category]')?.focus();
  }

  async submit() {
    const data = Object.fromEntries(new FormData(this.form));
    this.state.error = null;
    if (!this.state.category) {
      this.state.error = `${t('category')}?`;
      this.refresh();
      return;
    }
    const input = {
      category: this.state.category, description: data.description || '', callerName: data.callerName || null,
      callbackNumber: data.callbackNumber || null, language: data.language || 'vi', tourist: data.tourist === 'on',
      notes: data.notes || null, address: data.address || null,
      location: this.state.location ? { lat: this.state.location.lat, lng: this.state.location.lng } : null,
      incidentId: this.state.attachTo, idempotencyKey: this.callKey,
    };
    try {
      const result = (await this.ctx.gql(LOG_CALL, { input })).logHotlineCall;
      if (result.errors.length) {
        this.state.error = result.errors.map((e) => e.message).join(' ');
        this.refresh();
        return;
      }
      this.ctx.store.put(result.incident);
      const kind = result.attachedToExisting ? 'attached' : 'new';
      this.state.result = { kind, id: result.incident.id,
        text: `${t(kind === 'attached' ? 'attachedTo' : 'newIncident')} #${shortId(result.incident.id)}` };
      this.reset();
    } catch (error) {
      this.state.error = error.message;
      this.refresh();
    }
  }
}

registerPanel({ id: 'hotline', tag: 'ops-hotline', element: HotlinePanel, titleKey: 'hotline', wall: false });
