//! Decoding a stored photo for analysis: JPEG, PNG or WebP; EXIF orientation applied; scaled
//! down early. JPEGs are decoded straight at 1/2, 1/4 or 1/8 scale (in the DCT), so a 12 MP
//! photo never becomes 36 MB of pixels.

use std::io::Cursor;

use image::imageops;
use image::{ImageFormat, RgbImage};

use crate::pixels::resize;

/// The longest side the labelers get: more than either model's input needs.
pub const WORKING_SIDE: u32 = 640;

/// Refuse images whose pixels alone would take more memory than this (decompression bombs).
const MAX_DECODED_BYTES: u64 = 512 * 1024 * 1024;

/// Why a photo cannot be analysed; permanent, so the image is marked failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Undecodable(pub String);

/// Decodes, orients and downscales a photo.
pub fn decode(bytes: &[u8]) -> Result<RgbImage, Undecodable> {
    let format = image::guess_format(bytes)
        .map_err(|_| Undecodable("the object is not a JPEG, PNG or WebP photo".into()))?;
    let image = match format {
        ImageFormat::Jpeg => decode_jpeg(bytes)?,
        ImageFormat::Png | ImageFormat::WebP => {
            let mut reader = image::ImageReader::with_format(Cursor::new(bytes), format);
            let mut limits = image::Limits::default();
            limits.max_alloc = Some(MAX_DECODED_BYTES);
            reader.limits(limits);
            reader
                .decode()
                .map_err(|err| Undecodable(format!("the {format:?} photo cannot be decoded: {err}")))?
                .to_rgb8()
        }
        other => return Err(Undecodable(format!("{other:?} is not a supported photo format"))),
    };
    downscale(orient(image, orientation(bytes)))
}

fn decode_jpeg(bytes: &[u8]) -> Result<RgbImage, Undecodable> {
    let invalid = |err: jpeg_decoder::Error| Undecodable(format!("the JPEG photo cannot be decoded: {err}"));
    let mut decoder = jpeg_decoder::Decoder::new(Cursor::new(bytes));
    decoder.read_info().map_err(invalid)?;
    let info = decoder.info().ok_or_else(|| Undecodable("the JPEG has no header".into()))?;
    let (width, height) = (u32::from(info.width), u32::from(info.height));
    let longest = width.max(height).max(1);
    if longest > WORKING_SIDE {
        // The decoder picks the smallest DCT scale that still gives at least this size.
        let factor = WORKING_SIDE as f32 / longest as f32;
        decoder
            .scale(
                ((width as f32 * factor).ceil() as u16).max(1),
                ((height as f32 * factor).ceil() as u16).max(1),
            )
            .map_err(invalid)?;
    }
    let pixels = decoder.decode().map_err(invalid)?;
    let info = decoder.info().ok_or_else(|| Undecodable("the JPEG has no header".into()))?;
    let (width, height) = (u32::from(info.width), u32::from(info.height));
    let rgb: Vec<u8> = match info.pixel_format {
        jpeg_decoder::PixelFormat::RGB24 => pixels,
        jpeg_decoder::PixelFormat::L8 => pixels.iter().flat_map(|&l| [l, l, l]).collect(),
        jpeg_decoder::PixelFormat::L16 => pixels.chunks_exact(2).flat_map(|l| [l[0], l[0], l[0]]).collect(),
        jpeg_decoder::PixelFormat::CMYK32 => pixels
            .chunks_exact(4)
            .flat_map(|p| {
                let k = u16::from(p[3]);
                [p[0], p[1], p[2]].map(|c| ((u16::from(c) * k) / 255) as u8)
            })
            .collect(),
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

fn downscale(image: RgbImage) -> Result<RgbImage, Undecodable> {
    let (width, height) = image.dimensions();
    let longest = width.max(height);
    if longest <= WORKING_SIDE {
        return Ok(image);
    }
    let factor = WORKING_SIDE as f32 / longest as f32;
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
        let decoded = decode(&encoded(&photo, ImageFormat::Jpeg)).unwrap();
        assert_eq!(decoded.dimensions(), (640, 480));
        let pixel = decoded.get_pixel(320, 240);
        assert!((i32::from(pixel[0]) - 200).abs() < 8, "{pixel:?}");
    }

    #[test]
    fn small_photos_keep_their_size_and_garbage_is_undecodable() {
        let photo = RgbImage::from_pixel(30, 20, image::Rgb([1, 2, 3]));
        assert_eq!(decode(&encoded(&photo, ImageFormat::Png)).unwrap().dimensions(), (30, 20));
        assert!(decode(b"definitely not a photo").is_err());
        let png = encoded(&photo, ImageFormat::Png);
        assert!(decode(&png[..png.len() / 2]).is_err(), "a truncated PNG decoded");
    }

    #[test]
    fn orientation_turns_the_image() {
        let photo = RgbImage::from_pixel(30, 20, image::Rgb([1, 2, 3]));
        assert_eq!(orient(photo.clone(), 6).dimensions(), (20, 30));
        assert_eq!(orient(photo, 1).dimensions(), (30, 20));
    }
}
