// Incident detail: facts, deadlines, the actions the API says this user may take now (`allowedActions`, and
// only those: the console keeps no copy of the state machine), units sent with the steps the API allows
// (`allowedStates`) and recommended, timeline, photos (fetched with the token, shown from blob: URLs) and the
// reporter (staff only).

import { urgency } from '../deadline.js';
import { haversine } from '../geo.js';
import { label, language, t } from '../i18n.js';
import { OpsPanel, registerPanel } from '../registry.js';
import { isOpen } from '../rules.js';
import { INCIDENT_FIELDS } from '../store.js';
import { clock, h, shortDuration, shortId } from '../util.js';

const DETAIL = `query Detail($id: ID!) { incident(id: $id) { ...QueueIncident occurredAt resolutionNote reopenCount
  allowedActions
  reporter { channel reportedAt isTourist language fullName phone }
  reports { id channel category description createdAt attachedToExisting }
  timeline { id kind at fromState toState note unitId assignmentState }
  photos { sha256 thumbnailUrl url }
  assignments { id state allowedStates assignedAt enRouteAt onSceneAt clearedAt unit { id code name type readiness } } }
  incidentCategories { code requiresPhotoProof } }
${INCIDENT_FIELDS}`;
const RECOMMEND = `query Recommend($id: ID!) { recommendUnits(incidentId: $id, first: 6) {
  distanceMeters unit { id code name type readiness } } }`;
const PAYLOAD = `{ incident { ...QueueIncident } errors { field code message } }`;
const MUTATIONS = {
  ACKNOWLEDGE: `mutation Ack($input: AcknowledgeIncidentInput!) { acknowledgeIncident(input: $input) ${PAYLOAD} }
${INCIDENT_FIELDS}`,
  REJECT: `mutation Reject($input: RejectIncidentInput!) { rejectIncident(input: $input) ${PAYLOAD} }
${INCIDENT_FIELDS}`,
  DISPATCH: `mutation Dispatch($input: DispatchIncidentInput!) { dispatchIncident(input: $input) ${PAYLOAD} }
${INCIDENT_FIELDS}`,
  RESOLVE: `mutation Resolve($input: ResolveIncidentInput!) { resolveIncident(input: $input) ${PAYLOAD} }
${INCIDENT_FIELDS}`,
  CLOSE: `mutation Close($input: CloseIncidentInput!) { closeIncident(input: $input) ${PAYLOAD} }
${INCIDENT_FIELDS}`,
  MERGE: `mutation Merge($input: MergeIncidentsInput!) { mergeIncidents(input: $input) {
    source { ...QueueIncident } target { ...QueueIncident } errors { field code message } } }
${INCIDENT_FIELDS}`,
  SPLIT: `mutation Split($input: SplitIncidentInput!) { splitIncident(input: $input) {
    source { ...QueueIncident } incident { ...QueueIncident } errors { field code message } } }
${INCIDENT_FIELDS}`,
  REOPEN: `mutation Reopen($input: ReopenIncidentInput!) { reopenIncident(input: $input) ${PAYLOAD} }
${INCIDENT_FIELDS}`,
  RATE: `mutation Rate($input: RateIncidentInput!) { rateIncident(input: $input) ${PAYLOAD} }
${INCIDENT_FIELDS}`,
  ASSIGNMENT: `mutation Step($input: UpdateAssignmentInput!) { updateAssignment(input: $input) {
    incident { ...QueueIncident } errors { field code message } } }
${INCIDENT_FIELDS}`,
};
const ACTION_KEYS = { ACKNOWLEDGE: 'acknowledge', REJECT: 'reject', DISPATCH: 'dispatch', RESOLVE: 'resolve',
  CLOSE: 'close', MERGE: 'merge', SPLIT: 'split', REOPEN: 'reopen', RATE: 'rate' };

class DetailPanel extends OpsPanel {
  setup() {
    this.id = null;
    this.seenV = 0;
    this.data = null;
    this.recommended = [];
    this.photoUrls = [];
    this.form = null;
    this.message = null;
    this.listen(this.ctx.bus, 'select', (event) => this.show(event.detail));
    this.listen(this.ctx.store, 'change', (event) => {
      // Reload when someone else changed it (an event), not after our own store.put().
      const v = this.ctx.store.incidents.get(this.id)?._v;
      if (this.id && event.detail.ids.has(this.id) && !this.form && v > this.seenV) this.reloadSoon();
    });
    this.cleanup(() => this.photoUrls.forEach((u) => URL.revokeObjectURL(u)));
    // A wall tile shows the most urgent open incident, following the queue.
    if (this.ctx.wall) this.listen(this.ctx.store, 'change', () => this.followTop());
  }

