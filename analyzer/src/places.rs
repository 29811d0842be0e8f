//! Where a photo was taken: its EXIF GPS position, and the nearest populated place to it.
//!
//! The places are GeoNames' cities of 1,000 people or more (CC BY 4.0, credited in the README
//! and the gallery's About), as the `reverse_geocoder` crate carries them: found offline, in a
//! k-d tree of points on the unit sphere, so that the poles and the antimeridian need no special
//! case. Country names are ISO 3166's (`isocountry`), as GeoNames gives only the code.

use std::io::Cursor;
use std::sync::LazyLock;

use domain::places::{Place, Position};
use domain::{Error, ImageRecord, ImageStatus, ImageStore, PhotoStore, Result};
use reverse_geocoder::ReverseGeocoder;

use crate::off_async;

/// The farthest a photo may be from the nearest populated place and still be said to be taken
/// there, in km. Measured on the data itself: the distance from each of its 144,563 places to
/// the nearest other one is 4.6 km at the median, 19.6 km at the 90th percentile, 67 km at the
/// 99th and 198 km at the 99.9th; a point between two places is within half their distance of
/// one. 100 km covers the sparse 1% of populated land (deserts, tundra, islands) and leaves a
/// photo taken 100 km out at sea with no place.
pub const MAX_PLACE_KM: f64 = 100.0;

/// The Earth's mean radius, in km.
const EARTH_KM: f64 = 6371.0;

/// The photo's GPS position from its EXIF, or `None`: no GPS block, one missing a part, or
/// values off the globe.
pub fn position_of(bytes: &[u8]) -> Option<Position> {
    let exif = exif::Reader::new().read_from_container(&mut Cursor::new(bytes)).ok()?;
    let degrees = |value: exif::Tag, reference: exif::Tag, positive: &[u8], negative: &[u8]| -> Option<f64> {
        let exif::Value::Rational(parts) = &exif.get_field(value, exif::In::PRIMARY)?.value else { return None };
        let [degrees, minutes, seconds] = parts.as_slice() else { return None };
        if [degrees, minutes, seconds].iter().any(|part| part.denom == 0) {
            return None;
        }
        let unsigned = degrees.to_f64() + minutes.to_f64() / 60.0 + seconds.to_f64() / 3600.0;
        let exif::Value::Ascii(texts) = &exif.get_field(reference, exif::In::PRIMARY)?.value else { return None };
        let sign = match texts.first()?.as_slice() {
            text if text == positive => 1.0,
            text if text == negative => -1.0,
            _ => return None,
        };
        Some(sign * unsigned)
    };
    let lat = degrees(exif::Tag::GPSLatitude, exif::Tag::GPSLatitudeRef, b"N", b"S")?;
    let lon = degrees(exif::Tag::GPSLongitude, exif::Tag::GPSLongitudeRef, b"E", b"W")?;
    Position::new(lat, lon)
}

/// The places, loaded once a process (the tree takes a moment to build: `make bench` times it).
pub struct Gazetteer {
    geocoder: ReverseGeocoder,
}

static GAZETTEER: LazyLock<Gazetteer> = LazyLock::new(|| Gazetteer { geocoder: ReverseGeocoder::new() });

impl Gazetteer {
    /// The process's gazetteer, built at the first call.
    pub fn get() -> &'static Gazetteer {
        &GAZETTEER
    }

    /// The nearest populated place to `position`, if one is within [`MAX_PLACE_KM`].
    pub fn place(&self, position: Position) -> Option<Place> {
        let found = self.geocoder.search((position.lat, position.lon));
        // The tree's distance is the squared chord between points on the unit sphere.
        let chord = found.distance.sqrt();
        let km = 2.0 * (chord / 2.0).min(1.0).asin() * EARTH_KM;
        if km > MAX_PLACE_KM {
            return None;
        }
        let record = found.record;
        let country = isocountry::CountryCode::for_alpha2(&record.cc).map_or_else(|_| record.cc.clone(), |code| code.name().to_owned());
        Some(Place { city: record.name.clone(), region: record.admin1.clone(), country, country_code: record.cc.clone(), position })
    }
}

/// The place of the photo `bytes`, if its EXIF has a position near one (off the async threads:
/// the first call builds the gazetteer).
pub async fn place_of(bytes: &[u8]) -> Result<Option<Place>> {
    let position = position_of(bytes);
    off_async("placing", move || Ok(position.and_then(|position| Gazetteer::get().place(position)))).await
}

