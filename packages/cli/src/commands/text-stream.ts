import { TextDecoder } from 'node:util';
import type { Tokenizer } from '@efficientscale/core';

/**
 * Writes generated text as it comes, token by token. A byte-level tokenizer's tokens go through a
 * streaming UTF-8 decoder, which holds a character split across tokens until its last byte, so the
 * pieces add up to the decoding of all the tokens exactly. Other tokenizers (a SentencePiece "▁" decodes
 * differently at the start of a text) decode all the tokens so far, and the new text is written once the
 * text before it is unchanged and it holds no U+FFFD from a character still arriving (at most 4 tokens).
 */
export class TextStream {
  private readonly bytes?: TextDecoder;
  private ids: number[] = [];
  private shown = '';
  private shownAt = 0;

  constructor(
    private readonly tokenizer: Tokenizer,
    private readonly write: (text: string) => void,
  ) {
    if (tokenizer.tokenBytes) this.bytes = new TextDecoder('utf-8');
  }

  push(id: number): void {
    if (this.bytes) {
      const text = this.bytes.decode(this.tokenizer.tokenBytes!(id), { stream: true });
      if (text) this.write(text);
      return;
    }
    this.ids.push(id);
    const text = this.tokenizer.decode(this.ids);
    const settling = this.ids.length - this.shownAt < 4 && text.includes('\ufffd', this.shown.length);
    if (text.startsWith(this.shown) && !settling) this.show(text);
  }

  /** Writes what is still held (an unfinished character at the very end). */
  end(): void {
    if (this.bytes) {
      const text = this.bytes.decode();
      if (text) this.write(text);
    } else this.show(this.tokenizer.decode(this.ids));
  }

  private show(text: string): void {
    if (text.length > this.shown.length) this.write(text.slice(this.shown.length));
    this.shown = text;
    this.shownAt = this.ids.length;
  }
}
