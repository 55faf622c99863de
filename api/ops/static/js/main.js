// Entry point: registers the panels, then the <ops-app> shell takes over the page.
import './panels/index.js';
import './app.js';
