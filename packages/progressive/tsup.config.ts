import { packageBuild } from '../../tsup.config.base';

// Two entries, as in core: the browser-safe main entry and `/node` (checkpoint directories), which
// re-exports the first; splitting gives both one copy of the shared code.
export default packageBuild({ entry: ['src/index.ts', 'src/node.ts'], splitting: true });
