// Marks a checked image on its page with a small badge. Injected into that one tab by
// popup.js with chrome.scripting after a check the user started from the page (the context
// menu grants the extension that tab through activeTab); never injected anywhere else.
// Self-contained: chrome.scripting serialises the function, not its module.

export function showBadge(src, label, pFake) {
  for (const img of document.querySelectorAll("img")) {
    if (img.currentSrc !== src && img.src !== src) continue;
    const parent = img.parentElement;
    if (!parent) continue;
    parent.querySelectorAll(".deepfake-badge").forEach((b) => b.remove());
    if (getComputedStyle(parent).position === "static") parent.style.position = "relative";
    const badge = document.createElement("span");
    badge.className = `deepfake-badge deepfake-${label}`;
    badge.textContent = `${label === "fake" ? "Fake" : "Real"} ${(pFake * 100).toFixed(1)}%`;
    badge.style.left = `${img.offsetLeft + 4}px`;
    badge.style.top = `${img.offsetTop + 4}px`;
    parent.appendChild(badge);
  }
}
