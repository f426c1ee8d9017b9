//! FFHQ-style face alignment: the square the FFHQ data set's script
//! (`recreate_aligned_images` in NVlabs/ffhq-dataset) cuts around a face, computed from MTCNN's
//! five landmarks, resampled to the crop size the detector was trained on.

use image::{Rgb, RgbImage};

use crate::face::Face;

/// Side of an aligned face crop in pixels: the 140k set's faces are 256x256 FFHQ-aligned crops
/// (the detector's own preprocessing then resizes them to its input size).
pub const ALIGNED_SIZE: u32 = 256;

/// Most samples per axis averaged into one output pixel when shrinking a large face.
const MAX_SUPERSAMPLING: usize = 8;

/// The square FFHQ's alignment crops around a face, in image pixels. Its sides follow the
/// face's roll; the face's eyes sit a little above its centre.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AlignedQuad {
    /// Centre of the square.
    pub centre: [f32; 2],
    /// Half of the top edge, pointing right (x in the crop).
    pub half_x: [f32; 2],
    /// Half of the left edge, pointing down (y in the crop).
    pub half_y: [f32; 2],
}

impl AlignedQuad {
    /// FFHQ's square from the eyes and mouth corners among `landmarks` (left eye, right eye,
    /// nose, left and right mouth corner): it is oriented by the eye-to-eye line and the
    /// eye-to-mouth line together, twice the eye distance (or 1.8 times the eye-to-mouth
    /// distance, if larger) wide on each side of its centre, centred a tenth of the way
    /// from the eyes to the mouth.
    pub fn from_landmarks(landmarks: &[[f32; 2]; 5]) -> Self {
        let [eye_left, eye_right, _, mouth_left, mouth_right] =
            landmarks.map(|p| [p[0] as f64, p[1] as f64]);
        let eye_avg = [
            (eye_left[0] + eye_right[0]) / 2.0,
            (eye_left[1] + eye_right[1]) / 2.0,
        ];
        let eye_to_eye = [eye_right[0] - eye_left[0], eye_right[1] - eye_left[1]];
        let mouth_avg = [
            (mouth_left[0] + mouth_right[0]) / 2.0,
            (mouth_left[1] + mouth_right[1]) / 2.0,
        ];
        let eye_to_mouth = [mouth_avg[0] - eye_avg[0], mouth_avg[1] - eye_avg[1]];
        // x = eye_to_eye - flipud(eye_to_mouth) * [-1, 1]
        let mut x = [
            eye_to_eye[0] + eye_to_mouth[1],
            eye_to_eye[1] - eye_to_mouth[0],
        ];
        let norm = x[0].hypot(x[1]).max(f64::MIN_POSITIVE);
        let half = (eye_to_eye[0].hypot(eye_to_eye[1]) * 2.0)
            .max(eye_to_mouth[0].hypot(eye_to_mouth[1]) * 1.8);
        x = [x[0] / norm * half, x[1] / norm * half];
        let y = [-x[1], x[0]];
        let c = [
            eye_avg[0] + eye_to_mouth[0] * 0.1,
            eye_avg[1] + eye_to_mouth[1] * 0.1,
        ];
        Self {
            centre: [c[0] as f32, c[1] as f32],
            half_x: [x[0] as f32, x[1] as f32],
            half_y: [y[0] as f32, y[1] as f32],
        }
    }

    /// Side of the square, in image pixels.
    pub fn side(&self) -> f32 {
        2.0 * self.half_x[0].hypot(self.half_x[1])
    }

    /// Roll of the square (angle of its top edge to the image's x axis), in degrees.
    pub fn roll_degrees(&self) -> f32 {
        self.half_x[1].atan2(self.half_x[0]).to_degrees()
    }

    /// Where image point `p` (pixel-index coordinates, as landmarks) lands in a `size x size`
    /// crop, in crop coordinates (0..size; pixel centres at +0.5): the inverse of
    /// [`Self::to_image`].
    pub fn to_crop(&self, p: [f32; 2], size: f32) -> [f32; 2] {
        let d = [p[0] - self.centre[0], p[1] - self.centre[1]];
        let length2 = self.half_x[0] * self.half_x[0] + self.half_x[1] * self.half_x[1];
        let a = (d[0] * self.half_x[0] + d[1] * self.half_x[1]) / length2;
        let b = (d[0] * self.half_y[0] + d[1] * self.half_y[1]) / length2;
        [(a + 1.0) * size / 2.0, (b + 1.0) * size / 2.0]
    }

