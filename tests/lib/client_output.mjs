// Runs a client command (`payments call`, `payments fake`, a shell running
// README's commands) whose stdout is what a server answered: the vendor's
// document as the fake sent it (a whole test card number), a billing key.
// That is a client's output, not a log, so only stderr (status lines and
// errors, which must hold no secret) goes to the test logs that
// integration/log_secrets searches.
import { spawn } from "node:child_process";

import { keepLog } from "./test_logs.mjs";

/** Resolves {code, stdout, stderr}; the process is killed after timeoutMs. */
export function runClient(file, args, { env = {}, cwd, timeoutMs = 60000 } = {}) {
  return new Promise((resolve) => {
    const child = spawn(file, args, { env: { ...process.env, ...env }, cwd, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => { stdout += d; });
    child.stderr.on("data", (d) => { stderr += d; });
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      keepLog("client", stderr);
      resolve({ code: code ?? `signal ${signal}`, stdout, stderr });
    });
  });
}
