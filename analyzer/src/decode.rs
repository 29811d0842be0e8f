//! Decoding a stored photo for analysis: JPEG, PNG or WebP; EXIF orientation applied; scaled
//! down early. JPEGs are decoded straight at n/8 scale (in the DCT), so a 12 MP photo never
//! becomes 36 MB of pixels.

use std::io::Cursor;

use image::imageops;
use image::{ImageFormat, RgbImage};

use crate::pixels::resize;
use contract::PhotoSettings;

/// The longest side the labelers need: more than either model's input.
pub const LABELS_SIDE: u32 = 640;
/// The longest side faces need: the small faces of a group photo are found in tiles of a
/// quarter of its shorter side, which must still hold them at 20 pixels or more.
pub const FACES_SIDE: u32 = 1920;

/// Refuse images whose pixels alone would take more memory than this (decompression bombs).
const MAX_DECODED_BYTES: u64 = 512 * 1024 * 1024;

/// Why a photo cannot be analysed; permanent, so the image is marked failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Undecodable(pub String);

/// Decodes, orients and downscales a photo so that its longest side is at most `longest`,
/// within the most pixels any tier accepts ([`decode_within`]).
pub fn decode(bytes: &[u8], longest: u32) -> Result<RgbImage, Undecodable> {
    decode_within(bytes, longest, PhotoSettings::MAX_PIXELS_CEILING)
}

/// [`decode`], refusing a photo whose header declares more than `max_pixels` before any decoder
/// allocates for it (the upload checked the same; this holds for objects that changed since).
pub fn decode_within(bytes: &[u8], longest: u32, max_pixels: u64) -> Result<RgbImage, Undecodable> {
    let format = image::guess_format(bytes).map_err(|_| Undecodable("the object is not a JPEG, PNG or WebP photo".into()))?;
    let (width, height) = image::ImageReader::with_format(Cursor::new(bytes), format)
        .into_dimensions()
        .map_err(|err| Undecodable(format!("the {} photo's header cannot be read: {err}", name(format))))?;
    domain::photos::check_pixels(width, height, max_pixels).map_err(|refused| Undecodable(refused.to_string()))?;
    let image = match format {
        ImageFormat::Jpeg => decode_jpeg(bytes, longest)?,
        ImageFormat::Png | ImageFormat::WebP => {
            let mut reader = image::ImageReader::with_format(Cursor::new(bytes), format);
            let mut limits = image::Limits::default();
            limits.max_alloc = Some(MAX_DECODED_BYTES);
            reader.limits(limits);
            let decoded = reader.decode().map_err(|err| Undecodable(format!("the {format:?} photo cannot be decoded: {err}")))?;
            onto_white(decoded)
        }
        other => return Err(Undecodable(format!("{other:?} is not a supported photo format"))),
    };
    downscale(orient(image, orientation(bytes)), longest)
}

/// The image as seen on a page: transparent pixels composited onto white. Without it a PNG or
/// WebP drawn in black on a transparent background (diagrams, logos, screenshots) becomes black
/// on black, for the engines and in the thumbnail and preview alike. Palette PNGs with a
/// transparent colour arrive here with alpha too (the decoder expands them).
fn onto_white(image: image::DynamicImage) -> RgbImage {
    if !image.color().has_alpha() {
        return image.to_rgb8();
    }
    let rgba = image.to_rgba8();
    let (width, height) = rgba.dimensions();
    let pixels = rgba
        .pixels()
        .flat_map(|pixel| {
            let [r, g, b, a] = pixel.0.map(u32::from);
            [r, g, b].map(|channel| ((channel * a + 255 * (255 - a) + 127) / 255) as u8)
        })
        .collect();
    RgbImage::from_raw(width, height, pixels).unwrap_or_else(|| image.to_rgb8())
}

fn name(format: ImageFormat) -> &'static str {
    match format {
        ImageFormat::Jpeg => "JPEG",
        ImageFormat::Png => "PNG",
        ImageFormat::WebP => "WebP",
        _ => "image",
    }
}

