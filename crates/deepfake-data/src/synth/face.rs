//! The face-like scene under every synthetic image ("real" content): a background gradient,
//! a shaded head with skin texture, two eyes, a mouth and a band of hair.

use rand::Rng;

use super::canvas::Canvas;
use super::fractal::fractal_noise;

/// Colour of the whites of the eyes before shading, RGB levels.
pub(super) const EYE_WHITE: [f32; 3] = [235.0, 232.0, 225.0];
/// Colour of the pupils (not shaded), RGB levels.
pub(super) const PUPIL: [f32; 3] = [12.0, 10.0, 10.0];

/// One scene's parameters.
///
/// Head units: `u = (cos(pose) dx + sin(pose) dy) / radii.0`,
/// `v = (-sin(pose) dx + cos(pose) dy) / radii.1`, with `(dx, dy)` the pixel's offset from
/// `center`; the head outline is the unit circle `u^2 + v^2 = 1`, `v < 0` is up.
/// Textures are row-major `size * size` fractal noise in about [-1, 1].
/// The ranges are those [`Face::random`] draws from.
pub(super) struct Face {
    /// Side of the image, in pixels.
    pub size: usize,
    /// Background colours at the top-left corner and, blended linearly in `x + y`, towards
    /// the bottom-right one; each channel in [20, 230).
    pub background: [[f32; 3]; 2],
    /// Background texture, added at ±25 levels.
    pub background_texture: Vec<f32>,
    /// Skin colour before shading: `(90, 55, 40) + (150, 135, 120) * tone`, tone in [0.25, 1).
    pub skin: [f32; 3],
    /// Hair colour, each channel in [10, 160).
    pub hair: [f32; 3],
    /// Skin texture (±6% of the skin's colour); the hair reads it at index `7 i mod n` (±25%).
    pub skin_texture: Vec<f32>,
    /// Head centre, pixels: x in [0.42, 0.58) and y in [0.47, 0.60) of the side.
    pub center: (f32, f32),
    /// Head half-width and half-height, pixels: [0.24, 0.32) and [0.32, 0.40) of the side.
    pub radii: (f32, f32),
    /// Head rotation, radians in [-0.35, 0.35).
    pub pose: f32,
    /// Direction the light comes from in head units, radians in [0, 2 pi).
    pub light: f32,
    /// Hair covers `v < hair_line + 0.045 sin(6 u)` within `u^2 + v^2 < 1.25`;
    /// in [-0.55, -0.25).
    pub hair_line: f32,
    /// Eye centres at `u = ±eye_dx` (in [0.30, 0.42)), `v = eye_y` (in [-0.25, -0.10)).
    pub eye_dx: f32,
    /// See `eye_dx`.
    pub eye_y: f32,
    /// Eye half-width in head units, in [0.08, 0.13); the half-height is 0.6 of it. Within
    /// an eye, `e` (the squared elliptic distance from its centre, 1 at its edge) picks the
    /// colour: pupil below 0.08, iris below 0.35, white below 1.
    pub eye_r: f32,
    /// Iris colour before shading, each channel in [20, 120).
    pub iris: [f32; 3],
    /// Mouth: an ellipse centred at `(0, mouth_y)` (in [0.40, 0.55)) of half-width
    /// `mouth_w` (in [0.25, 0.45)) and half-height 0.06, head units.
    pub mouth_y: f32,
    /// See `mouth_y`.
    pub mouth_w: f32,
    /// Lip colour before shading: red in [120, 200), green in [40, 90), blue in [50, 100).
    pub lips: [f32; 3],
}

fn random_colour(rng: &mut impl Rng, low: f32, high: f32) -> [f32; 3] {
    [0, 1, 2].map(|_| rng.random_range(low..high))
}

