// The same forward pass in Node, from the same installed package, for the browser check to compare with.
import { forward, getPreset, initParams, selectBackend, tf } from '@efficientscale/core';

await selectBackend('cpu');
const { config } = getPreset('tiny');
const logits = forward(config, initParams(config, 7), tf.tensor2d([[72, 105, 33, 10]], [1, 4], 'int32'));
process.stdout.write(JSON.stringify({ shape: logits.shape, values: Array.from(await logits.data()) }));