/// JPEGs are decoded by libjpeg-turbo (through mozjpeg), scaled by n/8 in the DCT: 25% faster
/// than a pure-Rust decoder on a 12 MP photo, and what Pillow uses.
fn decode_jpeg(bytes: &[u8], longest: u32) -> Result<RgbImage, Undecodable> {
    // libjpeg reports a fatal error by unwinding out of the decoder (the mozjpeg crate's error
    // manager, which skips the panic hook): caught here, it is an undecodable photo.
    std::panic::catch_unwind(|| decode_jpeg_unguarded(bytes, longest)).unwrap_or_else(|payload| {
        let reason = payload
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| payload.downcast_ref::<&str>().copied())
            .unwrap_or("libjpeg failed");
        Err(Undecodable(format!("the JPEG photo cannot be decoded: {reason}")))
    })
}

fn decode_jpeg_unguarded(bytes: &[u8], longest: u32) -> Result<RgbImage, Undecodable> {
    let invalid = |err: std::io::Error| Undecodable(format!("the JPEG photo cannot be decoded: {err}"));
    let mut decompress = mozjpeg::Decompress::new_mem(bytes).map_err(invalid)?;
    let (width, height) = decompress.size();
    // The smallest n/8 that still gives the asked size.
    let eighths = (longest as usize * 8).div_ceil(width.max(height).max(1)).clamp(1, 8);
    let scaled_bytes = (width * eighths).div_ceil(8) as u64 * (height * eighths).div_ceil(8) as u64 * 4;
    if scaled_bytes > MAX_DECODED_BYTES {
        return Err(Undecodable(format!("the JPEG is too large to decode ({width}x{height})")));
    }
    decompress.scale(eighths as u8);
    let cmyk = matches!(decompress.color_space(), mozjpeg::ColorSpace::JCS_CMYK | mozjpeg::ColorSpace::JCS_YCCK);
    // libjpeg turns grey and YCbCr into RGB itself; CMYK (and YCCK, as CMYK) is converted here.
    let mut started = if cmyk {
        match decompress.image().map_err(invalid)? {
            mozjpeg::Format::CMYK(started) | mozjpeg::Format::RGB(started) | mozjpeg::Format::Gray(started) => started,
        }
    } else {
        decompress.rgb().map_err(invalid)?
    };
    let (width, height) = (started.width() as u32, started.height() as u32);
    let pixels: Vec<u8> = started.read_scanlines().map_err(invalid)?;
    started.finish().map_err(invalid)?;
    let rgb = if cmyk {
        pixels
            .chunks_exact(4)
            .flat_map(|p| {
                // Adobe's CMYK JPEGs store inverted inks: the value is already 255 - ink.
                let k = u16::from(p[3]);
                [p[0], p[1], p[2]].map(|c| ((u16::from(c) * k) / 255) as u8)
            })
            .collect()
    } else {
        pixels
    };
    RgbImage::from_raw(width, height, rgb).ok_or_else(|| Undecodable("the JPEG's pixel data is truncated".into()))
}

/// EXIF orientation (1-8), 1 when absent.
fn orientation(bytes: &[u8]) -> u32 {
    exif::Reader::new()
        .read_from_container(&mut Cursor::new(bytes))
        .ok()
        .and_then(|exif| exif.get_field(exif::Tag::Orientation, exif::In::PRIMARY).and_then(|f| f.value.get_uint(0)))
        .unwrap_or(1)
}

fn orient(image: RgbImage, orientation: u32) -> RgbImage {
    match orientation {
        2 => imageops::flip_horizontal(&image),
        3 => imageops::rotate180(&image),
        4 => imageops::flip_vertical(&image),
        5 => imageops::flip_horizontal(&imageops::rotate90(&image)),
        6 => imageops::rotate90(&image),
        7 => imageops::flip_horizontal(&imageops::rotate270(&image)),
        8 => imageops::rotate270(&image),
        _ => image,
    }
}

