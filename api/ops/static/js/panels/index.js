// Every panel module registers itself on import. A new domain's panel: add its module here.
import './queue.js';
import './map.js';
import './detail.js';
import './hotline.js';
import './chart.js';
import './counters.js';
import './units.js';
import './feed.js';
import './clock.js';
