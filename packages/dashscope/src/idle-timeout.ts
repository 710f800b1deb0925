export type WaitPhase = 'first byte' | 'next event' | 'response body';

/**
 * Aborts a controller when the upstream stays silent for `ms`. Armed only while we wait on DashScope and paused
 * while the consumer holds a chunk, so a slow consumer (backpressure) never looks like a silent upstream.
 */
export class IdleTimeout {
  readonly #ms: number;
  readonly #controller: AbortController;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #firedIn: WaitPhase | undefined;

  constructor(ms: number, controller: AbortController) {
    this.#ms = ms;
    this.#controller = controller;
  }

  get ms(): number {
    return this.#ms;
  }

  /** The phase we were waiting in when the timeout fired, if it did. */
  get firedIn(): WaitPhase | undefined {
    return this.#firedIn;
  }

  arm(phase: WaitPhase): void {
    this.pause();
    this.#timer = setTimeout(() => {
      this.#firedIn = phase;
      this.#controller.abort(new DOMException(`no ${phase} within ${this.#ms} ms`, 'TimeoutError'));
    }, this.#ms);
  }

  pause(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
