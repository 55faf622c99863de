// The console's live picture: incidents and units loaded over HTTP, then kept current by the
// incidentEvents subscription. Bursts are merged: panels hear one 'change' per animation frame, and the
// incidents touched by events are re-read in batches (nodes(ids:)) rather than one request per event.

import { OPEN_STATES } from './i18n.js';
import { coalesce } from './util.js';

export const INCIDENT_FIELDS = `fragment QueueIncident on Incident {
  id category priority state channel description address unitCode reportCount mergedIntoId
  location { lat lng } reportedAt acknowledgedAt dispatchedAt arrivedAt resolvedAt closedAt
  deadlines { acknowledgeBy dispatchBy arriveBy resolveBy escalatedStages }
  assignments { id state unit { id code } }
}`;

const LIST = `query Queue($first: Int!, $after: String, $filter: IncidentFilter) {
  incidents(first: $first, after: $after, filter: $filter) {
    nodes { ...QueueIncident } pageInfo { hasNextPage endCursor } } }
${INCIDENT_FIELDS}`;
const NODES = `query Touched($ids: [ID!]!) { nodes(ids: $ids) { ... on Incident { ...QueueIncident } } }
${INCIDENT_FIELDS}`;
const UNITS = `query Units { units(first: 100) { nodes {
  id code name type readiness unitCode location { lat lng locatedAt } } } }`;
export const LIVE = `subscription Live { incidentEvents {
  id kind at fromState toState state priority category incidentId unitId assignmentState note } }`;

const PRIORITY_RANK = { P1: 1, P2: 2, P3: 3, P4: 4 };
const MAX_LOADED = 2000;
const FEED_SIZE = 60;
const UNIT_KINDS = new Set(['DISPATCHED', 'ASSIGNMENT_UPDATED', 'RESOLVED', 'CLOSED', 'REJECTED', 'MERGED']);