    /// The image point shown at `(u, v)` of a `size x size` crop: `(u, v)` in crop coordinates
    /// (0..size, pixel centres at +0.5), the point in pixel-index coordinates (pixel `(i, j)`'s
    /// centre at `(i, j)`), the coordinates of MTCNN's landmarks. The crop's edges are the
    /// square's, as in FFHQ's script (whose dlib landmarks are pixel indices, and which hands
    /// PIL the square plus half a pixel).
    pub fn to_image(&self, u: f32, v: f32, size: f32) -> [f32; 2] {
        self.image_point(f64::from(u), f64::from(v), f64::from(size))
            .map(|c| c as f32)
    }

    /// [`Self::to_image`] in f64, as PIL computes its samples' positions.
    fn image_point(&self, u: f64, v: f64, size: f64) -> [f64; 2] {
        let [c, x, y] = [self.centre, self.half_x, self.half_y].map(|p| p.map(f64::from));
        let a = 2.0 * u / size - 1.0;
        let b = 2.0 * v / size - 1.0;
        [c[0] + a * x[0] + b * y[0], c[1] + a * x[1] + b * y[1]]
    }
}

/// `face` cut out of `image` along its [`AlignedQuad`] as a `size x size` crop.
///
/// Each pixel is PIL's bilinear sample at the point [`AlignedQuad::to_image`] gives for its
/// centre, as FFHQ's script takes it (`Image.transform(QUAD, BILINEAR)`: the value truncated to
/// a whole level): a face no larger than the crop comes out as PIL's crop, pixel for pixel.
/// A face larger than the crop is shrunk without aliasing: each pixel is the mean (rounded)
/// of up to 8x8 such samples spread over it. Outside the image the border pixels repeat.
pub fn align_face(image: &RgbImage, face: &Face, size: u32) -> RgbImage {
    let quad = AlignedQuad::from_landmarks(&face.landmarks);
    let samples = ((quad.side() / size as f32).ceil() as usize).clamp(1, MAX_SUPERSAMPLING);
    let weight = 1.0 / (samples * samples) as f64;
    let s = f64::from(size);
    RgbImage::from_fn(size, size, |u, v| {
        let mut sum = [0.0f64; 3];
        for j in 0..samples {
            for i in 0..samples {
                let du = (i as f64 + 0.5) / samples as f64;
                let dv = (j as f64 + 0.5) / samples as f64;
                let [x, y] = quad.image_point(f64::from(u) + du, f64::from(v) + dv, s);
                let rgb = bilinear(image, x, y);
                for c in 0..3 {
                    sum[c] += rgb[c].floor();
                }
            }
        }
        Rgb(sum.map(|v| (v * weight).round().clamp(0.0, 255.0) as u8))
    })
}

