// Cloud Run's request timeout (a service's --timeout): the whole answer must arrive within it. One native timer
// per request, cleared when the answer is done, passed to undici as its abort signal. undici's own headers and
// body timeouts are left off: on a keep-alive socket they alternate with the keep-alive timer, which makes undici
// create a timer per request that outlives it by up to a second, and every one of those reached the old
// generation, making the front end's garbage collections longer and more frequent.
import { EventEmitter } from "node:events";

export class RequestDeadline extends EventEmitter {
  /** Read by undici: an aborted signal ends the request. */
  aborted = false;
  private readonly timer: NodeJS.Timeout;

  constructor(timeoutMs: number) {
    super();
    this.timer = setTimeout(() => {
      this.aborted = true;
      this.emit("abort");
    }, timeoutMs);
    this.timer.unref();
  }

  /** True once the timeout has passed. */
  get expired(): boolean {
    return this.aborted;
  }

  clear(): void {
    clearTimeout(this.timer);
  }
}
