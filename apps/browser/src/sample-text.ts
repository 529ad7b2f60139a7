/** Text to train on when none is given: a few paragraphs about the page itself, enough bytes for short runs. */
export const SAMPLE_TEXT = `A language model reads text one token at a time and learns to guess the next one. This page trains a small one on your graphics card through WebGPU, in the browser, with nothing sent anywhere.

Training a large model from scratch costs a great deal of compute. Much of that cost can be saved by starting small: train a narrow, shallow model first, then grow it wider and deeper in a way that keeps what it has learned, and keep training the bigger model. Growing is function-preserving: the grown model gives the same outputs as the small one at the moment it is grown, so no training is lost.

Another way to grow is to turn each feed-forward block into a mixture of experts. Every expert starts as a copy of the dense block, and a router picks a few experts for each token. The model gains capacity while each token still pays for only a few experts.

When you are done, download the model as a Hugging Face directory: a configuration file, the weights as safetensors, and the tokenizer. The command line tool reads it back, evaluates it, and keeps training it.

`.repeat(6);
