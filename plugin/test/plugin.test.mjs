// End-to-end test of the extension's page in a real headless Chromium (playwright-core driving
// Debian's `chromium`): loads popup.html from a localhost server with the exported tiny model,
// scores each fixture image through the file input, and compares P(fake) with the Rust
// `predict` output for the same files. Also checks that an unreadable cross-origin image is
// reported, that the manifest asks for no host access at install (activeTab + scripting,
// optional host permissions only), loads the directory as the unpacked extension and scores
// an image in its own chrome-extension:// page, by file and by address (the context menu's
// path: a CORS image directly, a non-CORS one only after the user allows its site), and saves
// screenshots of the popup.
//
//   node test/plugin.test.mjs --site DIR --images DIR --expected predict.json --out DIR \
//     --tolerance 1e-5
//
// `cargo xtask plugin-test` prepares the arguments and runs it.

import { createServer } from "node:http";
import { cp, mkdtemp, readFile, readdir, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { extname, join, resolve } from "node:path";
import { chromium } from "playwright-core";

const args = Object.fromEntries(
  process.argv.slice(2).reduce((pairs, arg, i, all) => {
    if (arg.startsWith("--")) pairs.push([arg.slice(2), all[i + 1]]);
    return pairs;
  }, []),
);
// Largest |P(fake) browser - P(fake) Rust| accepted; the caller chooses it (and checks that
// the expected values spread far wider).
const TOLERANCE = Number(args.tolerance);
if (!(TOLERANCE > 0)) throw new Error(`--tolerance must be a positive number, got ${args.tolerance}`);
const types = {
  ".html": "text/html", ".js": "text/javascript", ".mjs": "text/javascript",
  ".css": "text/css", ".json": "application/json", ".wasm": "application/wasm",
  ".onnx": "application/octet-stream", ".png": "image/png",
};

function serve(root, headers = {}) {
  const server = createServer(async (request, response) => {
    const path = resolve(root, "." + decodeURIComponent(new URL(request.url, "http://x").pathname));
    if (!path.startsWith(resolve(root))) { response.writeHead(403).end(); return; }
    try {
      const body = await readFile(path);
      response.writeHead(200, { "content-type": types[extname(path)] || "application/octet-stream", ...headers });
      response.end(body);
    } catch {
      response.writeHead(404).end();
    }
  });
  return new Promise((ok) => server.listen(0, "127.0.0.1", () => ok(server)));
}

const site = await serve(args.site);
const other = await serve(args.images); // a second origin, without CORS headers
const open = await serve(args.images, { "access-control-allow-origin": "*" }); // a third, with CORS
const base = `http://127.0.0.1:${site.address().port}`;
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync"],
});
let failures = 0;
const rows = [];

// Least privilege: no host access and no content script at install.
{
  const manifest = JSON.parse(await readFile(join(args.site, "manifest.json"), "utf8"));
  const permissions = [...(manifest.permissions || [])].sort().join(",");
  const ok = permissions === "activeTab,contextMenus,scripting"
    && manifest.host_permissions === undefined
    && manifest.content_scripts === undefined
    && JSON.stringify(manifest.optional_host_permissions) === JSON.stringify(["http://*/*", "https://*/*"]);
  rows.push({ manifest: { permissions, host_permissions: manifest.host_permissions ?? null,
    content_scripts: manifest.content_scripts ?? null,
    optional_host_permissions: manifest.optional_host_permissions }, ok });
  if (!ok) failures++;
}
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

// Runs `body(context, id)` with `dir` loaded as the unpacked extension in a fresh profile.
async function withExtension(dir, body) {
  const profile = await mkdtemp(join(tmpdir(), "deepfake-extension-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
      "--disable-component-update", "--disable-sync",
      `--disable-extensions-except=${resolve(dir)}`, `--load-extension=${resolve(dir)}`],
    viewport: { width: 380, height: 620 },
  });
  try {
    const worker = context.serviceWorkers()[0]
      || await context.waitForEvent("serviceworker", { timeout: 30000 });
    await body(context, new URL(worker.url()).host);
  } catch (e) {
    rows.push({ extension: `failed in ${dir}`, error: String(e) });
    failures++;
  } finally {
    await context.close();
  }
}

// Opens popup.html?src=SRC[&tab=TAB] in `page` and waits for a verdict or an error.
async function checkAddress(page, id, src, tab) {
  const query = new URLSearchParams({ src });
  if (tab !== undefined) query.set("tab", String(tab));
  await page.goto(`chrome-extension://${id}/popup.html?${query}`);
  await page.waitForFunction(
    () => document.querySelector("#result")?.dataset.pFake || !document.querySelector("#error").hidden,
    null, { timeout: 60000 });
  return page.evaluate(() => ({
    pFake: Number(document.querySelector("#result").dataset.pFake),
    error: document.querySelector("#error").hidden ? null : document.querySelector("#error").textContent,
  }));
}

