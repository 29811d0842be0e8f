//! The small picture of a face that persons show as their cover: a square around the face
//! (its box and some hair and chin), 160 px, JPEG.

use image::RgbImage;

use super::PhotoRegion;
use crate::pixels::{jpeg, resize};
use domain::Result;

pub const CROP_SIDE: u32 = 160;
/// The square around the face, as a multiple of its box's longer side.
const MARGIN: f32 = 1.6;
const QUALITY: u8 = 85;

/// The JPEG crop of a face of `photo`.
pub fn face_crop(photo: &RgbImage, bounds: &PhotoRegion) -> Result<Vec<u8>> {
    let (width, height) = (photo.width() as f32, photo.height() as f32);
    let side = (bounds.width * width).max(bounds.height * height) * MARGIN;
    let side = side.clamp(1.0, width.min(height));
    let centre_x = (bounds.left + bounds.width / 2.0) * width;
    let centre_y = (bounds.top + bounds.height / 2.0) * height;
    let left = (centre_x - side / 2.0).clamp(0.0, width - side) as u32;
    let top = (centre_y - side / 2.0).clamp(0.0, height - side) as u32;
    let square = image::imageops::crop_imm(photo, left, top, side as u32, side as u32).to_image();
    // Always the same size, small faces enlarged: covers line up in a grid.
    jpeg(&resize(&square, CROP_SIDE, CROP_SIDE)?, QUALITY)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_crop_is_a_small_square_jpeg_even_at_the_edge() {
        let photo = RgbImage::from_pixel(1000, 600, image::Rgb([10, 200, 30]));
        for bounds in
            [PhotoRegion { left: 0.4, top: 0.3, width: 0.2, height: 0.3 }, PhotoRegion { left: 0.95, top: 0.9, width: 0.05, height: 0.1 }]
        {
            let crop = image::load_from_memory(&face_crop(&photo, &bounds).unwrap()).unwrap();
            assert_eq!((crop.width(), crop.height()), (CROP_SIDE, CROP_SIDE), "{bounds:?}");
        }
    }
}
