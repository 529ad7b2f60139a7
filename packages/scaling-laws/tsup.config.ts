import { packageBuild } from '../../tsup.config.base';

// Two entries: the numerics (no `node:` imports, bundles for a browser) and `/node` (file reading).
export default packageBuild({ entry: ['src/index.ts', 'src/node.ts'] });