fn downscale(image: RgbImage, longest: u32) -> Result<RgbImage, Undecodable> {
    let (width, height) = image.dimensions();
    if width.max(height) <= longest {
        return Ok(image);
    }
    let factor = longest as f32 / width.max(height) as f32;
    resize(&image, (width as f32 * factor).round() as u32, (height as f32 * factor).round() as u32)
        .map_err(|err| Undecodable(format!("the photo cannot be scaled: {err}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encoded(image: &RgbImage, format: ImageFormat) -> Vec<u8> {
        let mut bytes = Vec::new();
        image.write_to(&mut Cursor::new(&mut bytes), format).unwrap();
        bytes
    }

    #[test]
    fn a_large_jpeg_is_decoded_scaled_down() {
        let photo = RgbImage::from_pixel(4000, 3000, image::Rgb([200, 100, 50]));
        let decoded = decode(&encoded(&photo, ImageFormat::Jpeg), LABELS_SIDE).unwrap();
        assert_eq!(decoded.dimensions(), (640, 480));
        let pixel = decoded.get_pixel(320, 240);
        assert!((i32::from(pixel[0]) - 200).abs() < 8, "{pixel:?}");
    }

    #[test]
    fn small_photos_keep_their_size_and_garbage_is_undecodable() {
        let photo = RgbImage::from_pixel(30, 20, image::Rgb([1, 2, 3]));
        assert_eq!(decode(&encoded(&photo, ImageFormat::Png), LABELS_SIDE).unwrap().dimensions(), (30, 20));
        assert!(decode(b"definitely not a photo", LABELS_SIDE).is_err());
        let png = encoded(&photo, ImageFormat::Png);
        assert!(decode(&png[..png.len() / 2], LABELS_SIDE).is_err(), "a truncated PNG decoded");
    }

    #[test]
    fn grey_and_cmyk_jpegs_become_rgb() {
        let grey = image::GrayImage::from_pixel(40, 30, image::Luma([90]));
        let mut bytes = Vec::new();
        grey.write_to(&mut Cursor::new(&mut bytes), ImageFormat::Jpeg).unwrap();
        let decoded = decode(&bytes, LABELS_SIDE).unwrap();
        assert_eq!(decoded.dimensions(), (40, 30));
        assert!(decoded.get_pixel(20, 15).0.iter().all(|&v| (i32::from(v) - 90).abs() < 4), "{:?}", decoded.get_pixel(20, 15));

        // Inverted CMYK as Adobe writes it: no ink (255) but half the black (128) is mid grey.
        let mut compress = mozjpeg::Compress::new(mozjpeg::ColorSpace::JCS_CMYK);
        compress.set_size(16, 16);
        let mut started = compress.start_compress(Vec::new()).unwrap();
        started.write_scanlines(&[255, 255, 255, 128].repeat(16 * 16)).unwrap();
        let cmyk = started.finish().unwrap();
        let decoded = decode(&cmyk, LABELS_SIDE).unwrap();
        assert_eq!(decoded.dimensions(), (16, 16));
        assert!(decoded.get_pixel(8, 8).0.iter().all(|&v| (i32::from(v) - 128).abs() < 6), "{:?}", decoded.get_pixel(8, 8));
    }

    #[test]
    fn headers_declaring_more_pixels_than_allowed_are_refused_before_decoding() {
        use domain::testing::declaring_size;
        let photo = RgbImage::from_pixel(64, 48, image::Rgb([10, 20, 30]));
        let jpeg = encoded(&photo, ImageFormat::Jpeg);
        let webp = {
            let mut bytes = Vec::new();
            image::codecs::webp::WebPEncoder::new_lossless(&mut bytes)
                .encode(photo.as_raw(), 64, 48, image::ExtendedColorType::Rgb8)
                .unwrap();
            bytes
        };
        let crafted = [
            ("baseline JPEG", declaring_size(&jpeg, 65_500, 65_500, false).unwrap()),
            ("progressive JPEG", declaring_size(&jpeg, 65_500, 65_500, true).unwrap()),
            ("PNG", declaring_size(&encoded(&photo, ImageFormat::Png), 100_000, 100_000, false).unwrap()),
            ("WebP", declaring_size(&webp, 16_383, 16_383, false).unwrap()),
        ];
        for (what, bytes) in crafted {
            assert!(bytes.len() < 2000, "{what}: {} bytes", bytes.len());
            let refused = decode_within(&bytes, LABELS_SIDE, 100_000_000).unwrap_err();
            assert!(refused.0.contains("pixels; this tier accepts at most 100000000"), "{what}: {refused:?}");
        }
        // The same photo within the limit decodes as before.
        assert_eq!(decode_within(&jpeg, LABELS_SIDE, 64 * 48).unwrap().dimensions(), (64, 48));
        assert!(decode_within(&jpeg, LABELS_SIDE, 64 * 48 - 1).is_err());
    }

    #[test]
    fn broken_jpegs_are_undecodable_not_a_panic() {
        let photo = RgbImage::from_pixel(64, 64, image::Rgb([10, 20, 30]));
        let jpeg = encoded(&photo, ImageFormat::Jpeg);
        for broken in [&jpeg[..40], b"\xFF\xD8\xFF\xE0 not really a jpeg".as_slice()] {
            let error = decode(broken, LABELS_SIDE).unwrap_err();
            assert!(error.0.contains("JPEG"), "{error:?}");
        }
    }

    #[test]
    fn transparent_pixels_are_white_and_opaque_ones_keep_their_colour() {
        // Black strokes on a fully transparent black background, half-transparent red beside.
        let mut drawing = image::RgbaImage::from_pixel(8, 4, image::Rgba([0, 0, 0, 0]));
        drawing.put_pixel(1, 1, image::Rgba([0, 0, 0, 255]));
        drawing.put_pixel(2, 1, image::Rgba([255, 0, 0, 128]));
        let mut png = Vec::new();
        drawing.write_to(&mut Cursor::new(&mut png), ImageFormat::Png).unwrap();
        let mut webp = Vec::new();
        image::codecs::webp::WebPEncoder::new_lossless(&mut webp).encode(drawing.as_raw(), 8, 4, image::ExtendedColorType::Rgba8).unwrap();
        for (what, bytes) in [("PNG", png), ("WebP", webp), ("palette PNG", palette_png_with_a_transparent_colour())] {
            let decoded = decode(&bytes, LABELS_SIDE).unwrap();
            assert_eq!(decoded.get_pixel(0, 0).0, [255, 255, 255], "{what}: the background");
            assert_eq!(decoded.get_pixel(1, 1).0, [0, 0, 0], "{what}: a stroke");
            if what != "palette PNG" {
                assert_eq!(decoded.get_pixel(2, 1).0, [255, 127, 127], "{what}: half red on white");
            }
        }
    }

    /// 8 x 4, palette index 0 (black) transparent by `tRNS`, a stroke of index 1 (black, opaque)
    /// at (1, 1).
    fn palette_png_with_a_transparent_colour() -> Vec<u8> {
        let mut bytes = Vec::new();
        let mut encoder = png::Encoder::new(&mut bytes, 8, 4);
        encoder.set_color(png::ColorType::Indexed);
        encoder.set_depth(png::BitDepth::Eight);
        encoder.set_palette(vec![0, 0, 0, 0, 0, 0]);
        encoder.set_trns(vec![0]);
        let mut writer = encoder.write_header().unwrap();
        let mut indices = vec![0u8; 8 * 4];
        indices[8 + 1] = 1;
        writer.write_image_data(&indices).unwrap();
        writer.finish().unwrap();
        bytes
    }

    #[test]
    fn orientation_turns_the_image() {
        let photo = RgbImage::from_pixel(30, 20, image::Rgb([1, 2, 3]));
        assert_eq!(orient(photo.clone(), 6).dimensions(), (20, 30));
        assert_eq!(orient(photo, 1).dimensions(), (30, 20));
    }
}
