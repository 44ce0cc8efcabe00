import type { FullConfig } from '@playwright/test';

// cargo-leptos spawns the server just before it runs Playwright, so wait
// until the server answers GET /healthz with 200 (up to 120 s).
const HEALTH_URL = 'http://127.0.0.1:3000/healthz';
const DEADLINE_MS = 120_000;

export default async function globalSetup(_config: FullConfig): Promise<void> {
  const start = Date.now();
  let last = 'no attempt yet';
  while (Date.now() - start < DEADLINE_MS) {
    try {
      const res = await fetch(HEALTH_URL, { signal: AbortSignal.timeout(5_000) });
      if (res.status === 200) {
        console.log(`server healthy after ${((Date.now() - start) / 1000).toFixed(1)}s`);
        return;
      }
      last = `HTTP ${res.status}`;
    } catch (err) {
      last = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error(`server not healthy at ${HEALTH_URL} after ${DEADLINE_MS / 1000}s (last: ${last})`);
}