const expected = JSON.parse(await readFile(args.expected, "utf8"));
const file = expected[0].path.split("/").pop();
const want = expected[0].p_fake;
const noCors = `http://127.0.0.1:${other.address().port}/${file}`;

// The extension as shipped (manifest, CSP with wasm-unsafe-eval, service worker, files served
// from chrome-extension://), holding no host permission.
await withExtension(args.site, async (context, id) => {
  const page = await context.newPage();
  await page.goto(`chrome-extension://${id}/popup.html`);
  await page.waitForSelector("body[data-ready=true]", { timeout: 60000 });
  await page.setInputFiles("#file", join(args.images, file));
  await page.waitForFunction((name) => document.querySelector("#result")?.dataset.name === name, file);
  const got = await page.evaluate(() => Number(document.querySelector("#result").dataset.pFake));
  rows.push({ file, extension_id: id, browser: got, rust: want, diff: Math.abs(got - want) });
  if (!(Math.abs(got - want) <= TOLERANCE)) failures++;
  await page.screenshot({ path: join(args.out, "popup-extension.png") });

  // The context-menu path on a site that lets others read its images (CORS): scored without
  // any host permission.
  const cors = await checkAddress(page, id, `http://127.0.0.1:${open.address().port}/${file}`);
  rows.push({ file: `${file} via ?src= (CORS site)`, browser: cors.pFake, rust: want,
    diff: Math.abs(cors.pFake - want), error: cors.error });
  if (!(Math.abs(cors.pFake - want) <= TOLERANCE)) failures++;

  // A site that does not: the page offers to ask for that one site (the browser's prompt
  // itself cannot be answered in headless Chromium; the granted state is checked below).
  await page.goto(`chrome-extension://${id}/popup.html?src=${encodeURIComponent(noCors)}`);
  await page.waitForSelector("#grant:not([hidden])", { timeout: 60000 });
  const offer = await page.textContent("#error");
  const grantLabel = await page.textContent("#grant");
  const origin = new URL(noCors).origin;
  const offered = offer.includes(origin) && grantLabel === `Allow ${origin}`;
  rows.push({ file: `${file} via ?src= (no CORS, no permission)`, offered, offer, grantLabel });
  if (!offered) failures++;
  await page.screenshot({ path: join(args.out, "popup-permission.png") });
});

// After the user allowed the site: a copy of the extension whose manifest holds the host
// permission that "Allow" grants (http://127.0.0.1/*). The non-CORS image scores, and the
// page the check started from gets its badge, injected into that tab only.
{
  const granted = await mkdtemp(join(tmpdir(), "deepfake-extension-granted-"));
  await cp(resolve(args.site), granted, { recursive: true });
  const manifest = JSON.parse(await readFile(join(granted, "manifest.json"), "utf8"));
  manifest.host_permissions = ["http://127.0.0.1/*"];
  await writeFile(join(granted, "manifest.json"), JSON.stringify(manifest, null, 2));
  await withExtension(granted, async (context, id) => {
    const page = await context.newPage();
    const allowed = await checkAddress(page, id, noCors);
    rows.push({ file: `${file} via ?src= (no CORS, site allowed)`, browser: allowed.pFake, rust: want,
      diff: Math.abs(allowed.pFake - want), error: allowed.error });
    if (!(Math.abs(allowed.pFake - want) <= TOLERANCE)) failures++;

    const host = await context.newPage();
    await host.goto(`${base}/badge-test.html?img=${encodeURIComponent(noCors)}`);
    await host.waitForFunction(() => document.querySelector("img")?.complete);
    const tabId = await page.evaluate(async (url) => {
      const tabs = await chrome.tabs.query({});
      return tabs.find((t) => t.url && t.url.startsWith(url))?.id;
    }, `${base}/badge-test.html`);
    await checkAddress(page, id, noCors, tabId);
    await page.waitForFunction(() => document.body.dataset.badge, null, { timeout: 10000 });
    const injection = await page.evaluate(() => document.body.dataset.badge);
    await host.waitForSelector(".deepfake-badge", { timeout: 10000 });
    const badge = await host.textContent(".deepfake-badge");
    const badgeOk = injection === "shown" && /^(Fake|Real) \d+\.\d%$/.test(badge);
    rows.push({ badge, tab: tabId, injection, ok: badgeOk });
    if (!badgeOk) failures++;
    await host.screenshot({ path: join(args.out, "page-badge.png") });
  });
}
site.close();
other.close();
open.close();
for (const row of rows) console.log(JSON.stringify(row));
const diffs = rows.filter((r) => r.diff !== undefined).map((r) => r.diff);
const summary = { images: diffs.length, max_abs_diff: Math.max(...diffs), tolerance: TOLERANCE, failures };
console.log(JSON.stringify(summary));
await writeFile(join(args.out, "result.json"), JSON.stringify({ rows, summary }, null, 2));
process.exit(failures === 0 ? 0 : 1);
