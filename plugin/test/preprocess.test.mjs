// The extension's preprocessing (preprocess.js) against the Rust evaluation preprocessing,
// bit for bit: for each case the Rust side wrote the decoded image (RGBA bytes, EXIF
// orientation applied) and the tensor `preprocess_eval` makes of it; this runs preprocess() on
// the same pixels and compares every float32 by its bits.
//
//   node test/preprocess.test.mjs --cases DIR --info model_info.json
//
// DIR holds NAME.json ({"width", "height"}), NAME.rgba and NAME.f32 (little-endian float32).
// `cargo xtask plugin-test` writes them and runs this.

import { readFile, readdir } from "node:fs/promises";
import { join } from "node:path";
import { preprocess } from "../preprocess.js";

const args = Object.fromEntries(
  process.argv.slice(2).reduce((pairs, arg, i, all) => {
    if (arg.startsWith("--")) pairs.push([arg.slice(2), all[i + 1]]);
    return pairs;
  }, []),
);
const info = JSON.parse(await readFile(args.info, "utf8"));
const names = (await readdir(args.cases)).filter((f) => f.endsWith(".json")).map((f) => f.slice(0, -5)).sort();
let failures = 0;
for (const name of names) {
  const { width, height } = JSON.parse(await readFile(join(args.cases, `${name}.json`), "utf8"));
  const rgba = new Uint8Array(await readFile(join(args.cases, `${name}.rgba`)));
  const expectedBytes = await readFile(join(args.cases, `${name}.f32`));
  const expected = new Uint32Array(expectedBytes.buffer, expectedBytes.byteOffset, expectedBytes.length / 4);
  const got = new Uint32Array(preprocess(rgba, width, height, info).buffer);
  let differing = 0;
  if (got.length !== expected.length) {
    differing = Math.max(got.length, expected.length);
  } else {
    for (let i = 0; i < got.length; i++) if (got[i] !== expected[i]) differing++;
  }
  if (differing > 0) failures++;
  console.log(JSON.stringify({ case: name, width, height, values: got.length, differing }));
}
console.log(JSON.stringify({ cases: names.length, failures }));
if (names.length < 10 || failures > 0) process.exit(1);
