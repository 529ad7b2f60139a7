// Bundled by Vite from the installed @efficientscale/core tarball; a forward pass of the tiny preset on
// tfjs's cpu backend, its logits left on window for the test to compare with Node's.
import { forward, getPreset, initParams, selectBackend, tf } from '@efficientscale/core';

try {
  await selectBackend('cpu');
  const { config } = getPreset('tiny');
  const logits = forward(config, initParams(config, 7), tf.tensor2d([[72, 105, 33, 10]], [1, 4], 'int32'));
  window.result = { shape: logits.shape, values: Array.from(await logits.data()) };
} catch (err) {
  window.result = { error: String(err && err.stack ? err.stack : err) };
}