  followTop() {
    // At most every 5 s: a wall tile that changed with every event could not be read.
    if (Date.now() - (this._followed || 0) < 5000) return;
    const top = this.ctx.store.ordered()[0];
    if (top && top.id !== this.id) {
      this._followed = Date.now();
      this.show(top.id);
    }
  }

  async show(id) {
    this.id = id;
    this.form = null;
    this.message = null;
    await this.load();
  }

  reloadSoon() {
    clearTimeout(this._reload);
    this._reload = setTimeout(() => this.load(), 250);
  }

  async load() {
    const id = this.id;
    if (!id) return this.refresh();
    const data = await this.ctx.gql(DETAIL, { id });
    if (id !== this.id) return;
    this.data = data.incident;
    this.photoProof = new Set(data.incidentCategories.filter((c) => c.requiresPhotoProof).map((c) => c.code));
    if (this.data) this.ctx.store.put(pick(this.data));
    this.seenV = this.ctx.store.incidents.get(id)?._v ?? 0;
    this.recommended = [];
    if (this.data && isOpen(this.data.state)) {
      try {
        this.recommended = (await this.ctx.gql(RECOMMEND, { id })).recommendUnits;
      } catch { this.recommended = []; }
    }
    this.loadPhotos();
    this.refresh();
  }

  async loadPhotos() {
    this.photoUrls.forEach((u) => URL.revokeObjectURL(u));
    this.photoUrls = [];
    for (const photo of this.data?.photos || []) {
      const response = await fetch(photo.thumbnailUrl, {
        headers: { authorization: `Bearer ${this.ctx.session.accessToken}` } });
      if (response.ok) this.photoUrls.push(URL.createObjectURL(await response.blob()));
    }
    if (this.photoUrls.length) this.refresh();
  }

  render() {
    const inc = this.data;
    if (!inc) {
      this.replaceChildren(h('div', { class: 'panel-head' }, h('h2', { class: 'panel-title' }, t('detail'))),
        h('p', { class: 'hint' }, t('selectHint')));
      return;
    }
    const u = urgency(inc);
    this.replaceChildren(
      h('div', { class: 'panel-head' },
        h('h2', { class: 'panel-title' }, `#${shortId(inc.id)} ${label(inc.category)}`),
        h('span', { class: `prio prio-${inc.priority}` }, inc.priority),
        h('span', { class: `state state-${inc.state}`, 'data-detail-state': inc.state }, label(inc.state))),
      h('div', { class: 'detail-body' },
        h('p', { class: 'desc' }, inc.description || '—'),
        h('dl', { class: 'facts' },
          fact(t('address'), inc.address || '—'),
          fact(t('location'), inc.location ? `${inc.location.lat.toFixed(5)}, ${inc.location.lng.toFixed(5)}` : '—'),
          fact(t('reportedAt'), `${time(inc.reportedAt)} · ${label(inc.channel)} · ${inc.reportCount} ${t('reports')}`),
          u ? fact(`${t('due')}: ${label(u.stage)}`, h('span', { class: 'due', 'data-level': u.level },
            `${u.remaining < 0 ? `${t('overdue')} ` : ''}${clock(Math.abs(u.remaining))}`)) : null),
        this.message ? h('p', { class: `message ${this.message.kind}`, role: 'status' }, this.message.text) : null,
        this.actions(inc),
        this.assignments(inc),
        this.recommendations(inc),
        section(t('reporter'), this.reporter(inc)),
        section(t('photos'), this.photoUrls.length
          ? h('div', { class: 'photos' }, this.photoUrls.map((src) => h('img', { src, alt: '' })))
          : h('p', { class: 'hint' }, t('noPhotos'))),
        section(t('timeline'), h('ol', { class: 'timeline' }, [...inc.timeline].reverse().map((e) => h('li', {},
          h('time', {}, time(e.at)), ' ', h('strong', {}, label(`EV_${e.kind}`)),
          e.toState && e.fromState !== e.toState ? ` · ${e.fromState ? `${label(e.fromState)} → ` : ''}${label(e.toState)}` : '', e.assignmentState ? ` (${label(e.assignmentState)})` : '',
          e.note ? h('span', { class: 'note' }, ` — ${e.note}`) : null))))));
  }

