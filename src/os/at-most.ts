/** `work`, or undefined once `ms` have passed without it, whichever comes first. */
export function atMost<T>(work: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const waited = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
  });
  return Promise.race([work, waited]).finally(() => clearTimeout(timer));
}

/** Resolves once `done()` holds, looked at every `everyMs`, or once `ms` have passed. */
export async function until(done: () => boolean, ms: number, everyMs = 10): Promise<void> {
  const deadline = Date.now() + ms;
  while (!done() && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}
