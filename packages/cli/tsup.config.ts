import { packageBuild } from '../../tsup.config.base';

export default [
  packageBuild(),
  // The executable: ESM only, with a shebang; it imports the library build above at run time.
  packageBuild({ entry: ['src/bin.ts'], format: ['esm'], dts: false, clean: false, banner: { js: '#!/usr/bin/env node' } }),
];