impl Face {
    /// A random scene of side `size` (the draws, in order, fix every synthetic image).
    pub fn random(size: usize, rng: &mut impl Rng) -> Self {
        let s = size as f32;
        let background_a = random_colour(rng, 20.0, 230.0);
        let background_b = random_colour(rng, 20.0, 230.0);
        let background_texture = fractal_noise(size, 2, 4, rng);
        let tone = rng.random_range(0.25f32..1.0);
        let skin = [
            90.0 + 150.0 * tone,
            55.0 + 135.0 * tone,
            40.0 + 120.0 * tone,
        ];
        let hair = random_colour(rng, 10.0, 160.0);
        let skin_texture = fractal_noise(size, 4, 5, rng);
        let center = (
            s * rng.random_range(0.42..0.58),
            s * rng.random_range(0.47..0.60),
        );
        let radii = (
            s * rng.random_range(0.24..0.32),
            s * rng.random_range(0.32..0.40),
        );
        Self {
            size,
            background: [background_a, background_b],
            background_texture,
            skin,
            hair,
            skin_texture,
            center,
            radii,
            pose: rng.random_range(-0.35f32..0.35),
            light: rng.random_range(0.0f32..std::f32::consts::TAU),
            hair_line: rng.random_range(-0.55f32..-0.25),
            eye_dx: rng.random_range(0.30f32..0.42),
            eye_y: rng.random_range(-0.25f32..-0.10),
            eye_r: rng.random_range(0.08f32..0.13),
            iris: random_colour(rng, 20.0, 120.0),
            mouth_y: rng.random_range(0.40f32..0.55),
            mouth_w: rng.random_range(0.25f32..0.45),
            lips: [
                rng.random_range(120.0f32..200.0),
                rng.random_range(40.0..90.0),
                rng.random_range(50.0..100.0),
            ],
        }
    }

    /// The shading of the head at head units `(u, v)` inside it:
    /// `0.55 + 0.45 clamp(0.7 z + 0.3 (u, v) . light, 0, 1)` with `z = sqrt(1 - u^2 - v^2)`,
    /// in [0.55, 1].
    pub fn shade(&self, u: f32, v: f32) -> f32 {
        let (ly, lx) = self.light.sin_cos();
        let z = (1.0 - u * u - v * v).sqrt();
        0.55 + 0.45 * (z * 0.7 + 0.3 * (u * lx + v * ly)).clamp(0.0, 1.0)
    }

    /// Head units of pixel `(x, y)`.
    pub fn head_units(&self, x: usize, y: usize) -> (f32, f32) {
        let (sin, cos) = self.pose.sin_cos();
        let (dx, dy) = (x as f32 - self.center.0, y as f32 - self.center.1);
        (
            (cos * dx + sin * dy) / self.radii.0,
            (-sin * dx + cos * dy) / self.radii.1,
        )
    }

