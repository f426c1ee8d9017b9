// The model's input from an image, exactly as the Rust evaluation preprocessing makes it:
// RGB 8-bit -> resize to S x S with the antialiased bilinear filter of the Rust side
// (fast_image_resize's u8 convolution: weights as in PIL, stored as 16-bit fixed point;
// horizontal pass then vertical as PIL, each rounded to 8 bits) -> [0, 1] ->
// ImageNet mean/std, CHW float32. The resize is ours rather than the canvas's, whose scaling
// differs between browsers and from the Rust pipeline.

const PRECISION_BITS = 32 - 8 - 2;
const MAX_COEFFS_PRECISION = 16 - 1;

function bilinear(x) {
  const a = Math.abs(x);
  return a < 1 ? 1 - a : 0;
}

// Coefficients of one axis: for each output index the first input index, the number of taps
// and integer weights, with the fixed-point precision (bits).
export function resizeCoefficients(inSize, outSize) {
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1);
  const radius = filterScale; // bilinear support 1, scaled
  const windowSize = Math.ceil(radius) * 2 + 1;
  const recip = 1 / filterScale;
  const first = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const values = new Float64Array(outSize * windowSize);
  let maxWeight = 0;
  for (let outX = 0; outX < outSize; outX++) {
    const inCenter = 0 + (outX + 0.5) * scale;
    const xMin = Math.max(Math.floor(inCenter - radius), 0);
    const xMax = Math.min(Math.ceil(inCenter + radius), inSize);
    const center = inCenter - 0.5;
    let start = xMin;
    let end = xMax;
    const taps = [];
    let total = 0;
    for (let x = xMin; x < xMax; x++) {
      const w = bilinear((x - center) * recip);
      if (x === start && w === 0) {
        start += 1; // no zero weights at the start
      } else {
        taps.push(w);
        total += w;
      }
    }
    for (let i = taps.length - 1; i >= 0; i--) {
      if (end <= start || taps[i] !== 0) break;
      end -= 1; // nor at the end
    }
    for (let i = 0; i < taps.length; i++) {
      const w = total !== 0 ? taps[i] / total : taps[i];
      values[outX * windowSize + i] = w;
      if (w > maxWeight) maxWeight = w;
    }
    first[outX] = start;
    count[outX] = end - start;
  }
  let precision = 0;
  for (let p = 0; p < PRECISION_BITS; p++) {
    precision = p;
    if (Math.round(maxWeight * 2 ** (p + 1)) >= 2 ** MAX_COEFFS_PRECISION) break;
  }
  const weights = new Int32Array(outSize * windowSize);
  for (let i = 0; i < weights.length; i++) weights[i] = Math.round(values[i] * 2 ** precision);
  return { first, count, weights, windowSize, precision };
}

function clip8(sum, precision) {
  const v = sum >> precision;
  return v < 0 ? 0 : v > 255 ? 255 : v;
}

// RGBA bytes (width x height) -> RGB bytes (outW x outH).
export function resizeRgb(rgba, width, height, outW, outH) {
  const h = outW !== width ? resizeCoefficients(width, outW) : null;
  const v = outH !== height ? resizeCoefficients(height, outH) : null;
  let rgb = new Uint8Array(width * height * 3);
  for (let i = 0; i < width * height; i++) {
    rgb[i * 3] = rgba[i * 4];
    rgb[i * 3 + 1] = rgba[i * 4 + 1];
    rgb[i * 3 + 2] = rgba[i * 4 + 2];
  }
  let w = width;
  if (h) {
    // Horizontal pass first, as PIL and the Rust resizer do.
    const out = new Uint8Array(outW * height * 3);
    const initial = 1 << (h.precision - 1);
    for (let y = 0; y < height; y++) {
      for (let xx = 0; xx < outW; xx++) {
        const x0 = h.first[xx];
        const n = h.count[xx];
        for (let c = 0; c < 3; c++) {
          let sum = initial;
          for (let k = 0; k < n; k++) sum += rgb[(y * w + x0 + k) * 3 + c] * h.weights[xx * h.windowSize + k];
          out[(y * outW + xx) * 3 + c] = clip8(sum, h.precision);
        }
      }
    }
    rgb = out;
    w = outW;
  }
  if (v) {
    const out = new Uint8Array(w * outH * 3);
    const initial = 1 << (v.precision - 1);
    for (let yy = 0; yy < outH; yy++) {
      const y0 = v.first[yy];
      const n = v.count[yy];
      for (let x = 0; x < w * 3; x++) {
        let sum = initial;
        for (let k = 0; k < n; k++) sum += rgb[(y0 + k) * w * 3 + x] * v.weights[yy * v.windowSize + k];
        out[yy * w * 3 + x] = clip8(sum, v.precision);
      }
    }
    rgb = out;
  }
  return rgb;
}

// RGB bytes (size x size) -> normalised CHW Float32Array, computed in float32 step by step as
// the Rust side does (per channel: scale = 1 / (255 * std), offset = mean / std, value =
// v * scale - offset), so the tensor is equal bit for bit.
export function normalise(rgb, size, mean, std) {
  const f = Math.fround;
  const tables = [0, 1, 2].map((c) => {
    const scale = f(1 / f(255 * f(std[c])));
    const offset = f(f(mean[c]) / f(std[c]));
    const table = new Float32Array(256);
    for (let v = 0; v < 256; v++) table[v] = f(f(v * scale) - offset);
    return table;
  });
  const plane = size * size;
  const out = new Float32Array(3 * plane);
  for (let i = 0; i < plane; i++) {
    for (let c = 0; c < 3; c++) {
      out[c * plane + i] = tables[c][rgb[i * 3 + c]];
    }
  }
  return out;
}

// A decoded image (RGBA bytes) -> the model's input for one image.
export function preprocess(rgba, width, height, info) {
  if (width === 0 || height === 0) throw new Error("the image has no pixels");
  const size = info.image_size;
  const rgb = width === size && height === size
    ? dropAlpha(rgba, width * height)
    : resizeRgb(rgba, width, height, size, size);
  return normalise(rgb, size, info.mean, info.std);
}

function dropAlpha(rgba, pixels) {
  const rgb = new Uint8Array(pixels * 3);
  for (let i = 0; i < pixels; i++) {
    rgb[i * 3] = rgba[i * 4];
    rgb[i * 3 + 1] = rgba[i * 4 + 1];
    rgb[i * 3 + 2] = rgba[i * 4 + 2];
  }
  return rgb;
}
