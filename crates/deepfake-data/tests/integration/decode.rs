//! Decoding corner cases: EXIF orientation, CMYK, 16-bit, palette, alpha, bad bytes, limits.

use std::path::Path;

use deepfake_data::DataError;
use deepfake_data::decode::{DecodeLimits, decode_bytes};
use deepfake_data::normalize::{normalize_into, preprocess_eval};

use crate::fixtures::{fixture, load as decode};

#[test]
fn exif_orientation_is_applied() {
    let image = decode("exif_orientation6.jpg");
    assert_eq!(image.dimensions(), (20, 40));
    let expected = decode("exif_orientation6_expected.png");
    assert_eq!(expected.dimensions(), image.dimensions());
    let mean: f64 = image
        .iter()
        .zip(expected.iter())
        .map(|(a, b)| f64::from(a.abs_diff(*b)))
        .sum::<f64>()
        / image.len() as f64;
    assert!(
        mean < 1.0,
        "differs from PIL's upright decode by {mean} levels on average"
    );
}

#[test]
fn cmyk_16_bit_palette_and_alpha_become_rgb8() {
    for name in ["cmyk.jpg", "gray16.png", "palette.png", "rgba.png"] {
        let image = decode(name);
        assert_eq!(image.dimensions(), (40, 20), "{name}");
    }
    // 16-bit gray: the last pixel is white, the first black, and R = G = B.
    let gray = decode("gray16.png");
    assert_eq!(gray.get_pixel(39, 19).0, [255, 255, 255]);
    assert_eq!(gray.get_pixel(0, 0).0, [0, 0, 0]);
    // CMYK converts to colours close to the RGB source's.
    let cmyk = decode("cmyk.jpg");
    let rgba = decode("rgba.png");
    assert_eq!(cmyk.dimensions(), rgba.dimensions());
    let mean: f64 = cmyk
        .iter()
        .zip(rgba.iter())
        .map(|(a, b)| f64::from(a.abs_diff(*b)))
        .sum::<f64>()
        / cmyk.len() as f64;
    assert!(
        mean < 12.0,
        "CMYK decode is off by {mean} levels on average"
    );
}

#[test]
fn bad_bytes_are_errors_not_panics() {
    let path = Path::new("x.jpg");
    let limits = DecodeLimits::default();
    assert!(matches!(
        decode_bytes(&[], path, limits),
        Err(DataError::Decode { .. })
    ));
    assert!(matches!(
        decode_bytes(b"<html>not an image</html>", path, limits),
        Err(DataError::Decode { .. })
    ));
    let jpeg = std::fs::read(fixture("cmyk.jpg")).unwrap();
    assert!(decode_bytes(&jpeg[..jpeg.len() / 3], path, limits).is_err());
}

#[test]
fn images_over_the_pixel_limit_are_refused_before_decoding() {
    let png = std::fs::read(fixture("rgba.png")).unwrap();
    let err = decode_bytes(
        &png,
        Path::new("rgba.png"),
        DecodeLimits { max_pixels: 100 },
    )
    .unwrap_err();
    assert!(
        matches!(err, DataError::TooLarge { pixels: 800, .. }),
        "{err}"
    );
    // The limit itself is allowed: 40 x 20 = 800 pixels.
    let at_limit = DecodeLimits { max_pixels: 800 };
    assert!(decode_bytes(&png, Path::new("rgba.png"), at_limit).is_ok());
    let under = DecodeLimits { max_pixels: 799 };
    assert!(decode_bytes(&png, Path::new("rgba.png"), under).is_err());
    // The default limit (64 Mi pixels) takes a 16-megapixel photo.
    let big = image::RgbImage::from_pixel(4096, 4096, image::Rgb([40, 90, 200]));
    let mut png = Vec::new();
    big.write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    let decoded = decode_bytes(&png, Path::new("big.png"), DecodeLimits::default()).unwrap();
    assert_eq!(decoded.dimensions(), (4096, 4096));
}

#[test]
fn normalisation_by_hand() {
    let image = image::RgbImage::from_pixel(2, 1, image::Rgb([255, 0, 128]));
    let mut out = Vec::new();
    normalize_into(&image, &mut out);
    let expected = [
        (1.0 - 0.485) / 0.229,
        (0.0 - 0.456) / 0.224,
        (128.0 / 255.0 - 0.406) / 0.225,
    ];
    for c in 0..3 {
        for x in 0..2 {
            assert!((out[c * 2 + x] - expected[c]).abs() < 1e-5, "{out:?}");
        }
    }
    assert_eq!(preprocess_eval(&image, 4).unwrap().len(), 3 * 16);
}
