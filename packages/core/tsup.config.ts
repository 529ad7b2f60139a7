import { packageBuild } from '../../tsup.config.base';

// The .d.ts bundle drops type-only imports; this one carries the chained ops' types (x.add(y)) that
// core installs at run time, so consumers type-check them too.
const CHAINED_OPS_TYPES = "import '@tensorflow/tfjs-core/dist/public/chained_ops/register_all_chained_ops';";

export default packageBuild({ dts: { footer: CHAINED_OPS_TYPES } });