/** Priority first (P1 on top), then age (oldest first), then id for a stable order. */
export function byPriorityThenAge(a, b) {
  return (PRIORITY_RANK[a.priority] - PRIORITY_RANK[b.priority])
    || ((a._t ?? Date.parse(a.reportedAt)) - (b._t ?? Date.parse(b.reportedAt)))
    || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/** Whether an incident passes a console filter ({states, categories, priorities, channels}: empty = any). */
export function matches(incident, filter) {
  const states = filter.states?.length ? filter.states : OPEN_STATES;
  return states.includes(incident.state)
    && (!filter.categories?.length || filter.categories.includes(incident.category))
    && (!filter.priorities?.length || filter.priorities.includes(incident.priority))
    && (!filter.channels?.length || filter.channels.includes(incident.channel));
}

export class IncidentStore extends EventTarget {
  constructor(gql) {
    super();
    this.gql = gql;
    this.incidents = new Map();
    this.units = new Map();
    this.unseen = new Set();
    this.feed = [];
    this.eventsReceived = 0;
    this.filter = { states: [...OPEN_STATES], categories: [], priorities: [], channels: [] };
    this._changed = new Set();
    this._unitsChanged = false;
    this._touched = new Set();
    this._fetching = false;
    this._notify = coalesce(() => this._emit());
    this._unitsTimer = null;
  }

  /** Loads the incidents matching the filter (pages of 100) and the units. */
  async load(filter = this.filter) {
    this.filter = filter;
    const serverFilter = {
      states: filter.states?.length ? filter.states : OPEN_STATES,
      ...(filter.categories?.length ? { categories: filter.categories } : {}),
      ...(filter.priorities?.length ? { priorities: filter.priorities } : {}),
      ...(filter.channels?.length ? { channels: filter.channels } : {}),
    };
    let after = null;
    let loaded = 0;
    for (;;) {
      const data = await this.gql(LIST, { first: 100, after, filter: serverFilter });
      for (const incident of data.incidents.nodes) this._put(incident);
      loaded += data.incidents.nodes.length;
      if (!data.incidents.pageInfo.hasNextPage || loaded >= MAX_LOADED) break;
      after = data.incidents.pageInfo.endCursor;
    }
    await this.loadUnits();
    this._notify();
  }

  async loadUnits() {
    const data = await this.gql(UNITS);
    this.units = new Map(data.units.nodes.map((u) => [u.id, u]));
    this._unitsChanged = true;
    this._notify();
  }

  /** Subscribes to live events through the ws client; returns the function that stops it. */
  live(ws) {
    const stop = ws.subscribe(LIVE, {}, {
      next: (payload) => payload.data && this.applyEvent(payload.data.incidentEvents),
      error: (errors) => console.error('incidentEvents refused', errors),
    });
    const onStatus = (event) => {
      // Back after a disconnection: re-read what may have changed meanwhile.
      if (event.detail.status === 'live' && event.detail.connections > 1) this.load().catch(() => null);
    };
    ws.addEventListener('status', onStatus);
    return () => { stop(); ws.removeEventListener('status', onStatus); };
  }

  /** Applies one live event: what it says at once, then a batched re-read of the incident. */
  applyEvent(event) {
    this.eventsReceived += 1;
    this.feed.unshift(event);
    if (this.feed.length > FEED_SIZE) this.feed.length = FEED_SIZE;
    const known = this.incidents.get(event.incidentId);
    if (known) {
      if (event.state) known.state = event.state;
      if (event.priority) known.priority = event.priority;
      if (event.category) known.category = event.category;
      if (event.assignmentState === 'ON_SCENE' && !known.arrivedAt) known.arrivedAt = event.at;
      known._v = (known._v || 0) + 1;
      this._changed.add(known.id);
    } else {
      this._touched.add(`new:${event.incidentId}`);
    }
    this._touched.add(event.incidentId);
    if (UNIT_KINDS.has(event.kind)) this._scheduleUnits();
    this._scheduleFetch();
    this._notify();
  }

  /** Incidents passing the filter, most urgent first. */
  ordered(filter = this.filter) {
    const out = [];
    for (const incident of this.incidents.values()) if (matches(incident, filter)) out.push(incident);
    return out.sort(byPriorityThenAge);
  }

  markSeen(id) {
    if (this.unseen.delete(id)) this._notify();
  }

  markAllSeen() {
    this.unseen.clear();
    this._notify();
  }

  /** Stores a fresh copy of an incident (e.g. after a mutation) and tells the panels. */
  put(incident) {
    this._put(incident);
    this._notify();
  }

  _put(incident) {
    const previous = this.incidents.get(incident.id);
    incident._v = (previous?._v || 0) + 1;
    incident._t = Date.parse(incident.reportedAt);
    this.incidents.set(incident.id, incident);
    this._changed.add(incident.id);
    if (this.incidents.size > MAX_LOADED * 2) this._forgetClosed();
  }

  _forgetClosed() {
    for (const [id, incident] of this.incidents) {
      if (!OPEN_STATES.includes(incident.state)) this.incidents.delete(id);
    }
  }

  _scheduleFetch() {
    if (this._fetching) return;
    this._fetching = true;
    // A short pause gathers a burst into one request; the report still shows within well under a second.
    setTimeout(() => this._fetchTouched(), 60);
  }

  async _fetchTouched() {
    const fresh = new Set();
    const ids = [];
    for (const key of this._touched) {
      if (key.startsWith('new:')) fresh.add(key.slice(4));
      else ids.push(key);
    }
    this._touched.clear();
    try {
      for (let i = 0; i < ids.length; i += 100) {
        const data = await this.gql(NODES, { ids: ids.slice(i, i + 100) });
        for (const incident of data.nodes) {
          if (!incident || !incident.id) continue;
          const isNew = fresh.has(incident.id) && !this.incidents.has(incident.id);
          this._put(incident);
          if (isNew && OPEN_STATES.includes(incident.state)) {
            this.unseen.add(incident.id);
            this.dispatchEvent(new CustomEvent('arrived', { detail: incident }));
          }
        }
      }
    } catch (error) {
      console.warn('could not re-read incidents', error);
    } finally {
      this._fetching = false;
      if (this._touched.size) this._scheduleFetch();
      this._notify();
    }
  }

  _scheduleUnits() {
    if (this._unitsTimer) return;
    this._unitsTimer = setTimeout(() => {
      this._unitsTimer = null;
      this.loadUnits().catch(() => null);
    }, 500);
  }

  _emit() {
    const detail = { ids: this._changed, units: this._unitsChanged };
    this._changed = new Set();
    this._unitsChanged = false;
    this.dispatchEvent(new CustomEvent('change', { detail }));
  }
}
