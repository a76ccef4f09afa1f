/**
 * The rate limits of the GitHub API double (`github_api.ts`): the
 * `x-ratelimit-*` headers of every answer, and the refusals a
 * {@linkcode RateLimitPlan} asks for, by the 1-based index of the request.
 *
 * - primary: 403 with `x-ratelimit-remaining: 0` and a reset ahead;
 * - secondary: 429 with `retry-after`;
 * - secondary, bare: 403 "secondary rate limit" with neither header.
 *
 * With `enforce`, every request before the primary reset or the end of the
 * `retry-after` is refused the same way, as GitHub does.
 *
 * @module
 */

import type { RateLimitPlan } from "./github_api.ts";

/** What the limits say about one request. */
export interface RateVerdict {
  /** The `x-ratelimit-*` headers to send. */
  headers: Record<string, string>;
  /** A refusal to send instead of the answer, if any. */
  refusal?: {
    status: number;
    message: string;
    headers: Record<string, string>;
  };
}

/**
 * Makes the rate limiter of a double.
 *
 * @param plan Which requests are refused, and how.
 * @returns A function to call once per API request, in arrival order.
 */
export function rateLimiter(plan: RateLimitPlan): () => RateVerdict {
  let used = 0;
  // Until when (epoch ms) each limit refuses every request (`enforce`).
  const blocked = { primary: 0, secondary: 0 };
  return () => {
    const n = ++used;
    const now = Date.now();
    const reset = Math.ceil(now / 1000) + (plan.resetSeconds ?? 1);
    const headers: Record<string, string> = {
      "x-ratelimit-limit": "1000",
      "x-ratelimit-remaining": String(Math.max(0, 1000 - n)),
      "x-ratelimit-used": String(n),
      "x-ratelimit-reset": String(reset),
      "x-ratelimit-resource": "core",
      "x-github-api-version-selected": "2022-11-28",
    };
    const primaryHit = plan.primary?.includes(n) ?? false;
    if (primaryHit && plan.enforce) blocked.primary = reset * 1000;
    if (primaryHit || now < blocked.primary) {
      const until = primaryHit ? reset : Math.ceil(blocked.primary / 1000);
      return {
        headers,
        refusal: {
          status: 403,
          message: "API rate limit exceeded for installation.",
          headers: {
            ...headers,
            "x-ratelimit-remaining": "0",
            "x-ratelimit-reset": String(until),
          },
        },
      };
    }
    const secondaryHit = plan.secondary?.includes(n) ?? false;
    if (secondaryHit || now < blocked.secondary) {
      const seconds = secondaryHit
        ? plan.retryAfterSeconds ?? 1
        : Math.ceil((blocked.secondary - now) / 1000);
      if (secondaryHit && plan.enforce) {
        // A little slack: the client's timer and our clock differ by a tick.
        blocked.secondary = now + seconds * 1000 - 50;
      }
      return {
        headers,
        refusal: {
          status: 429,
          message: "You have exceeded a secondary rate limit.",
          headers: { ...headers, "retry-after": String(seconds) },
        },
      };
    }
    if (plan.secondaryBare?.includes(n)) {
      return {
        headers,
        refusal: {
          status: 403,
          message: "You have exceeded a secondary rate limit.",
          headers,
        },
      };
    }
    return { headers };
  };
}
