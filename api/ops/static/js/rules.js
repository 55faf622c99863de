// A mirror of the incident state machine in api/incidents/rules.py (TRANSITIONS, COMPATIBLE,
// requires_photo_proof). The API has no `allowedActions` field yet, so the console computes which buttons
// to offer from the same table; the server still checks every action. tests/ops/test_rules_mirror.py
// fails when the two tables drift apart.

const OPERATOR = ['dispatcher', 'police', 'admin'];
const DISPATCH = ['dispatcher', 'admin'];
const RESPONDER = ['dispatcher', 'police', 'responder', 'admin'];
const OPEN = ['REPORTED', 'ACKNOWLEDGED', 'DISPATCHED'];

/** Staff actions of the console: who may do them, from which states. (REOPEN, RATE are the reporter's.) */
export const TRANSITIONS = {
  ACKNOWLEDGE: { sources: ['REPORTED'], roles: OPERATOR, requires: [] },
  REJECT: { sources: ['REPORTED', 'ACKNOWLEDGED'], roles: OPERATOR, requires: ['reason'] },
  DISPATCH: { sources: ['ACKNOWLEDGED', 'DISPATCHED'], roles: DISPATCH, requires: ['units'] },
  RESOLVE: { sources: ['ACKNOWLEDGED', 'DISPATCHED'], roles: RESPONDER, requires: ['resolution_note'] },
  CLOSE: { sources: ['RESOLVED'], roles: DISPATCH, requires: [] },
  MERGE: { sources: OPEN, roles: OPERATOR, requires: ['target'] },
  SPLIT: { sources: OPEN, roles: OPERATOR, requires: ['report'] },
};

export const PHOTO_PROOF = ['ENVIRONMENT', 'INFRASTRUCTURE'];

const COMPATIBLE = [
  ['TRAFFIC_ACCIDENT', 'MEDICAL'],
  ['THEFT', 'PUBLIC_ORDER', 'TOURIST_COMPLAINT'],
  ['FIRE', 'MEDICAL'],
];

/** The actions the state machine allows these roles on an incident in `state`, in display order. */
export function allowedActions(state, roles) {
  const have = new Set(roles || []);
  return Object.entries(TRANSITIONS)
    .filter(([, t]) => t.sources.includes(state) && t.roles.some((r) => have.has(r)))
    .map(([action]) => action);
}

/** Whether an incident in `state` is still open. */
export function isOpen(state) { return OPEN.includes(state); }

/** Categories a report of `code` may be attached to (its own included). */
export function compatibleCategories(code) {
  const out = new Set([code]);
  for (const group of COMPATIBLE) if (group.includes(code)) group.forEach((c) => out.add(c));
  return out;
}

const ASSIGNMENT_ORDER = ['ASSIGNED', 'EN_ROUTE', 'ON_SCENE', 'CLEARED'];

/** The steps a unit may still take from `current` (forward only, steps may be skipped). */
export function nextAssignmentStates(current) {
  return ASSIGNMENT_ORDER.slice(ASSIGNMENT_ORDER.indexOf(current) + 1);
}
