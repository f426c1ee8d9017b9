// The popup (and the window opened from the context menu with ?src=URL): pick or drop an
// image, or fetch the clicked one, score it locally, show the verdict, badge the page image.

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

async function checkUrl(src, tabId) {
  let blob;
  try {
    const response = await fetch(src, { credentials: "omit" });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    blob = await response.blob();
  } catch (e) {
    // A cross-origin image the browser will not let us read: say so instead of guessing.
    showError(`Cannot read this image (${e.message}); the site does not allow reading it. ` +
      "Save it and drop the file here instead.");
    return;
  }
  const result = await check(blob, src.split("/").pop() || src);
  if (result && inExtension && tabId) {
    chrome.tabs.sendMessage(Number(tabId), {
      type: "deepfake-result", src, label: result.label, pFake: result.pFake,
    }).catch(() => {});
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
