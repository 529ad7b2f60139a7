// The Node-only part of progressive: growth of checkpoint directories. Re-exports the browser-safe main entry.
export * from './index.js';
export { growCheckpoint, type GrowReport } from './grow-checkpoint.js';
