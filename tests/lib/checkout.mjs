// Git fixtures for update tests: a bare "origin" made from the current source
// tree (the work tree as it is, so a CI clone and a developer's tree with
// edits both test what they hold), a seed clone to push new commits from,
// and checkouts cloned from origin and built like an instance's.
import { execFileSync, spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { sourceDir } from "./process.mjs";

export const gitEnv = {
  GIT_AUTHOR_NAME: "Update Test",
  GIT_AUTHOR_EMAIL: "update-test@example.com",
  GIT_COMMITTER_NAME: "Update Test",
  GIT_COMMITTER_EMAIL: "update-test@example.com",
  GIT_TERMINAL_PROMPT: "0",
  GIT_CONFIG_NOSYSTEM: "1",
};

/** Runs git synchronously in cwd; returns its trimmed stdout. */
export function git(cwd, ...args) {
  return execFileSync("git", args, { cwd, env: { ...process.env, ...gitEnv }, stdio: ["ignore", "pipe", "pipe"] })
    .toString().trim();
}

/** Files of the source tree: git's view (tracked and untracked, not ignored) or, without git, a walk. */
function sourceFiles() {
  try {
    const listed = execFileSync("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], { cwd: sourceDir })
      .toString().split("\0").filter(Boolean);
    return [...new Set(listed)].filter((f) => fs.existsSync(path.join(sourceDir, f)));
  } catch {
    const skip = /^(build[^/]*|var|\.git|node_modules|bench\/results)$/;
    const walk = (dir) => fs.readdirSync(path.join(sourceDir, dir), { withFileTypes: true }).flatMap((e) => {
      const rel = path.join(dir, e.name);
      if (skip.test(rel) || e.name === "node_modules") return [];
      return e.isDirectory() ? walk(rel) : [rel];
    });
    return walk("");
  }
}

/**
 * Creates <root>/seed (a repository holding the current tree as one commit)
 * and <root>/origin.git (a bare clone of it). Returns { seed, origin, commit }:
 * commit(message, change) applies change(seedDir), commits, pushes, and
 * returns the new hash.
 */
export function makeOrigin(root) {
  const seed = path.join(root, "seed");
  const origin = path.join(root, "origin.git");
  for (const file of sourceFiles()) {
    const target = path.join(seed, file);
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.cpSync(path.join(sourceDir, file), target, { dereference: false });
  }
  git(seed, "init", "-q", "-b", "main");
  git(seed, "add", "-A");
  git(seed, "commit", "-q", "-m", "snapshot of the tree under test");
  git(root, "clone", "-q", "--bare", seed, origin);
  git(seed, "remote", "add", "origin", origin);
  return {
    seed,
    origin,
    commit(message, change) {
      change(seed);
      git(seed, "add", "-A");
      git(seed, "commit", "-q", "-m", message);
      git(seed, "push", "-q", "origin", "main");
      return git(seed, "rev-parse", "HEAD");
    },
  };
}

/** Runs a command; resolves with its output, rejects with it on failure. */
function run(file, args, { cwd, timeoutMs = 900000 } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { cwd, env: process.env, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (d) => { output += d; });
    child.stderr.on("data", (d) => { output += d; });
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(output);
      else reject(new Error(`${file} ${args.join(" ")} failed (${code ?? signal}):\n${output.slice(-4000)}`));
    });
  });
}

function hasNinja() {
  try { execFileSync("ninja", ["--version"], { stdio: "ignore" }); return true; } catch { return false; }
}

/** The binaries an instance runs: the only targets its updater builds too. */
export const instanceTargets = ["payments-master", "payments-worker", "payments", "payments-updater"];

/**
 * Clones origin into dir and builds it the way an instance is built: RelWithDebInfo,
 * no sanitizers, only the binaries that run. Returns { dir, build, bin(name) }.
 */
export async function cloneAndBuild(origin, dir) {
  git(path.dirname(dir), "clone", "-q", origin, dir);
  const build = path.join(dir, "build");
  const generator = hasNinja() ? ["-G", "Ninja"] : [];
  await run("cmake", ["-S", dir, "-B", build, "-DCMAKE_BUILD_TYPE=RelWithDebInfo", "-DPAYMENTS_SANITIZE=OFF",
    "-DPAYMENTS_WERROR=OFF", ...generator]);
  await run("cmake", ["--build", build, "--parallel", "2", "--target", ...instanceTargets]);
  return { dir, build, bin: (name) => path.join(build, "bin", name) };
}