/// Gives an analysed photo without a place (analysed before places existed) the place of its
/// EXIF GPS position, without analysing it again. Whether it got one.
pub async fn backfill(images: &dyn ImageStore, photos: &dyn PhotoStore, record: &ImageRecord) -> Result<bool> {
    if record.status != ImageStatus::Ready || record.place.is_some() {
        return Ok(false);
    }
    let bytes = match photos.read(&record.object_key(), record.object_etag.as_deref()).await {
        Ok(Some(bytes)) => bytes,
        // Gone, or replaced after it was checked (its analysis refused it already).
        Ok(None) | Err(Error::PhotoChanged(_)) => return Ok(false),
        Err(other) => return Err(other),
    };
    match place_of(&bytes).await? {
        Some(place) => images.set_place(&record.user_name, record.id, &place).await,
        None => Ok(false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{field, gps, jpeg_with};

    fn at(lat: f64, lon: f64) -> Option<Place> {
        Gazetteer::get().place(Position::new(lat, lon).unwrap())
    }

    fn named(lat: f64, lon: f64) -> (String, String, String) {
        let place = at(lat, lon).unwrap_or_else(|| panic!("no place at {lat} {lon}"));
        (place.city, place.country_code, place.country)
    }

    #[test]
    fn the_nearest_place_on_every_continent_and_none_at_sea() {
        let (city, code, country) = named(38.7139, -9.1394);
        assert_eq!((city.as_str(), code.as_str(), country.as_str()), ("Lisbon", "PT", "Portugal"));
        assert_eq!(named(-33.8688, 151.2093).1, "AU");
        assert_eq!(named(35.6762, 139.6503).1, "JP");
        assert_eq!(named(-23.5505, -46.6333).1, "BR");
        assert_eq!(named(-1.2921, 36.8219).1, "KE");
        assert_eq!(named(40.7128, -74.0060).1, "US");
        // Mid-Atlantic, and the middle of the Pacific: no place.
        assert_eq!(at(35.0, -40.0), None);
        assert_eq!(at(-30.0, -140.0), None);
        // Either side of the antimeridian in Fiji: found across it.
        assert_eq!(named(-16.80, 179.99).1, "FJ");
        assert_eq!(named(-16.80, -179.99).1, "FJ");
        // The poles: no populated place within reach of either.
        assert_eq!(at(90.0, 0.0), None);
        assert_eq!(at(-90.0, 0.0), None);
    }

    #[test]
    fn a_position_is_read_from_exif_gps_in_every_hemisphere_or_not_at_all() {
        let close = |found: Option<Position>, lat: f64, lon: f64| {
            let found = found.unwrap_or_else(|| panic!("no position for {lat} {lon}"));
            assert!((found.lat - lat).abs() < 1e-5 && (found.lon - lon).abs() < 1e-5, "{found:?} for {lat} {lon}");
        };
        close(position_of(&jpeg_with(&gps(38.7139, "N", 9.1394, "W"))), 38.7139, -9.1394);
        close(position_of(&jpeg_with(&gps(33.8688, "S", 151.2093, "E"))), -33.8688, 151.2093);
        close(position_of(&jpeg_with(&gps(16.8, "S", 179.99, "W"))), -16.8, -179.99);
        close(position_of(&jpeg_with(&gps(90.0, "N", 0.0, "E"))), 90.0, 0.0);

        // No EXIF at all, or none of GPS.
        assert_eq!(position_of(&jpeg_with(&[])), None);
        let camera = field(exif::Tag::Make, exif::Value::Ascii(vec![b"Camera".to_vec()]));
        assert_eq!(position_of(&jpeg_with(&[camera])), None);
        assert_eq!(position_of(b"not a photo"), None);
        // Malformed blocks: a part missing, a reference that is no hemisphere, two numbers
        // instead of three, a zero denominator, a latitude off the globe.
        let mut without_ref = gps(38.7, "N", 9.1, "W");
        without_ref.remove(0);
        assert_eq!(position_of(&jpeg_with(&without_ref)), None);
        assert_eq!(position_of(&jpeg_with(&gps(38.7, "Q", 9.1, "W"))), None);
        let mut short = gps(38.7, "N", 9.1, "W");
        short[1] = field(exif::Tag::GPSLatitude, exif::Value::Rational(vec![(38, 1).into(), (42, 1).into()]));
        assert_eq!(position_of(&jpeg_with(&short)), None);
        let mut zero = gps(38.7, "N", 9.1, "W");
        zero[3] = field(exif::Tag::GPSLongitude, exif::Value::Rational(vec![(9, 0).into(), (6, 1).into(), (0, 1).into()]));
        assert_eq!(position_of(&jpeg_with(&zero)), None);
        assert_eq!(position_of(&jpeg_with(&gps(91.0, "N", 9.1, "W"))), None);
    }
}
