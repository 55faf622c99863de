// Which deadline an incident is racing now, and how close it is: amber near the end, red once missed.

/** The stage and time of the deadline the incident's state is waiting on (null when none is pending). */
export function nextDeadline(incident) {
  const d = incident.deadlines || {};
  switch (incident.state) {
    case 'REPORTED': return { stage: 'ACKNOWLEDGE', at: d.acknowledgeBy };
    case 'ACKNOWLEDGED': return { stage: 'DISPATCH', at: d.dispatchBy };
    case 'DISPATCHED':
      return incident.arrivedAt ? { stage: 'RESOLVE', at: d.resolveBy } : { stage: 'ARRIVE', at: d.arriveBy };
    default: return null;
  }
}

/**
 * {stage, remaining (s), level}: 'red' once the deadline has passed, 'amber' in the last quarter of the
 * time allowed (at least the last minute), 'ok' before.
 */
export function urgency(incident, now = Date.now()) {
  const next = nextDeadline(incident);
  if (!next || !next.at) return null;
  const at = Date.parse(next.at);
  const remaining = (at - now) / 1000;
  const allowed = (at - Date.parse(incident.reportedAt)) / 1000;
  let level = 'ok';
  if (remaining <= 0) level = 'red';
  else if (remaining <= Math.max(60, allowed * 0.25)) level = 'amber';
  return { stage: next.stage, remaining, level };
}
