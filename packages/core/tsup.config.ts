import { packageBuild } from '../../tsup.config.base';

// The .d.ts bundle drops type-only imports; this one carries the chained ops' types (x.add(y)) that
// core installs at run time, so consumers type-check them too.
const CHAINED_OPS_TYPES = "import '@tensorflow/tfjs-core/dist/public/chained_ops/register_all_chained_ops.js';";

// Two entries: the browser-safe main entry and `/node` (files, runs, corpus), which re-exports the first.
// Code splitting in both formats puts their shared code in one chunk, so a process that loads both gets
// one copy of it (one UserError class, one FFN registry, one tfjs set-up).
export default packageBuild({ entry: ['src/index.ts', 'src/node.ts'], splitting: true, dts: { footer: CHAINED_OPS_TYPES } });
