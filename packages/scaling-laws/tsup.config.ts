import { packageBuild } from '../../tsup.config.base';

// Two entries: the numerics (no `node:` imports, bundles for a browser) and `/node` (file reading), which
// imports the first by the package's own name, so that CommonJS users get one copy of its code.
export default packageBuild({ entry: ['src/index.ts', 'src/node.ts'], external: ['@efficientscale/scaling-laws'] });