    /// Paints the scene.
    pub fn paint(&self) -> Canvas {
        let size = self.size;
        let s = size as f32;
        let [background_a, background_b] = self.background;
        let mut pixels = Vec::with_capacity(size * size);
        for y in 0..size {
            for x in 0..size {
                let i = y * size + x;
                let t = (x + y) as f32 / (2.0 * s);
                let n = self.background_texture[i] * 25.0;
                let mut p =
                    [0, 1, 2].map(|c| background_a[c] * (1.0 - t) + background_b[c] * t + n);
                let (u, v) = self.head_units(x, y);
                let r2 = u * u + v * v;
                if r2 < 1.0 {
                    let shade = self.shade(u, v);
                    let texture = 1.0 + 0.06 * self.skin_texture[i];
                    p = self.skin.map(|c| c * shade * texture);
                    for side in [-1.0, 1.0] {
                        let ex = (u - side * self.eye_dx) / self.eye_r;
                        let ey = (v - self.eye_y) / (self.eye_r * 0.6);
                        let e = ex * ex + ey * ey;
                        if e < 1.0 {
                            p = EYE_WHITE.map(|c| c * shade);
                            if e < 0.35 {
                                p = self.iris.map(|c| c * shade);
                            }
                            if e < 0.08 {
                                p = PUPIL;
                            }
                        }
                    }
                    let (mx, my) = (u / self.mouth_w, (v - self.mouth_y) / 0.06);
                    if mx * mx + my * my < 1.0 {
                        p = self.lips.map(|c| c * shade);
                    }
                }
                if r2 < 1.25 && v < self.hair_line + 0.15 * (u * 6.0).sin() * 0.3 {
                    let texture = 1.0 + 0.25 * self.skin_texture[(i * 7) % (size * size)];
                    p = self.hair.map(|c| c * texture);
                }
                pixels.push(p);
            }
        }
        Canvas { size, pixels }
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    use super::*;

    const SIZE: usize = 100;

    /// A face facing the camera, lit from its right (`u` > 0), without texture: head centre
    /// (50, 55), half-axes 30 x 40 pixels, eyes at u = ±0.4, v = -0.2 (pixels 38 and 62,
    /// row 47), mouth at v = 0.5 (row 75).
    fn known_face() -> Face {
        Face {
            size: SIZE,
            background: [[30.0, 60.0, 90.0], [200.0, 150.0, 100.0]],
            background_texture: vec![0.0; SIZE * SIZE],
            skin: [200.0, 160.0, 130.0],
            hair: [40.0, 30.0, 20.0],
            skin_texture: vec![0.0; SIZE * SIZE],
            center: (50.0, 55.0),
            radii: (30.0, 40.0),
            pose: 0.0,
            light: 0.0,
            hair_line: -0.5,
            eye_dx: 0.4,
            eye_y: -0.2,
            eye_r: 0.1,
            iris: [50.0, 90.0, 40.0],
            mouth_y: 0.5,
            mouth_w: 0.3,
            lips: [180.0, 60.0, 70.0],
        }
    }

    fn at(canvas: &Canvas, x: usize, y: usize) -> [f32; 3] {
        canvas.pixels[y * canvas.size + x]
    }

    fn assert_close(got: [f32; 3], expected: [f32; 3], what: &str) {
        for c in 0..3 {
            assert!(
                (got[c] - expected[c]).abs() < 1e-3,
                "{what}: {got:?} != {expected:?}"
            );
        }
    }

    fn shaded(colour: [f32; 3], shade: f32) -> [f32; 3] {
        colour.map(|c| c * shade)
    }

    /// Pixel `(x, y)` of `canvas` is `colour` shaded as `face` shades that point.
    fn assert_shaded(
        face: &Face,
        canvas: &Canvas,
        (x, y): (usize, usize),
        colour: [f32; 3],
        what: &str,
    ) {
        let (u, v) = face.head_units(x, y);
        assert_close(at(canvas, x, y), shaded(colour, face.shade(u, v)), what);
    }

    #[test]
    fn shading_is_brightest_towards_the_light() {
        let face = known_face();
        // Facing the camera: 0.55 + 0.45 * 0.7.
        assert!((face.shade(0.0, 0.0) - 0.865).abs() < 1e-6);
        // Lit from u > 0: z = sqrt(0.75), 0.7 z ± 0.3 * 0.5.
        let z = 0.75f32.sqrt();
        assert!((face.shade(0.5, 0.0) - (0.55 + 0.45 * (0.7 * z + 0.15))).abs() < 1e-6);
        assert!((face.shade(-0.5, 0.0) - (0.55 + 0.45 * (0.7 * z - 0.15))).abs() < 1e-6);
        // Lit from below (v > 0): z = 0.8 at v = ±0.6, 0.7 z ± 0.18; at the top edge, facing
        // away, the clamp holds it at 0.55.
        let below = Face {
            light: std::f32::consts::FRAC_PI_2,
            ..known_face()
        };
        assert!((below.shade(0.0, 0.6) - (0.55 + 0.45 * 0.74)).abs() < 1e-6);
        assert!((below.shade(0.0, -0.6) - (0.55 + 0.45 * 0.38)).abs() < 1e-6);
        assert!((below.shade(0.0, -0.999) - 0.55).abs() < 1e-6);
        // Lit from 60 degrees: (cos, sin) = (0.5, 0.866); at (0.6, 0) 0.7 x 0.8 + 0.3 x 0.3,
        // at (0, 0.6) 0.7 x 0.8 + 0.3 x 0.52.
        let oblique = Face {
            light: std::f32::consts::FRAC_PI_3,
            ..known_face()
        };
        assert!((oblique.shade(0.6, 0.0) - (0.55 + 0.45 * 0.65)).abs() < 1e-6);
        let lit = 0.56 + 0.3 * 0.6 * 0.75f32.sqrt();
        assert!((oblique.shade(0.0, 0.6) - (0.55 + 0.45 * lit)).abs() < 1e-6);
    }

    #[test]
    fn head_units_rotate_with_the_pose() {
        let face = Face {
            pose: 0.3,
            ..known_face()
        };
        // A point at head units (u, v) sits at centre + R(pose) (30 u, 40 v).
        let (u, v) = (0.4f32, -0.2f32);
        let (sin, cos) = 0.3f32.sin_cos();
        let (dx, dy) = (30.0 * u, 40.0 * v);
        let (x, y) = (50.0 + cos * dx - sin * dy, 55.0 + sin * dx + cos * dy);
        // The nearest pixel (64, 51) is within a pixel of it.
        assert_eq!((x.round(), y.round()), (64.0, 51.0));
        let (pu, pv) = face.head_units(64, 51);
        assert!(
            (pu - u).abs() < 1.0 / 30.0 && (pv - v).abs() < 1.0 / 40.0,
            "({pu}, {pv})"
        );
        assert_eq!(known_face().head_units(50, 55), (0.0, 0.0));
        assert_eq!(known_face().head_units(80, 15), (1.0, -1.0));
    }

    #[test]
    fn the_scene_has_its_parts_where_the_parameters_put_them() {
        let face = known_face();
        let canvas = face.paint();
        assert_eq!(canvas.size, SIZE);
        // Background: the gradient from the top-left colour, t = (x + y) / 200.
        let [a, b] = face.background;
        let blend = |t: f32| [0, 1, 2].map(|c| a[c] * (1.0 - t) + b[c] * t);
        assert_close(at(&canvas, 0, 0), a, "top-left corner");
        assert_close(at(&canvas, 99, 99), blend(0.99), "bottom-right corner");
        assert_close(at(&canvas, 99, 0), blend(0.495), "top-right corner");
        // Just outside the head's side (u = 32 / 30): background, not hair (v = 0).
        assert_close(at(&canvas, 82, 55), blend(137.0 / 200.0), "beside the head");
        // The head: skin, shaded.
        assert_close(at(&canvas, 50, 55), shaded(face.skin, 0.865), "head centre");
        assert_shaded(&face, &canvas, (65, 60), face.skin, "cheek");
        // The eyes: pupils at their centres, iris and white around them.
        assert_eq!(at(&canvas, 38, 47), PUPIL, "left pupil");
        assert_eq!(at(&canvas, 62, 47), PUPIL, "right pupil");
        // e = ((1 / 30) / 0.1)^2 = 0.11
        assert_shaded(&face, &canvas, (63, 47), face.iris, "iris");
        // e = 0.44
        assert_shaded(&face, &canvas, (64, 47), EYE_WHITE, "white");
        // e = (3 / 40 / 0.06)^2 = 1.56: below the eye
        assert_shaded(&face, &canvas, (62, 50), face.skin, "under the eye");
        // The mouth: lips at its centre and 0.8 of its half-width out; skin beyond.
        assert_shaded(&face, &canvas, (50, 75), face.lips, "mouth");
        // u = 0.23 of 0.3
        assert_shaded(&face, &canvas, (57, 75), face.lips, "lip corner");
        // u = 0.33
        assert_shaded(&face, &canvas, (60, 75), face.skin, "past the lips");
        // v = 0.575: (0.075 / 0.06)^2 > 1
        assert_shaded(&face, &canvas, (50, 78), face.skin, "under the lips");
        // Hair: over the top of the head (v = -0.9) and just past its outline (v = -1.05).
        assert_close(at(&canvas, 50, 19), face.hair, "hair on the head");
        assert_close(at(&canvas, 50, 13), face.hair, "hair past the outline");
        // Above the hair band's reach (u^2 + v^2 = 1.44): background.
        assert_close(at(&canvas, 50, 7), blend(57.0 / 200.0), "above the hair");
        // The hair line waves with u: -0.5 + 0.045 sin(6 u) is -0.456 at u = 0.23 (x = 57),
        // -0.5 at u = 0 (x = 50). Row 36 is v = -0.475: hair at one, skin at the other.
        assert_close(at(&canvas, 57, 36), face.hair, "hair line at u = 0.23");
        assert_shaded(&face, &canvas, (50, 36), face.skin, "below the line");
    }

    #[test]
    fn the_pupils_follow_the_pose() {
        let face = Face {
            pose: 0.3,
            ..known_face()
        };
        let canvas = face.paint();
        // The pupil pixels' centroids sit where R(pose) puts the eye centres.
        let (sin, cos) = 0.3f32.sin_cos();
        for side in [-1.0f32, 1.0] {
            let (dx, dy) = (30.0 * 0.4 * side, 40.0 * -0.2);
            let expected = (50.0 + cos * dx - sin * dy, 55.0 + sin * dx + cos * dy);
            let pupil: Vec<(f32, f32)> = (0..SIZE * SIZE)
                .filter(|&i| canvas.pixels[i] == PUPIL)
                .map(|i| ((i % SIZE) as f32, (i / SIZE) as f32))
                .filter(|(x, _)| (x - expected.0).abs() < 5.0)
                .collect();
            assert!(!pupil.is_empty(), "no pupil near {expected:?}");
            let n = pupil.len() as f32;
            let centroid = (
                pupil.iter().map(|p| p.0).sum::<f32>() / n,
                pupil.iter().map(|p| p.1).sum::<f32>() / n,
            );
            assert!(
                (centroid.0 - expected.0).abs() < 1.0 && (centroid.1 - expected.1).abs() < 1.0,
                "pupil at {centroid:?}, expected {expected:?}"
            );
        }
    }

    #[test]
    fn textures_modulate_background_skin_and_hair() {
        // Texture value at pixel i: (i mod 7) / 3.5 - 0.8, never 0.
        let texture: Vec<f32> = (0..SIZE * SIZE)
            .map(|i| (i % 7) as f32 / 3.5 - 0.8)
            .collect();
        let face = Face {
            background_texture: texture.iter().map(|t| -t).collect(),
            skin_texture: texture.clone(),
            ..known_face()
        };
        let canvas = face.paint();
        let plain = known_face().paint();
        let i = |x: usize, y: usize| y * SIZE + x;
        // Background: ±25 levels of its texture on every channel.
        let n = -texture[i(0, 0)] * 25.0;
        assert_close(
            at(&canvas, 0, 0),
            at(&plain, 0, 0).map(|c| c + n),
            "background",
        );
        // Skin: ±6% of its colour.
        let t = 1.0 + 0.06 * texture[i(50, 55)];
        assert_close(
            at(&canvas, 50, 55),
            at(&plain, 50, 55).map(|c| c * t),
            "skin",
        );
        // Hair: ±25%, from the skin texture at 7 i mod n.
        let t = 1.0 + 0.25 * texture[(i(50, 19) * 7) % (SIZE * SIZE)];
        assert_close(at(&canvas, 50, 19), face.hair.map(|c| c * t), "hair");
        for (x, y) in [(0, 0), (50, 55), (50, 19)] {
            assert_ne!(
                at(&canvas, x, y),
                at(&plain, x, y),
                "({x}, {y}) has no texture"
            );
        }
    }

    #[test]
    fn random_faces_stay_within_their_ranges() {
        let s = 64.0;
        let within = |v: f32, low: f32, high: f32| (low..high).contains(&v);
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        let faces: Vec<Face> = (0..200).map(|_| Face::random(64, &mut rng)).collect();
        for f in &faces {
            assert_eq!(f.size, 64);
            assert_eq!(f.background_texture.len(), 64 * 64);
            assert_eq!(f.skin_texture.len(), 64 * 64);
            assert!(
                f.background
                    .iter()
                    .flatten()
                    .all(|&c| within(c, 20.0, 230.0))
            );
            let tone = (f.skin[0] - 90.0) / 150.0;
            assert!(within(tone, 0.25, 1.0), "tone {tone}");
            let expected_skin = [
                90.0 + 150.0 * tone,
                55.0 + 135.0 * tone,
                40.0 + 120.0 * tone,
            ];
            assert_close(f.skin, expected_skin, "skin");
            assert!(f.hair.iter().all(|&c| within(c, 10.0, 160.0)));
            assert!(within(f.center.0, 0.42 * s, 0.58 * s), "{:?}", f.center);
            assert!(within(f.center.1, 0.47 * s, 0.60 * s), "{:?}", f.center);
            assert!(within(f.radii.0, 0.24 * s, 0.32 * s), "{:?}", f.radii);
            assert!(within(f.radii.1, 0.32 * s, 0.40 * s), "{:?}", f.radii);
            assert!(within(f.pose, -0.35, 0.35));
            assert!(within(f.light, 0.0, std::f32::consts::TAU));
            assert!(within(f.hair_line, -0.55, -0.25));
            assert!(within(f.eye_dx, 0.30, 0.42));
            assert!(within(f.eye_y, -0.25, -0.10));
            assert!(within(f.eye_r, 0.08, 0.13));
            assert!(f.iris.iter().all(|&c| within(c, 20.0, 120.0)));
            assert!(within(f.mouth_y, 0.40, 0.55));
            assert!(within(f.mouth_w, 0.25, 0.45));
            assert!(within(f.lips[0], 120.0, 200.0));
            assert!(within(f.lips[1], 40.0, 90.0));
            assert!(within(f.lips[2], 50.0, 100.0));
        }
        // They vary: poses of both signs, lights all round.
        assert!(faces.iter().any(|f| f.pose < -0.2) && faces.iter().any(|f| f.pose > 0.2));
        assert!(faces.iter().any(|f| f.light > 5.0) && faces.iter().any(|f| f.light < 1.0));
    }
}
