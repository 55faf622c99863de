// Small DOM and formatting helpers shared by every panel (no framework: plain elements).

export const SVG_NS = 'http://www.w3.org/2000/svg';

/** Builds an element: h('button', {class: 'x', onclick: fn, dataset: {id: 1}}, 'text', child). */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  setAttrs(el, attrs);
  append(el, children);
  return el;
}

/** Builds an SVG element with attributes. */
export function s(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  setAttrs(el, attrs);
  append(el, children);
  return el;
}

function setAttrs(el, attrs) {
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value);
    else if (key === 'dataset') Object.assign(el.dataset, value);
    else if (key === 'text') el.textContent = value;
    else el.setAttribute(key, value === true ? '' : String(value));
  }
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** "4:05", "1:02:03" or "-0:12" for a number of seconds. */
export function clock(seconds) {
  const sign = seconds < 0 ? '-' : '';
  let rest = Math.abs(Math.trunc(seconds));
  const hours = Math.floor(rest / 3600);
  rest -= hours * 3600;
  const minutes = Math.floor(rest / 60);
  const secs = String(rest % 60).padStart(2, '0');
  return hours ? `${sign}${hours}:${String(minutes).padStart(2, '0')}:${secs}` : `${sign}${minutes}:${secs}`;
}

/** "3 phút", "2 h" style short durations for ages and response times. */
export function shortDuration(seconds) {
  if (seconds === null || seconds === undefined) return '—';
  const s = Math.max(0, seconds);
  if (s < 90) return `${Math.round(s)} s`;
  if (s < 90 * 60) return `${Math.round(s / 60)} min`;
  if (s < 48 * 3600) return `${(s / 3600).toFixed(1)} h`;
  return `${(s / 86400).toFixed(1)} d`;
}

/** Calls fn at most once per animation frame (or once per `ms` when the tab is hidden). */
export function coalesce(fn, ms = 100) {
  let pending = false;
  return () => {
    if (pending) return;
    pending = true;
    const run = () => { pending = false; fn(); };
    if (document.hidden) setTimeout(run, ms);
    else requestAnimationFrame(run);
  };
}

/** The numeric part of a relay global id ("SW5jaWRlbnQ6NDI=" -> "42"), for short display. */
export function shortId(globalId) {
  try {
    const decoded = atob(globalId);
    const i = decoded.indexOf(':');
    return i >= 0 ? decoded.slice(i + 1) : globalId;
  } catch {
    return globalId;
  }
}

/** A relay global id for a type and a database key. */
export function globalId(type, pk) {
  return btoa(`${type}:${pk}`);
}
