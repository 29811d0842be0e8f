//! What the runtime checks of an uploaded photo before accepting it: that the bytes really are
//! a JPEG, PNG or WebP image (whatever the client declared), its dimensions and, when the
//! photo carries EXIF, when it was taken. Only headers are read; nothing is decoded.

use std::io::Cursor;

use image::ImageFormat;

use crate::config::PhotoSettings;
use crate::error::{Error, Result};

/// The content types accepted, with their formats.
pub const SUPPORTED: &[(&str, ImageFormat)] =
    &[("image/jpeg", ImageFormat::Jpeg), ("image/png", ImageFormat::Png), ("image/webp", ImageFormat::WebP)];

/// How much of an object is read to inspect it: enough for headers and EXIF.
pub const INSPECT_BYTES: u64 = 1024 * 1024;

pub use domain::photos::PhotoFacts;

fn unsupported_message() -> String {
    let names: Vec<&str> = SUPPORTED.iter().map(|(name, _)| *name).collect();
    format!("send a photo as one of {}", names.join(", "))
}

/// Checks a declared content type (parameters such as `; charset` ignored).
pub fn check_content_type(declared: Option<&str>) -> Result<&'static str> {
    let declared = declared.and_then(|value| value.split(';').next()).map(|value| value.trim().to_ascii_lowercase());
    SUPPORTED.iter().find(|(name, _)| Some(*name) == declared.as_deref()).map(|(name, _)| *name).ok_or_else(|| {
        Error::NotAPhoto(format!("content type {} is not accepted: {}", declared.as_deref().unwrap_or("(none)"), unsupported_message()))
    })
}

/// Inspects the start of a photo (all of it, or at least [`INSPECT_BYTES`]).
pub fn inspect(bytes: &[u8]) -> Result<PhotoFacts> {
    let format = image::guess_format(bytes).ok();
    let content_type = SUPPORTED
        .iter()
        .find(|(_, supported)| Some(*supported) == format)
        .map(|(name, _)| *name)
        .ok_or_else(|| Error::NotAPhoto(format!("these bytes are not a photo: {}", unsupported_message())))?;
    let (width, height) = image::ImageReader::with_format(Cursor::new(bytes), format.unwrap_or(ImageFormat::Jpeg))
        .into_dimensions()
        .map_err(|err| Error::NotAPhoto(format!("this {content_type} photo cannot be read: {err}")))?;
    Ok(PhotoFacts { content_type, width, height, taken_at: taken_at(bytes) })
}

/// [`inspect`], then the tier's bound on pixels: what both ways of uploading accept.
pub fn inspect_within(bytes: &[u8], settings: &PhotoSettings) -> Result<PhotoFacts> {
    let facts = inspect(bytes)?;
    domain::photos::check_pixels(facts.width, facts.height, settings.max_pixels)?;
    Ok(facts)
}

fn taken_at(bytes: &[u8]) -> Option<String> {
    let exif = exif::Reader::new().read_from_container(&mut Cursor::new(bytes)).ok()?;
    let field = exif.get_field(exif::Tag::DateTimeOriginal, exif::In::PRIMARY)?;
    let exif::Value::Ascii(values) = &field.value else { return None };
    let when = exif::DateTime::from_ascii(values.first()?).ok()?;
    Some(format!("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}", when.year, when.month, when.day, when.hour, when.minute, when.second))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(width: u32, height: u32) -> Vec<u8> {
        let mut bytes = Vec::new();
        image::RgbImage::new(width, height).write_to(&mut Cursor::new(&mut bytes), ImageFormat::Png).unwrap();
        bytes
    }

    #[test]
    fn a_png_is_recognised_with_its_dimensions() {
        let facts = inspect(&png(7, 5)).unwrap();
        assert_eq!((facts.content_type, facts.width, facts.height), ("image/png", 7, 5));
        assert_eq!(facts.taken_at, None);
    }

    #[test]
    fn non_image_bytes_and_truncated_photos_are_refused() {
        assert!(matches!(inspect(b"hello, I am text"), Err(Error::NotAPhoto(_))));
        assert!(matches!(inspect(&png(7, 5)[..20]), Err(Error::NotAPhoto(_))));
        assert!(matches!(inspect(&[]), Err(Error::NotAPhoto(_))));
    }

    #[test]
    fn content_types_are_checked() {
        assert_eq!(check_content_type(Some("image/JPEG; q=1")).unwrap(), "image/jpeg");
        assert!(check_content_type(Some("application/pdf")).is_err());
        assert!(check_content_type(None).is_err());
    }
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;

    const SIGNATURES: [&[u8]; 4] = [b"\xff\xd8\xff\xe1", b"\x89PNG\r\n\x1a\n", b"RIFF\0\0\0\0WEBPVP8 ", b""];

    proptest! {
        /// Uploaded bytes, even starting like a photo, are a photo's facts or a clear
        /// refusal; never a panic (the EXIF reader included).
        #[test]
        fn any_bytes_are_inspected_or_refused_cleanly(start in 0usize..4, rest in proptest::collection::vec(any::<u8>(), 0..600)) {
            let mut bytes = SIGNATURES[start].to_vec();
            bytes.extend(rest);
            let _ = inspect(&bytes);
            let _ = check_content_type(Some(&String::from_utf8_lossy(&bytes)));
        }
    }
}
