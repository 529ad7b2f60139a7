import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
await tf.setBackend('cpu');
const a = tf.zeros([2,1,1,0]); const b = tf.zeros([1,1,0,1]);
const c = tf.matMul(a,b); console.log(c.shape, c.dataSync().length);
