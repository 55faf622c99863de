// Display helpers over the incident reference data (api/incidents/rules.py: OPEN_STATES, COMPATIBLE), used to
// sort and suggest, never to decide: which actions a user may take comes from the API (`allowedActions`,
// `allowedStates`), and the server checks every action again.

const OPEN = ['REPORTED', 'ACKNOWLEDGED', 'DISPATCHED'];

const COMPATIBLE = [
  ['TRAFFIC_ACCIDENT', 'MEDICAL'],
  ['THEFT', 'PUBLIC_ORDER', 'TOURIST_COMPLAINT'],
  ['FIRE', 'MEDICAL'],
];

/** Whether an incident in `state` is still open. */
export function isOpen(state) { return OPEN.includes(state); }

/** Categories a report of `code` may be attached to (its own included): to rank nearby incidents. */
export function compatibleCategories(code) {
  const out = new Set([code]);
  for (const group of COMPATIBLE) if (group.includes(code)) group.forEach((c) => out.add(c));
  return out;
}
