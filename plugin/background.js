// Service worker: the context-menu entry on images. The check itself runs in popup.html
// (ONNX Runtime Web needs a page), opened in a small window with the image's address.

chrome.runtime.onInstalled.addListener(() => {
  chrome.contextMenus.create({
    id: "check-image",
    title: "Check image for deepfake",
    contexts: ["image"],
  });
});

chrome.contextMenus.onClicked.addListener((info, tab) => {
  if (info.menuItemId !== "check-image" || !info.srcUrl) return;
  const params = new URLSearchParams({ src: info.srcUrl });
  if (tab && tab.id !== undefined) params.set("tab", String(tab.id));
  chrome.windows.create({
    url: chrome.runtime.getURL(`popup.html?${params}`),
    type: "popup",
    width: 400,
    height: 600,
  });
});
