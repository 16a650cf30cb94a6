/** `work`, or undefined once `ms` have passed without it, whichever comes first. */
export function atMost<T>(work: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const waited = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
  });
  return Promise.race([work, waited]).finally(() => clearTimeout(timer));
}
