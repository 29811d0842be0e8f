//! What tests (and the bench) share beyond the in-memory stores: the shared people set and how
//! a grouping or a detection is judged against it (`people`), and photos whose headers lie
//! about their size, as an attacker sends them: a few hundred bytes
//! that declare tens of thousands of pixels a side. Built from a real encoded photo by
//! rewriting the dimensions in its header, so every parser reads it as far as the header.

pub mod people;

use crate::model::{FoundFace, PhotoRegion};

/// A face found with a descriptor at `at` along its first axis (the rest zero): two such
/// faces are as far apart as their `at`s, so a test of grouping places faces on a line.
pub fn face_at(at: f32) -> FoundFace {
    let descriptor = (0..128).map(|axis| if axis == 0 { at } else { 0.0 }).collect();
    FoundFace::described(PhotoRegion { left: 0.1, top: 0.1, width: 0.5, height: 0.5 }, 0.9, descriptor)
}

/// `photo` (a PNG, a baseline JPEG or a lossless WebP) declaring `width` x `height`; with
/// `progressive`, a JPEG's frame is declared progressive (SOF2), whose decoding keeps every
/// coefficient of the whole image in memory. `None` if the format or the size cannot be
/// written (WebP's lossless header holds at most 16,384 a side, which image-webp reads as 0).
pub fn declaring_size(photo: &[u8], width: u32, height: u32, progressive: bool) -> Option<Vec<u8>> {
    let mut bytes = photo.to_vec();
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        bytes[16..20].copy_from_slice(&width.to_be_bytes());
        bytes[20..24].copy_from_slice(&height.to_be_bytes());
        // The chunk's CRC covers its type and data: PNG decoders check it.
        let crc = crc32fast::hash(&bytes[12..29]);
        bytes[29..33].copy_from_slice(&crc.to_be_bytes());
        return Some(bytes);
    }
    if bytes.starts_with(&[0xff, 0xd8]) {
        let (width, height) = (u16::try_from(width).ok()?, u16::try_from(height).ok()?);
        let frame = bytes.windows(2).position(|marker| marker[0] == 0xff && matches!(marker[1], 0xc0 | 0xc2))?;
        bytes[frame + 1] = if progressive { 0xc2 } else { 0xc0 };
        bytes[frame + 5..frame + 7].copy_from_slice(&height.to_be_bytes());
        bytes[frame + 7..frame + 9].copy_from_slice(&width.to_be_bytes());
        return Some(bytes);
    }
    if bytes.len() > 25 && &bytes[0..4] == b"RIFF" && &bytes[8..16] == b"WEBPVP8L" && bytes[20] == 0x2f {
        if !(1..=16_384).contains(&width) || !(1..=16_384).contains(&height) {
            return None;
        }
        let mut header = u32::from_le_bytes(bytes[21..25].try_into().ok()?);
        header = (header & !0x0fff_ffff) | (width - 1) | ((height - 1) << 14);
        bytes[21..25].copy_from_slice(&header.to_le_bytes());
        return Some(bytes);
    }
    None
}
