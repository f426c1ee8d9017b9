// End-to-end test of the extension's page in a real headless Chromium (playwright-core driving
// Debian's `chromium`): loads popup.html from a localhost server with the exported tiny model,
// scores each fixture image through the file input, and compares P(fake) with the Rust
// `predict` output for the same files. Also checks that an unreadable cross-origin image is
// reported, loads the directory as the unpacked extension and scores an image in its own
// chrome-extension:// page, and saves screenshots of the popup.
//
//   node test/plugin.test.mjs --site DIR --images DIR --expected predict.json --out DIR
//
// `cargo xtask plugin-test` prepares the arguments and runs it.

import { createServer } from "node:http";
import { mkdtemp, readFile, readdir, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { extname, join, resolve } from "node:path";
import { chromium } from "playwright-core";

const args = Object.fromEntries(
  process.argv.slice(2).reduce((pairs, arg, i, all) => {
    if (arg.startsWith("--")) pairs.push([arg.slice(2), all[i + 1]]);
    return pairs;
  }, []),
);
const TOLERANCE = 1e-5;
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
}

// The same page as the unpacked extension itself (manifest, CSP with wasm-unsafe-eval,
// service worker, files served from chrome-extension://): one image must score the same.
{
  const profile = await mkdtemp(join(tmpdir(), "deepfake-extension-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
      "--disable-component-update", "--disable-sync",
      `--disable-extensions-except=${resolve(args.site)}`, `--load-extension=${resolve(args.site)}`],
    viewport: { width: 380, height: 620 },
  });
  try {
    const worker = context.serviceWorkers()[0]
      || await context.waitForEvent("serviceworker", { timeout: 30000 });
    const id = new URL(worker.url()).host;
    const page = await context.newPage();
    await page.goto(`chrome-extension://${id}/popup.html`);
    await page.waitForSelector("body[data-ready=true]", { timeout: 60000 });
    const expected = JSON.parse(await readFile(args.expected, "utf8"));
    const file = expected[0].path.split("/").pop();
    await page.setInputFiles("#file", join(args.images, file));
    await page.waitForFunction((name) => document.querySelector("#result")?.dataset.name === name, file);
    const got = await page.evaluate(() => Number(document.querySelector("#result").dataset.pFake));
    const diff = Math.abs(got - expected[0].p_fake);
    rows.push({ file, extension_id: id, browser: got, rust: expected[0].p_fake, diff });
    if (!(diff <= TOLERANCE)) failures++;
    await page.screenshot({ path: join(args.out, "popup-extension.png") });

    // The context-menu path: the window opened with ?src= fetches the page's image with the
    // extension's host permission (cross-origin is allowed here) and scores it.
    const src = `http://127.0.0.1:${other.address().port}/${file}`;
    await page.goto(`chrome-extension://${id}/popup.html?src=${encodeURIComponent(src)}`);
    await page.waitForFunction(
      () => document.querySelector("#result")?.dataset.pFake || !document.querySelector("#error").hidden,
      null, { timeout: 60000 });
    const viaUrl = await page.evaluate(() => Number(document.querySelector("#result").dataset.pFake));
    const urlDiff = Math.abs(viaUrl - expected[0].p_fake);
    rows.push({ file: `${file} via ?src=`, browser: viaUrl, rust: expected[0].p_fake, diff: urlDiff });
    if (!(urlDiff <= TOLERANCE)) failures++;

    // The badge: a page showing the image, checked by tab id as the context menu does; the
    // content script must mark the image with the verdict.
    const host = await context.newPage();
    await host.goto(`${base}/badge-test.html?img=${encodeURIComponent(src)}`);
    await host.waitForFunction(() => document.querySelector("img")?.complete);
    const tabId = await page.evaluate(async (url) => {
      const tabs = await chrome.tabs.query({});
      return tabs.find((t) => t.url && t.url.startsWith(url))?.id;
    }, `${base}/badge-test.html`);
    await page.goto(`chrome-extension://${id}/popup.html?src=${encodeURIComponent(src)}&tab=${tabId}`);
    await page.waitForFunction(() => document.querySelector("#result")?.dataset.pFake, null, { timeout: 60000 });
    await host.waitForSelector(".deepfake-badge", { timeout: 10000 });
    const badge = await host.textContent(".deepfake-badge");
    const badgeOk = /^(Fake|Real) \d+\.\d%$/.test(badge);
    rows.push({ badge, tab: tabId, ok: badgeOk });
    if (!badgeOk) failures++;
    await host.screenshot({ path: join(args.out, "page-badge.png") });
  } catch (e) {
    rows.push({ extension: "failed to load or score", error: String(e) });
    failures++;
  } finally {
    await context.close();
    site.close();
    other.close();
  }
}
for (const row of rows) console.log(JSON.stringify(row));
const diffs = rows.filter((r) => r.diff !== undefined).map((r) => r.diff);
const summary = { images: diffs.length, max_abs_diff: Math.max(...diffs), tolerance: TOLERANCE, failures };
console.log(JSON.stringify(summary));
await writeFile(join(args.out, "result.json"), JSON.stringify({ rows, summary }, null, 2));
process.exit(failures === 0 ? 0 : 1);
