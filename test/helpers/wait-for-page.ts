import assert from 'node:assert/strict';

/**
 * Poll the demo page's state until `condition` holds; fail at once with the page's own errors, or
 * after `seconds`. Shared by the browser tests, whose page states all carry `errors`.
 */
export async function waitForPage<S extends { readonly errors: readonly string[] }>(
  read: () => Promise<S>,
  what: string,
  condition: (s: S) => boolean,
  seconds: number,
  pollMs = 100,
): Promise<S> {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const s = await read();
    if (s.errors.length > 0) assert.fail(`the page reported: ${s.errors.join('; ')} (while waiting for ${what})`);
    if (condition(s)) return s;
    if (Date.now() > deadline) assert.fail(`timed out after ${seconds} s waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}
