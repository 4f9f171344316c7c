// Minimal Probot 14 app: the baseline for benchmarks/webhook_ingest.
// createNodeMiddleware on a plain node:http server, one issues.labeled handler that does nothing.
// Settings come from the environment, like component-bot: APP_ID, PRIVATE_KEY, WEBHOOK_SECRET,
// LOG_LEVEL (default warn), PORT, HOST.
import { createServer } from "node:http";
import { createNodeMiddleware, createProbot } from "probot";

const appFn = (app) => {
  app.on("issues.labeled", async () => {});
};

const probot = createProbot();
const middleware = await createNodeMiddleware(appFn, { probot });

const server = createServer((req, res) => {
  if (req.method === "GET" && req.url === "/healthz") {
    res.writeHead(200, { "content-type": "application/json" });
    res.end('{"status":"ok"}');
    return;
  }
  middleware(req, res, () => {
    res.writeHead(404);
    res.end();
  });
});

const host = process.env.HOST || "127.0.0.1";
const port = Number(process.env.PORT || 3000);
server.listen(port, host, () => {
  console.error(`probot baseline listening on http://${host}:${port}/api/github/webhooks`);
});
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
