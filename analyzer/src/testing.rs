//! Photos as cameras write them, for tests here and against the emulator (feature `testing`):
//! JPEGs carrying EXIF fields, GPS positions and the time taken among them.

use std::io::Cursor;

/// A small JPEG carrying `fields` as its EXIF (the GPS ones in their own IFD, as cameras
/// write them); none: no EXIF at all.
pub fn jpeg_with(fields: &[exif::Field]) -> Vec<u8> {
    use img_parts::ImageEXIF;
    let mut plain = Vec::new();
    image::RgbImage::from_pixel(8, 8, image::Rgb([90, 120, 200])).write_to(&mut Cursor::new(&mut plain), image::ImageFormat::Jpeg).unwrap();
    if fields.is_empty() {
        return plain;
    }
    let mut writer = exif::experimental::Writer::new();
    for field in fields {
        writer.push_field(field);
    }
    let mut tiff = Cursor::new(Vec::new());
    writer.write(&mut tiff, false).unwrap();
    let mut jpeg = img_parts::jpeg::Jpeg::from_bytes(plain.into()).unwrap();
    jpeg.set_exif(Some(tiff.into_inner().into()));
    let mut bytes = Vec::new();
    jpeg.encoder().write_to(&mut bytes).unwrap();
    bytes
}

pub fn field(tag: exif::Tag, value: exif::Value) -> exif::Field {
    exif::Field { tag, ifd_num: exif::In::PRIMARY, value }
}

/// Degrees as EXIF writes them: degrees, minutes, seconds (to a thousandth).
pub fn dms(degrees: f64) -> exif::Value {
    let whole = degrees.trunc() as u32;
    let minutes = ((degrees - f64::from(whole)) * 60.0).trunc() as u32;
    let seconds = ((degrees - f64::from(whole)) * 3600.0 - f64::from(minutes) * 60.0) * 1000.0;
    exif::Value::Rational(vec![(whole, 1).into(), (minutes, 1).into(), (seconds.round() as u32, 1000).into()])
}

pub fn reference(text: &str) -> exif::Value {
    exif::Value::Ascii(vec![text.as_bytes().to_vec()])
}

/// The four GPS fields of a position: unsigned degrees and their hemispheres (`N`/`S`, `E`/`W`).
pub fn gps(lat: f64, lat_ref: &str, lon: f64, lon_ref: &str) -> Vec<exif::Field> {
    vec![
        field(exif::Tag::GPSLatitudeRef, reference(lat_ref)),
        field(exif::Tag::GPSLatitude, dms(lat)),
        field(exif::Tag::GPSLongitudeRef, reference(lon_ref)),
        field(exif::Tag::GPSLongitude, dms(lon)),
    ]
}

/// EXIF DateTimeOriginal as a camera writes it (`2019:06:30 23:59:59`, its own clock, no zone)
/// from `2019-06-30T23:59:59`.
pub fn taken(at: &str) -> exif::Field {
    let written = at.replacen('-', ":", 2).replace('T', " ");
    field(exif::Tag::DateTimeOriginal, exif::Value::Ascii(vec![written.into_bytes()]))
}