  actions(inc) {
    // Exactly what the API allows this user now; one it names that this console cannot do yet shows disabled.
    const allowed = inc.allowedActions;
    const box = h('div', { class: 'actions', 'data-allowed': allowed.join(' ') });
    if (!allowed.length) box.append(h('p', { class: 'hint' }, t('noActions')));
    for (const action of allowed) {
      const known = action in MUTATIONS;
      box.append(h('button', { class: action === 'ACKNOWLEDGE' || action === 'DISPATCH' ? 'primary' : '',
        'data-action': action, disabled: !known, onclick: () => this.begin(action) },
      known ? t(ACTION_KEYS[action]) : action));
    }
    if (this.form) box.append(this.formFor(this.form, inc));
    return section(t('actions'), box);
  }

  begin(action) {
    if (action === 'ACKNOWLEDGE' || action === 'CLOSE') return this.run(action, { id: this.id });
    this.form = action;
    this.message = null;
    return this.refresh();
  }

  formFor(action, inc) {
    const cancel = h('button', { type: 'button', onclick: () => { this.form = null; this.refresh(); } }, t('cancel'));
    const form = h('form', { class: 'action-form', 'data-form': action });
    if (action === 'REJECT') {
      const reason = h('textarea', { name: 'reason', required: true, rows: 2 });
      form.append(h('label', {}, t('reason'), reason));
      form.addEventListener('submit', (e) => { e.preventDefault(); this.run('REJECT', { id: this.id, reason: reason.value }); });
    } else if (action === 'RESOLVE') {
      const note = h('textarea', { name: 'resolutionNote', required: true, rows: 2 });
      const photos = h('input', { type: 'file', name: 'photos', accept: 'image/jpeg,image/png,image/webp', multiple: true,
        required: this.photoProof.has(inc.category) });
      form.append(h('label', {}, t('resolutionNote'), note), h('label', {}, t('photoProof'), photos));
      form.addEventListener('submit', (e) => {
        e.preventDefault();
        const files = [...photos.files].map((file, i) => ({ path: `input.photos.${i}`, file }));
        this.run('RESOLVE', { id: this.id, resolutionNote: note.value, photos: files.map(() => null) }, files);
      });
    } else if (action === 'DISPATCH') {
      const choices = this.recommended.map((r) => h('label', { class: 'unit-choice' },
        h('input', { type: 'checkbox', name: 'unit', value: r.unit.id }),
        ` ${r.unit.code} · ${label(r.unit.type)} · ${(r.distanceMeters / 1000).toFixed(1)} km`));
      if (choices[0]) choices[0].querySelector('input').checked = true;
      form.append(...(choices.length ? choices : [h('p', { class: 'hint' }, t('noUnits'))]));
      form.addEventListener('submit', (e) => {
        e.preventDefault();
        const unitIds = [...form.querySelectorAll('input[name=unit]:checked')].map((x) => x.value);
        if (!unitIds.length) { this.message = { kind: 'error', text: t('chooseUnits') }; return this.refresh(); }
        return this.run('DISPATCH', { id: this.id, unitIds });
      });
    } else if (action === 'MERGE') {
      const here = inc.location;
      const others = this.ctx.store.ordered().filter((o) => o.id !== inc.id && isOpen(o.state))
        .map((o) => ({ o, d: here && o.location ? haversine(here.lat, here.lng, o.location.lat, o.location.lng) : Infinity }))
        .sort((a, b) => a.d - b.d).slice(0, 20);
      const target = h('select', { name: 'target' }, others.map(({ o, d }) => h('option', { value: o.id },
        `#${shortId(o.id)} ${label(o.category)} · ${label(o.state)}${Number.isFinite(d) ? ` · ${(d / 1000).toFixed(1)} km` : ''}`)));
      form.append(h('label', {}, t('mergeTarget'), target));
      form.addEventListener('submit', (e) => { e.preventDefault(); this.run('MERGE', { sourceId: this.id, targetId: target.value }); });
    } else if (action === 'SPLIT') {
      // The first report made the incident: offer the later ones first.
      const report = h('select', { name: 'report' }, [...inc.reports].reverse().map((r) => h('option', { value: r.id },
        `#${r.id} · ${label(r.channel)} · ${label(r.category)} · ${(r.description || '—').slice(0, 60)}`)));
      form.append(h('label', {}, t('splitReport'), report));
      form.addEventListener('submit', (e) => { e.preventDefault(); this.run('SPLIT', { reportId: Number(report.value) }); });
    } else if (action === 'REOPEN') {
      const reason = h('textarea', { name: 'reason', required: true, rows: 2 });
      form.append(h('label', {}, t('reason'), reason));
      form.addEventListener('submit', (e) => { e.preventDefault(); this.run('REOPEN', { id: this.id, reason: reason.value }); });
    } else if (action === 'RATE') {
      const rating = h('select', { name: 'rating' }, [5, 4, 3, 2, 1].map((n) => h('option', { value: n }, `${n} ★`)));
      const comment = h('textarea', { name: 'comment', rows: 2 });
      form.append(h('label', {}, t('rating'), rating), h('label', {}, t('comment'), comment));
      form.addEventListener('submit', (e) => {
        e.preventDefault();
        this.run('RATE', { id: this.id, rating: Number(rating.value), comment: comment.value || null });
      });
    }
    form.append(h('div', { class: 'row' }, h('button', { type: 'submit', class: 'primary', 'data-confirm': action },
      t('confirm')), cancel));
    return form;
  }

