// End-to-end test of the extension's page in a real headless Chromium (playwright-core driving
// Debian's `chromium`): loads popup.html from a localhost server with the exported tiny model,
// scores each fixture image through the file input, and compares P(fake) with the Rust
// `predict` output for the same files. Also checks that an unreadable cross-origin image is
// reported, and saves a screenshot of the popup with a result.
//
//   node test/plugin.test.mjs --site DIR --images DIR --expected predict.json --out DIR
//
// `cargo xtask plugin-test` prepares the arguments and runs it.

import { createServer } from "node:http";
import { readFile, readdir, writeFile } from "node:fs/promises";
import { extname, join, resolve } from "node:path";
import { chromium } from "playwright-core";

const args = Object.fromEntries(
  process.argv.slice(2).reduce((pairs, arg, i, all) => {
    if (arg.startsWith("--")) pairs.push([arg.slice(2), all[i + 1]]);
    return pairs;
  }, []),
);
const TOLERANCE = 1e-3;
const types = {
  ".html": "text/html", ".js": "text/javascript", ".mjs": "text/javascript",
  ".css": "text/css", ".json": "application/json", ".wasm": "application/wasm",
  ".onnx": "application/octet-stream", ".png": "image/png",
};

function serve(root) {
  const server = createServer(async (request, response) => {
    const path = resolve(root, "." + decodeURIComponent(new URL(request.url, "http://x").pathname));
    if (!path.startsWith(resolve(root))) { response.writeHead(403).end(); return; }
    try {
      const body = await readFile(path);
      response.writeHead(200, { "content-type": types[extname(path)] || "application/octet-stream" });
      response.end(body);
    } catch {
      response.writeHead(404).end();
    }
  });
  return new Promise((ok) => server.listen(0, "127.0.0.1", () => ok(server)));
}

const site = await serve(args.site);
const other = await serve(args.images); // a second origin, without CORS headers
const base = `http://127.0.0.1:${site.address().port}`;
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync"],
});
let failures = 0;
const rows = [];
try {
  const page = await browser.newPage({ viewport: { width: 380, height: 620 } });
  page.on("pageerror", (e) => console.error("page error:", e.message));
  await page.goto(`${base}/popup.html`);
  await page.waitForSelector("body[data-ready=true]", { timeout: 60000 });
  const expected = JSON.parse(await readFile(args.expected, "utf8"));
  const byName = new Map(expected.map((r) => [r.path.split("/").pop(), r.p_fake]));
  const files = (await readdir(args.images)).filter((f) => f.endsWith(".png")).sort();
  for (const file of files) {
    await page.setInputFiles("#file", join(args.images, file));
    await page.waitForFunction(
      (name) => document.querySelector("#result")?.dataset.name === name
        || !document.querySelector("#error").hidden,
      file,
    );
    const got = await page.evaluate(() => Number(document.querySelector("#result").dataset.pFake));
    const want = byName.get(file);
    const diff = Math.abs(got - want);
    rows.push({ file, browser: got, rust: want, diff });
    if (!(diff <= TOLERANCE)) failures++;
  }
  await page.screenshot({ path: join(args.out, "popup.png") });

  // An image on another origin without CORS headers cannot be read: the page must say so.
  const blocked = `http://127.0.0.1:${other.address().port}/${files[0]}`;
  await page.goto(`${base}/popup.html?src=${encodeURIComponent(blocked)}`);
  await page.waitForFunction(() => !document.querySelector("#error").hidden, null, { timeout: 60000 });
  const message = await page.textContent("#error");
  const reported = /Cannot read this image/.test(message);
  if (!reported) failures++;
  rows.push({ file: "cross-origin", reported, message });
  await page.screenshot({ path: join(args.out, "popup-cross-origin.png") });
} finally {
  await browser.close();
  site.close();
  other.close();
}
for (const row of rows) console.log(JSON.stringify(row));
const diffs = rows.filter((r) => r.diff !== undefined).map((r) => r.diff);
const summary = { images: diffs.length, max_abs_diff: Math.max(...diffs), tolerance: TOLERANCE, failures };
console.log(JSON.stringify(summary));
await writeFile(join(args.out, "result.json"), JSON.stringify({ rows, summary }, null, 2));
process.exit(failures === 0 ? 0 : 1);
