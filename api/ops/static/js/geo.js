// Web-Mercator projection (so optional map tiles line up), distances, and the offline island outline.

const R = 6371008.8;

/** Great-circle distance in metres (same formula as rules.haversine_m). */
export function haversine(lat1, lng1, lat2, lng2) {
  const rad = Math.PI / 180;
  const dp = (lat2 - lat1) * rad;
  const dl = (lng2 - lng1) * rad;
  const a = Math.sin(dp / 2) ** 2 + Math.cos(lat1 * rad) * Math.cos(lat2 * rad) * Math.sin(dl / 2) ** 2;
  return 2 * R * Math.asin(Math.min(1, Math.sqrt(a)));
}

/** Mercator x, y in 0..1 for the whole world (the tile scheme's coordinates). */
export function mercator(lat, lng) {
  const x = (lng + 180) / 360;
  const rad = (lat * Math.PI) / 180;
  const y = (1 - Math.log(Math.tan(rad) + 1 / Math.cos(rad)) / Math.PI) / 2;
  return [x, y];
}

/** Lat/lng of a mercator x, y (0..1). */
export function unmercator(x, y) {
  const lng = x * 360 - 180;
  const n = Math.PI - 2 * Math.PI * y;
  const lat = (180 / Math.PI) * Math.atan(0.5 * (Math.exp(n) - Math.exp(-n)));
  return [lat, lng];
}

/** A view onto a lat/lng box, drawn into a width x height SVG user space. */
export class View {
  constructor(box, width, height) {
    const [x0, y0] = mercator(box.north, box.west);
    const [x1, y1] = mercator(box.south, box.east);
    this.scale = Math.min(width / (x1 - x0), height / (y1 - y0));
    // Centre the box in the drawing.
    this.ox = x0 - (width / this.scale - (x1 - x0)) / 2;
    this.oy = y0 - (height / this.scale - (y1 - y0)) / 2;
    this.width = width;
    this.height = height;
  }

  project(lat, lng) {
    const [x, y] = mercator(lat, lng);
    return [(x - this.ox) * this.scale, (y - this.oy) * this.scale];
  }

  invert(px, py) {
    return unmercator(px / this.scale + this.ox, py / this.scale + this.oy);
  }
}

// The views: the main island (with the An Thới islets) and the Thổ Châu inset.
export const BOXES = {
  all: { north: 10.47, south: 9.92, west: 103.82, east: 104.10 },
  north: { north: 10.47, south: 10.17, west: 103.82, east: 104.10 },
  south: { north: 10.2, south: 9.92, west: 103.9, east: 104.1 },
  thoChau: { north: 9.335, south: 9.275, west: 103.41, east: 103.515 },
};

let outline = null;

/** The island outline (own approximate data), fetched once from this server. */
export function loadOutline() {
  outline ??= fetch('/ops/static/phu-quoc.geojson').then((r) => r.json());
  return outline;
}
