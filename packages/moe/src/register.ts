import { registerFfnKind } from '@efficientscale/core';
import { moeFfn } from './moe-ffn.js';

// Importing the package makes the `moe` FFN kind available to core's forward pass, checks and FLOPs.
registerFfnKind(moeFfn);
