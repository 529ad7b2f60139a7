// The Node-only part of the package: reading datasets from files and run directories. Kept out of the main
// entry so that `@efficientscale/scaling-laws` itself imports no `node:` module and bundles for a browser.
export { readDataset, unreadableFile } from './read.js';
export { readRunCurve } from './read-curve.js';
export { metricsFilesOf, type RunMetricsFile } from './runs.js';
