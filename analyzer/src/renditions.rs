//! What the gallery shows instead of the original: a small WebP thumbnail for the grid, a
//! large JPEG preview for the photo view, and the thumbnail's average colour as the grid's
//! placeholder, all made from the pixels the analysis decoded (EXIF orientation applied).

use std::sync::Arc;

use domain::{Error, ImageId, ImageRecord, ImageStatus, ImageStore, PhotoStore, Result, UserName, preview_key, thumbnail_key};
use image::RgbImage;

use crate::engine::off_async;
use crate::{decode, pixels};

/// The thumbnail's shorter side (the grid's rows are about 200 px high; 250 stays sharp on
/// dense screens without weighing much).
pub const THUMBNAIL_SHORT_SIDE: u32 = 250;
/// The preview's longer side: a laptop screen's photo view.
pub const PREVIEW_LONG_SIDE: u32 = 1440;
const THUMBNAIL_QUALITY: f32 = 72.0;
const PREVIEW_QUALITY: u8 = 82;

pub struct Renditions {
    pub thumbnail_webp: Vec<u8>,
    pub preview_jpeg: Vec<u8>,
    /// `#rrggbb`.
    pub color: String,
}

/// The size that scales `(width, height)` so that the chosen side is at most `side`; never
/// larger than the photo.
fn scaled(width: u32, height: u32, side: u32, by_shorter: bool) -> (u32, u32) {
    let reference = if by_shorter { width.min(height) } else { width.max(height) };
    if reference <= side || reference == 0 {
        return (width.max(1), height.max(1));
    }
    let scale = f64::from(side) / f64::from(reference);
    let scaled = |value: u32| ((f64::from(value) * scale).round() as u32).max(1);
    (scaled(width), scaled(height))
}

pub fn render(photo: &RgbImage) -> Result<Renditions> {
    let (width, height) = photo.dimensions();
    let (preview_width, preview_height) = scaled(width, height, PREVIEW_LONG_SIDE, false);
    let preview = pixels::resize(photo, preview_width, preview_height)?;
    let (thumb_width, thumb_height) = scaled(width, height, THUMBNAIL_SHORT_SIDE, true);
    let thumbnail = pixels::resize(&preview, thumb_width, thumb_height)?;
    let thumbnail_webp = webp::Encoder::from_rgb(thumbnail.as_raw(), thumb_width, thumb_height)
        .encode_simple(false, THUMBNAIL_QUALITY)
        .map_err(|err| Error::Internal(format!("encoding a WebP thumbnail: {err:?}")))?
        .to_vec();
    Ok(Renditions { thumbnail_webp, preview_jpeg: pixels::jpeg(&preview, PREVIEW_QUALITY)?, color: average_color(&thumbnail) })
}

/// Makes and stores the thumbnail and preview of a decoded photo; its colour.
pub async fn store(photos: &dyn PhotoStore, user: &UserName, id: ImageId, photo: Arc<RgbImage>) -> Result<String> {
    let made = off_async("thumbnail and preview", move || render(&photo)).await?;
    photos.put(&thumbnail_key(user, id), made.thumbnail_webp, "image/webp").await?;
    photos.put(&preview_key(user, id), made.preview_jpeg, "image/jpeg").await?;
    Ok(made.color)
}

/// Gives an analysed photo without renditions (analysed before they existed) its thumbnail,
/// preview and colour, without analysing it again. Whether it made them.
pub async fn backfill(images: &dyn ImageStore, photos: &dyn PhotoStore, record: &ImageRecord) -> Result<bool> {
    if record.status != ImageStatus::Ready || record.color.is_some() {
        return Ok(false);
    }
    let bytes = match photos.read(&record.object_key(), record.object_etag.as_deref()).await {
        Ok(Some(bytes)) => bytes,
        // Gone, or replaced after it was checked (its analysis refused it already).
        Ok(None) | Err(Error::PhotoChanged(_)) => return Ok(false),
        Err(other) => return Err(other),
    };
    let decoded = off_async("decoding", move || Ok(decode::decode(&bytes, PREVIEW_LONG_SIDE))).await?;
    let Ok(photo) = decoded else { return Ok(false) };
    let color = store(photos, &record.user_name, record.id, Arc::new(photo)).await?;
    images.set_color(&record.user_name, record.id, &color).await
}

fn average_color(image: &RgbImage) -> String {
    let count = u64::from(image.width()) * u64::from(image.height());
    let mut sums = [0u64; 3];
    for pixel in image.pixels() {
        for (sum, value) in sums.iter_mut().zip(pixel.0) {
            *sum += u64::from(value);
        }
    }
    let [r, g, b] = sums.map(|sum| sum.checked_div(count).unwrap_or(0));
    format!("#{r:02x}{g:02x}{b:02x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_follow_the_chosen_side_and_never_grow() {
        assert_eq!(scaled(4000, 3000, THUMBNAIL_SHORT_SIDE, true), (333, 250));
        assert_eq!(scaled(3000, 4000, PREVIEW_LONG_SIDE, false), (1080, 1440));
        assert_eq!(scaled(200, 100, THUMBNAIL_SHORT_SIDE, true), (200, 100));
        assert_eq!(scaled(0, 0, THUMBNAIL_SHORT_SIDE, true), (1, 1));
    }

    #[test]
    fn a_photo_gets_a_webp_thumbnail_a_jpeg_preview_and_its_colour() {
        let photo = RgbImage::from_pixel(2000, 1000, image::Rgb([200, 100, 50]));
        let renditions = render(&photo).unwrap();
        let thumbnail = image::load_from_memory_with_format(&renditions.thumbnail_webp, image::ImageFormat::WebP).unwrap();
        assert_eq!((thumbnail.width(), thumbnail.height()), (500, 250));
        let preview = image::load_from_memory_with_format(&renditions.preview_jpeg, image::ImageFormat::Jpeg).unwrap();
        assert_eq!((preview.width(), preview.height()), (1440, 720));
        assert_eq!(renditions.color, "#c86432");
        assert!(renditions.thumbnail_webp.len() < 10_000, "{} bytes", renditions.thumbnail_webp.len());
    }
}
