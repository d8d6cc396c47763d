// A load generator for zero-downtime tests: a few loops per target, each on a
// keep-alive agent, sending requests back to back and counting every answer
// that is not a 200 and every connection error. Bounded by a duration and a
// request count, so a test that forgets to stop it still ends.
import http from "node:http";
import { request } from "./server.mjs";

const connectionCodes = new Set(["ECONNRESET", "ECONNREFUSED", "EPIPE", "ETIMEDOUT", "ECONNABORTED"]);

/**
 * Starts loops against every url of every target ({ name, urls }).
 * Returns { stop() } resolving with
 * { ok, failures: [{target, url, what}], connectionErrors, perTarget: {name: ok} }.
 */
export function startLoad(targets, { loopsPerTarget = 2, maxMs = 900000, maxRequests = 10_000_000, timeoutMs = 30000 } = {}) {
  const startedAt = Date.now();
  const result = { ok: 0, failures: [], connectionErrors: 0, perTarget: {} };
  let running = true;
  let sent = 0;
  const agents = [];
  const loop = async (target, agent, index) => {
    for (let i = index; running && sent < maxRequests && Date.now() - startedAt < maxMs; i++) {
      const url = target.urls[i % target.urls.length];
      sent++;
      try {
        const res = await request(url, { agent, timeout: timeoutMs });
        if (res.status === 200) {
          result.ok++;
          result.perTarget[target.name] = (result.perTarget[target.name] ?? 0) + 1;
        } else {
          result.failures.push({ target: target.name, url, what: `status ${res.status}: ${res.body.slice(0, 200)}` });
        }
      } catch (e) {
        if (connectionCodes.has(e.code) || /socket hang up/.test(e.message)) result.connectionErrors++;
        result.failures.push({ target: target.name, url, what: `${e.code ?? ""} ${e.message}` });
      }
    }
  };
  const loops = targets.flatMap((target) => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: loopsPerTarget });
    agents.push(agent);
    return Array.from({ length: loopsPerTarget }, (_, i) => loop(target, agent, i));
  });
  return {
    snapshot: () => ({ ...result, failures: [...result.failures] }),
    async stop() {
      running = false;
      await Promise.all(loops);
      for (const agent of agents) agent.destroy();
      return result;
    },
  };
}
