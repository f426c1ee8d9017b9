// Loads the exported model (model/deepfake_detector.onnx + model/model_info.json) into ONNX
// Runtime Web (WASM, one thread, everything served from the extension) and scores images.

import { preprocess } from "./preprocess.js";

let loaded = null;

export async function loadDetector(base = "model/") {
  if (loaded) return loaded;
  const ort = globalThis.ort;
  if (!ort) throw new Error("ONNX Runtime Web is missing (vendor/ort.wasm.min.js): run `cargo xtask plugin`");
  ort.env.wasm.wasmPaths = new URL("vendor/", document.baseURI).href;
  ort.env.wasm.numThreads = 1; // extension pages are not cross-origin isolated
  const infoResponse = await fetch(`${base}model_info.json`);
  if (!infoResponse.ok) throw new Error("model/model_info.json is missing: run `cargo xtask plugin`");
  const info = await infoResponse.json();
  if (!info.onnx) throw new Error("model/model_info.json describes no ONNX file: run `cargo xtask plugin`");
  if (info.onnx.seq_len) throw new Error("this extension scores single images; export without --seq-len");
  const session = await ort.InferenceSession.create(`${base}${info.onnx.file}`, {
    executionProviders: ["wasm"],
  });
  loaded = { ort, info, session };
  return loaded;
}

// Decodes a Blob without colour-space conversion and returns its RGBA bytes.
export async function decode(blob) {
  let bitmap;
  try {
    bitmap = await createImageBitmap(blob, {
      colorSpaceConversion: "none",
      premultiplyAlpha: "none",
    });
  } catch (e) {
    throw new Error(`not an image the browser can decode (${blob.type || "unknown type"})`);
  }
  const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
  const context = canvas.getContext("2d", { willReadFrequently: true });
  context.drawImage(bitmap, 0, 0);
  const { data } = context.getImageData(0, 0, bitmap.width, bitmap.height);
  return { rgba: data, width: bitmap.width, height: bitmap.height };
}

// Scores one image Blob: { label, pFake, confidence, width, height }.
export async function scoreBlob(blob) {
  const { ort, info, session } = await loadDetector();
  const { rgba, width, height } = await decode(blob);
  const size = info.image_size;
  const input = new ort.Tensor("float32", preprocess(rgba, width, height, info), [1, 3, size, size]);
  const outputs = await session.run({ [info.onnx.input.name]: input });
  const pFake = outputs.p_fake.data[0];
  const fake = pFake >= info.threshold;
  return {
    label: fake ? "fake" : "real",
    pFake,
    confidence: fake ? pFake : 1 - pFake,
    width,
    height,
  };
}
