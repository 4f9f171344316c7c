// The Probot baseline (server.mjs) in WORKERS processes (default: one per CPU) sharing one port
// through node:cluster, the usual way to use more than one core with Node. The primary forks the
// workers and hands them the connections (round-robin); each worker runs server.mjs unchanged.
import cluster from "node:cluster";
import { availableParallelism } from "node:os";

if (cluster.isPrimary) {
  const workers = Number(process.env.WORKERS || availableParallelism());
  for (let i = 0; i < workers; i++) cluster.fork();
  let stopping = false;
  cluster.on("exit", (worker, code) => {
    if (!stopping) {
      console.error(`probot cluster: worker ${worker.process.pid} exited (${code}); stopping`);
      process.exit(1);
    }
  });
  for (const signal of ["SIGINT", "SIGTERM"]) {
    process.on(signal, () => {
      stopping = true;
      for (const worker of Object.values(cluster.workers)) worker.process.kill("SIGTERM");
      setTimeout(() => process.exit(0), 200);
    });
  }
} else {
  await import("./server.mjs");
}
