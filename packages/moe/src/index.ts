import { registerFfnKind } from '@efficientscale/core';
import { moeFfn } from './moe-ffn.js';

// Importing the package makes the `moe` FFN kind available to core's forward pass, checks and FLOPs.
registerFfnKind(moeFfn);

export { moeFfn };
export { moeSettings, routerWeight, expertWeight, sharedWeight, type MoeSettings, type RoutingMode } from './moe-config.js';
export { topKIndices, routingWeights, loadBalancingLoss, routerZLoss } from './routing.js';
export { dispatch, expertForward, type ExpertWeights } from './dispatch.js';
