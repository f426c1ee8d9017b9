// Marks a checked image on the page with a small badge (sent by popup.js after a check).

chrome.runtime.onMessage.addListener((message) => {
  if (!message || message.type !== "deepfake-result") return;
  for (const img of document.querySelectorAll("img")) {
    if (img.currentSrc !== message.src && img.src !== message.src) continue;
    const parent = img.parentElement;
    if (!parent) continue;
    parent.querySelectorAll(".deepfake-badge").forEach((b) => b.remove());
    if (getComputedStyle(parent).position === "static") parent.style.position = "relative";
    const badge = document.createElement("span");
    badge.className = `deepfake-badge deepfake-${message.label}`;
    badge.textContent = `${message.label === "fake" ? "Fake" : "Real"} ${(message.pFake * 100).toFixed(1)}%`;
    badge.style.left = `${img.offsetLeft + 4}px`;
    badge.style.top = `${img.offsetTop + 4}px`;
    parent.appendChild(badge);
  }
});
