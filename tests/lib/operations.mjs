// Helpers of the money-safety tests: our server's operations as an operator
// sees them (GET /payments/internal/operations, on the operators' listener),
// the notifications our test
// receiver kept for a history, and the serving worker's pid.
import assert from "node:assert/strict";

import { fakeStats } from "./fakes.mjs";
import { waitFor } from "./process.mjs";
import { decryptBody, request } from "./server.mjs";

/** The operations of server in state (all when omitted), newest first. */
export async function listOperations(server, state) {
  const query = state ? `?state=${state}` : "";
  const res = await request(server.adminUrl(`/payments/internal/operations${query}`), {
    headers: { Authorization: `Bearer ${server.env.PAYMENT_SYSTEM_PASSWORD}` },
  });
  assert.equal(res.status, 200, res.body);
  return JSON.parse(res.body);
}

/** The operations on one vendor payment, newest first. */
export async function operationsOf(server, vendorUid) {
  return (await listOperations(server)).filter((o) => o.vendor_uid === vendorUid);
}

/** How many notifications our test receiver kept for a history. */
export async function notificationCount(server, historyId) {
  const res = await request(server.url(`/payments/internal/webhook?history_id=${historyId}`));
  assert.equal(res.status, 200, res.body);
  return (await decryptBody(res.body, server.env)).length;
}

/** The pid of the server's only ready worker. */
export async function workerPid(server) {
  const pids = await server.readyPids();
  assert.equal(pids.length, 1, `ready workers: ${pids}`);
  return pids[0];
}

/** Kills server's only worker (SIGKILL) once counter grew at fake beyond
 * start (the fake's stats before), then waits for its successor. */
export async function killWorkerWhen(server, fake, counter, start) {
  await waitFor(async () => (await fakeStats(fake))[counter] > start[counter], 10_000, `the ${counter} effect`);
  const pid = await workerPid(server);
  process.kill(pid, "SIGKILL");
  await waitFor(async () => {
    const pids = await server.readyPids();
    return pids.length === 1 && pids[0] !== pid;
  }, 20_000, "the respawned worker");
}