/// Bilinear interpolation at pixel-index coordinates `(x, y)` (pixel `i`'s centre at `i`),
/// with the border repeated outside the image; in f64 and in PIL's order of operations.
fn bilinear(image: &RgbImage, x: f64, y: f64) -> [f64; 3] {
    let (w, h) = (image.width() as i64, image.height() as i64);
    let x0 = x.floor();
    let y0 = y.floor();
    let (fx, fy) = (x - x0, y - y0);
    let at = |xi: i64, yi: i64| {
        let p = image.get_pixel(xi.clamp(0, w - 1) as u32, yi.clamp(0, h - 1) as u32);
        p.0.map(f64::from)
    };
    let (x0, y0) = (x0 as i64, y0 as i64);
    let (a, b, c, d) = (
        at(x0, y0),
        at(x0 + 1, y0),
        at(x0, y0 + 1),
        at(x0 + 1, y0 + 1),
    );
    std::array::from_fn(|k| {
        let top = a[k] + (b[k] - a[k]) * fx;
        let bottom = c[k] + (d[k] - c[k]) * fx;
        top + (bottom - top) * fy
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn upright_face() -> [[f32; 2]; 5] {
        // Eyes 40 px apart at y = 100, mouth 50 px below them.
        [
            [80.0, 100.0],
            [120.0, 100.0],
            [100.0, 125.0],
            [85.0, 150.0],
            [115.0, 150.0],
        ]
    }

    #[test]
    fn upright_face_gives_an_axis_aligned_square_as_ffhq_computes_it() {
        let quad = AlignedQuad::from_landmarks(&upright_face());
        // x = (40 + 50, 0) normalised, times max(2 * 40, 1.8 * 50) = 90.
        assert_eq!(quad.half_x, [90.0, 0.0]);
        assert_eq!(quad.half_y, [0.0, 90.0]);
        // Centre: eye midpoint (100, 100) plus a tenth of the way to the mouth (0, 5).
        assert_eq!(quad.centre, [100.0, 105.0]);
        assert_eq!(quad.side(), 180.0);
        assert_eq!(quad.roll_degrees(), 0.0);
    }

    #[test]
    fn rolled_face_gives_a_rolled_square() {
        // The upright face turned by 30 degrees about (100, 100).
        let (sin, cos) = 30f32.to_radians().sin_cos();
        let turned = upright_face().map(|[x, y]| {
            let (dx, dy) = (x - 100.0, y - 100.0);
            [100.0 + dx * cos - dy * sin, 100.0 + dx * sin + dy * cos]
        });
        let quad = AlignedQuad::from_landmarks(&turned);
        assert!(
            (quad.roll_degrees() - 30.0).abs() < 1e-3,
            "{}",
            quad.roll_degrees()
        );
        assert!((quad.side() - 180.0).abs() < 1e-3);
    }

    #[test]
    fn crop_maps_the_quad_onto_the_output() {
        // A horizontal ramp: the crop of an upright face must show image columns 10..190.
        let image = RgbImage::from_fn(300, 300, |x, _| Rgb([x.min(255) as u8, 0, 0]));
        let face = Face {
            bbox: [60.0, 60.0, 140.0, 160.0],
            probability: 1.0,
            landmarks: upright_face(),
        };
        let crop = align_face(&image, &face, 180);
        // Crop pixel u's centre shows image x = 10 + u + 0.5, halfway between pixels 10 + u
        // and 11 + u: red 10.5 + u, truncated to a whole level as PIL does.
        for u in [0u32, 45, 179] {
            assert_eq!(crop.get_pixel(u, 90).0[0] as u32, 10 + u, "column {u}");
        }
    }

    #[test]
    fn the_crops_corners_are_the_squares_and_to_crop_undoes_to_image() {
        let (sin, cos) = 30f32.to_radians().sin_cos();
        let quad = AlignedQuad {
            centre: [200.0, 150.0],
            half_x: [90.0 * cos, 90.0 * sin],
            half_y: [-90.0 * sin, 90.0 * cos],
        };
        let [c, x, y] = [quad.centre, quad.half_x, quad.half_y];
        let size = 256.0;
        for (u, v, a, b) in [
            (0.0, 0.0, -1.0, -1.0),
            (size, 0.0, 1.0, -1.0),
            (0.0, size, -1.0, 1.0),
            (size, size, 1.0, 1.0),
        ] {
            let corner = quad.to_image(u, v, size);
            let want = [c[0] + a * x[0] + b * y[0], c[1] + a * x[1] + b * y[1]];
            assert!(
                (corner[0] - want[0]).hypot(corner[1] - want[1]) < 1e-3,
                "({u}, {v}): {corner:?} vs {want:?}"
            );
        }
        for (u, v) in [(10.5, 200.25), (128.0, 128.0), (255.5, 0.5)] {
            let back = quad.to_crop(quad.to_image(u, v, size), size);
            assert!(
                (back[0] - u).hypot(back[1] - v) < 1e-3,
                "({u}, {v}): {back:?}"
            );
        }
    }

    #[test]
    fn outside_the_image_the_border_pixels_repeat() {
        // A 50 x 50 image, red 5x and green 5y; the upright face's square (10..190 by
        // 15..195) reaches far past its right and bottom edges.
        let image = RgbImage::from_fn(50, 50, |x, y| Rgb([5 * x as u8, 5 * y as u8, 0]));
        let face = Face {
            bbox: [0.0; 4],
            probability: 1.0,
            landmarks: upright_face(),
        };
        let crop = align_face(&image, &face, 180);
        // Crop column 100 shows image x = 110.5 and row 100 image y = 115.5: both past the
        // edge, so the last column's and the last row's values.
        assert_eq!(crop.get_pixel(100, 100).0, [245, 245, 0]);
        // Column 20 shows x = 30.5, inside: red 152.5, truncated; row 100 still past the edge.
        assert_eq!(crop.get_pixel(20, 100).0, [152, 245, 0]);
    }
}
