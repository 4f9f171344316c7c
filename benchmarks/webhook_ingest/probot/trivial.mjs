// A server that does nothing but answer 202: used only to check that the load generator is not
// the bottleneck (it must reach well past the benchmark's rates against this).
import { createServer } from "node:http";

const port = Number(process.env.PORT || 3999);
createServer((req, res) => {
  req.resume();
  req.on("end", () => {
    res.writeHead(req.method === "GET" ? 200 : 202, { "content-type": "application/json" });
    res.end('{"accepted":true}');
  });
}).listen(port, "127.0.0.1");
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => process.exit(0));
