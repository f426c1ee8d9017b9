// The popup (and the window opened from the context menu with ?src=URL): pick or drop an
// image, or fetch the clicked one, score it locally, show the verdict, badge the page image.
// The extension holds no host permission at install: an image whose site does not allow
// other sites to read it (no CORS) needs the user's yes for that one site, asked here.

import { showBadge } from "./badge.js";
import { loadDetector, scoreBlob } from "./detector.js";

const $ = (id) => document.getElementById(id);
const inExtension = typeof chrome !== "undefined" && chrome.runtime && chrome.runtime.id;

function showError(message) {
  $("error").textContent = message;
  $("error").hidden = false;
  $("result").hidden = true;
  $("status").textContent = "";
}

function showResult(result, name) {
  $("error").hidden = true;
  const verdict = $("verdict");
  verdict.textContent = result.label === "fake" ? "Fake" : "Real";
  verdict.className = result.label;
  $("p-fake").textContent = `P(fake) = ${(result.pFake * 100).toFixed(1)}%`;
  const fill = $("bar-fill");
  fill.style.width = `${(result.confidence * 100).toFixed(1)}%`;
  fill.className = result.label;
  $("details").textContent =
    `${name}: ${result.width}x${result.height}, confidence ${(result.confidence * 100).toFixed(1)}%`;
  const section = $("result");
  section.dataset.pFake = String(result.pFake);
  section.dataset.label = result.label;
  section.dataset.name = name;
  section.hidden = false;
  $("status").textContent = "";
}

async function check(blob, name) {
  $("status").textContent = "Checking...";
  $("result").hidden = true;
  const preview = $("preview-img");
  preview.src = URL.createObjectURL(blob);
  $("preview").hidden = false;
  try {
    const result = await scoreBlob(blob);
    showResult(result, name);
    return result;
  } catch (e) {
    showError(`${name}: ${e.message}`);
    return null;
  }
}

// `https://host:port/*`: the one site an optional host permission is asked for.
function sitePattern(src) {
  const url = new URL(src);
  return `${url.protocol}//${url.host}/*`;
}

async function fetchImage(src) {
  const response = await fetch(src, { credentials: "omit" });
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  return response.blob();
}

// The site does not let other sites read its image: offer to ask for that site only.
function offerPermission(src, tabId, error) {
  const origin = new URL(src).origin;
  showError(`Cannot read this image (${error.message}): ${origin} does not let other sites ` +
    `read it. Allow this extension to read images from ${origin}?`);
  const button = $("grant");
  button.textContent = `Allow ${origin}`;
  button.hidden = false;
  button.onclick = async () => {
    button.hidden = true;
    let granted = false;
    try {
      granted = await chrome.permissions.request({ origins: [sitePattern(src)] });
    } catch (e) {
      showError(`Could not ask for ${origin}: ${e.message}`);
      return;
    }
    if (granted) await checkUrl(src, tabId);
    else showError(`Not allowed to read images from ${origin}. Save the image and drop the file here instead.`);
  };
}

async function checkUrl(src, tabId) {
  let blob;
  try {
    blob = await fetchImage(src);
  } catch (e) {
    const web = /^https?:$/.test(new URL(src, location.href).protocol);
    if (inExtension && web && !(await chrome.permissions.contains({ origins: [sitePattern(src)] }))) {
      offerPermission(src, tabId, e);
      return;
    }
    showError(`Cannot read this image (${e.message}); the site does not allow reading it. ` +
      "Save it and drop the file here instead.");
    return;
  }
  const result = await check(blob, src.split("/").pop() || src);
  if (result && inExtension && tabId) await markImage(Number(tabId), src, result);
}

// The badge on the page the check started from: injected into that tab only, with the access
// the context menu's click granted (activeTab). Without it (the tab moved on) there is no badge.
async function markImage(tabId, src, result) {
  try {
    await chrome.scripting.insertCSS({ target: { tabId }, files: ["content.css"] });
    await chrome.scripting.executeScript({
      target: { tabId }, func: showBadge, args: [src, result.label, result.pFake],
    });
    document.body.dataset.badge = "shown";
  } catch (e) {
    document.body.dataset.badge = `not shown: ${e.message}`;
  }
}

function wireInputs() {
  const drop = $("drop");
  $("file").addEventListener("change", (event) => {
    const file = event.target.files[0];
    if (file) check(file, file.name);
  });
  drop.addEventListener("dragover", (event) => { event.preventDefault(); drop.classList.add("over"); });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (event) => {
    event.preventDefault();
    drop.classList.remove("over");
    const file = event.dataTransfer.files[0];
    if (file) check(file, file.name);
  });
}

async function main() {
  wireInputs();
  try {
    await loadDetector();
    $("status").textContent = "Ready.";
    document.body.dataset.ready = "true";
  } catch (e) {
    showError(e.message);
    return;
  }
  const params = new URLSearchParams(location.search);
  if (params.get("src")) await checkUrl(params.get("src"), params.get("tab"));
}

main();
