/** One request waiting for its batch, with how to answer its caller. */
interface Waiting<Req, Res> {
  req: Req;
  resolve: (res: Res) => void;
  reject: (err: unknown) => void;
}

/**
 * Requests of one kind served in batches, one batch at a time: a request that finds nothing
 * being served is served at once and alone, so batching adds no wait; those that arrive while
 * a batch is served wait and go together in the next, up to `max`. With `gather`, a request
 * that finds nothing served waits for the rest of its turn of the event loop's microtasks, so
 * requests made together (a loop over several) start in one batch. `serve` answers a batch's
 * requests in their order; a batch that fails fails each of its requests with that error.
 */
export class Batcher<Req, Res> {
  private readonly queue: Waiting<Req, Res>[] = [];
  private serving = false;

  constructor(
    private readonly serve: (reqs: Req[]) => Promise<Res[]>,
    private readonly max: number,
    private readonly gather = false,
  ) {}

  submit(req: Req): Promise<Res> {
    return new Promise<Res>((resolve, reject) => {
      this.queue.push({ req, resolve, reject });
      if (!this.serving) void this.pump();
    });
  }

  private async pump(): Promise<void> {
    this.serving = true;
    try {
      if (this.gather) await Promise.resolve();
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, this.max);
        try {
          const answers = await this.serve(batch.map((w) => w.req));
          batch.forEach((w, i) => {
            const answer = answers[i];
            if (answer === undefined) w.reject(new Error('a batch left a request unanswered'));
            else w.resolve(answer);
          });
        } catch (err) {
          for (const w of batch) w.reject(err);
        }
      }
    } finally {
      this.serving = false;
    }
  }
}