  async run(action, input, files = null) {
    try {
      const data = await this.ctx.gql(MUTATIONS[action], { input }, { files });
      const payload = Object.values(data)[0];
      if (payload.errors.length) {
        this.message = { kind: 'error', text: payload.errors.map((e) => e.message).join(' ') };
      } else {
        for (const key of ['incident', 'source', 'target']) if (payload[key]) this.ctx.store.put(payload[key]);
        this.form = null;
        this.message = null;
        await this.load();
        return;
      }
    } catch (error) {
      this.message = { kind: 'error', text: error.message };
    }
    this.refresh();
  }

  assignments(inc) {
    if (!inc.assignments.length) return null;
    // The steps come from the API (`allowedStates`): who may move this unit, and where to, is decided there.
    return section(t('assignments'), h('ul', { class: 'assignments' }, inc.assignments.map((a) => h('li', {},
      h('strong', {}, a.unit.code), ` ${a.unit.name} · `, h('span', { class: `astate astate-${a.state}` }, label(a.state)),
      a.allowedStates.map((next) => h('button', { class: 'small', 'data-step': next,
        onclick: () => this.run('ASSIGNMENT', { id: a.id, state: next }) }, label(next)))))));
  }

  recommendations(inc) {
    if (!isOpen(inc.state)) return null;
    return section(t('recommended'), this.recommended.length
      ? h('ul', { class: 'recommended' }, this.recommended.map((r) => h('li', { 'data-unit': r.unit.id },
        h('strong', {}, r.unit.code), ` ${r.unit.name} · ${label(r.unit.type)} · `,
        h('span', { class: 'distance' }, `${(r.distanceMeters / 1000).toFixed(2)} km`))))
      : h('p', { class: 'hint' }, t('noUnits')));
  }

  reporter(inc) {
    const r = inc.reporter;
    if (!r) return h('p', { class: 'hint' }, '—');
    return h('dl', { class: 'facts' },
      fact(t('caller'), r.fullName || '—'),
      fact(t('phone'), r.phone || '—'),
      fact(t('lang'), r.language || '—'),
      fact(t('tourist'), r.isTourist ? '✔' : '—'),
      fact(t('reportedAt'), `${time(r.reportedAt)} · ${label(r.channel)}`));
  }
}

function pick(detail) {
  const { reporter, reports, timeline, photos, allowedActions, ...rest } = detail;
  return { ...rest, assignments: rest.assignments.map(({ allowedStates, ...a }) => a) };
}

function fact(term, value) {
  return [h('dt', {}, term), h('dd', {}, value)];
}

function section(title, body) {
  return h('section', { class: 'detail-section' }, h('h3', {}, title), body);
}

function time(iso) {
  if (!iso) return '—';
  const d = new Date(iso);
  const age = shortDuration((Date.now() - d.getTime()) / 1000);
  return `${d.toLocaleTimeString(language() === 'vi' ? 'vi-VN' : 'en-GB', { timeZone: 'Asia/Ho_Chi_Minh',
    hour: '2-digit', minute: '2-digit' })} (${age})`;
}

registerPanel({ id: 'detail', tag: 'ops-detail', element: DetailPanel, titleKey: 'detail' });
