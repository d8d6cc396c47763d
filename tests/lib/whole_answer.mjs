// The whole answer to an encrypted-body request as one string, for tests
// that compare failures byte for byte (no padding oracle, with one key or
// two): what differs per request only (Date, the request's own id) is left out.
import http from "node:http";

/** Status line, every header but Date in the order sent (X-Request-Id
 * without its value), and the body of one PATCH of body to url. */
export function wholeAnswer(url, body, agent) {
  return new Promise((resolve, reject) => {
    const req = http.request(url, {
      method: "PATCH", agent, headers: { "Content-Type": "text/plain", "Content-Length": Buffer.byteLength(body) },
    }, (res) => {
      const chunks = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () => {
        const headers = [];
        for (let i = 0; i < res.rawHeaders.length; i += 2) {
          const [name, value] = res.rawHeaders.slice(i, i + 2);
          if (name.toLowerCase() === "x-request-id") headers.push(`${name}: (this request's)`);
          else if (name.toLowerCase() !== "date") headers.push(`${name}: ${value}`);
        }
        resolve(`HTTP/${res.httpVersion} ${res.statusCode} ${res.statusMessage}\n${headers.join("\n")}\n\n`
          + Buffer.concat(chunks).toString("latin1"));
      });
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(body);
  });
}
