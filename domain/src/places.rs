//! Places: where a photo was taken, as its EXIF GPS position and the nearest populated place to
//! it (the analyzer's gazetteer finds it). The rules every store and the API share: a position's
//! bounds, the precision others see, and the names a place is searched by.

use serde::{Deserialize, Serialize};

/// Decimals of a coordinate shown to anyone but the photo's owner: 3 decimals of a degree are
/// 111 m of latitude (less of longitude away from the equator), enough to name a neighbourhood
/// and not a house.
pub const SHARED_DECIMALS: i32 = 3;

/// A position on Earth in degrees (WGS 84, as EXIF GPS and GeoNames give it).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Position {
    pub lat: f64,
    pub lon: f64,
}

impl Position {
    /// A position from EXIF's degrees, `None` outside the globe or not a number (a malformed
    /// GPS block writes such values, and they must name no place).
    pub fn new(lat: f64, lon: f64) -> Option<Self> {
        let valid = lat.is_finite() && lon.is_finite() && (-90.0..=90.0).contains(&lat) && (-180.0..=180.0).contains(&lon);
        valid.then_some(Self { lat, lon })
    }

    /// Rounded to [`SHARED_DECIMALS`]: what anyone but the owner is shown.
    pub fn rounded(self) -> Self {
        let factor = 10f64.powi(SHARED_DECIMALS);
        Self { lat: (self.lat * factor).round() / factor, lon: (self.lon * factor).round() / factor }
    }
}

/// Where a photo was taken: the nearest populated place to its position, with that place's
/// region and country, and the position itself.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Place {
    pub city: String,
    /// The first-level division (state, province, region); empty where GeoNames has none.
    pub region: String,
    pub country: String,
    /// ISO 3166-1 alpha-2.
    pub country_code: String,
    /// The photo's position (not the city's).
    pub position: Position,
}

impl Place {
    /// The names it is found by, each folded ([`fold_name`]) and once: city, region, country.
    pub fn search_names(&self) -> Vec<String> {
        let mut names: Vec<String> = Vec::new();
        for name in [&self.city, &self.region, &self.country].into_iter().filter_map(|name| fold_name(name)) {
            if !names.contains(&name) {
                names.push(name);
            }
        }
        names
    }
}

/// A place the user's photos were taken at, with how many and the newest of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlaceCount {
    pub city: String,
    pub region: String,
    pub country: String,
    pub country_code: String,
    pub photos: u64,
    pub cover: Option<crate::model::ImageId>,
}

/// A place name as indexed and searched: accents folded (Lisboa, São Paulo -> sao paulo), lower
/// case, every run of characters that are not letters or digits one space; `None` when nothing
/// is left.
pub fn fold_name(raw: &str) -> Option<String> {
    use unicode_normalization::UnicodeNormalization;
    use unicode_normalization::char::is_combining_mark;
    let folded: String = raw
        .nfd()
        .filter(|c| !is_combining_mark(*c))
        .flat_map(char::to_lowercase)
        .map(|c| if c.is_alphanumeric() { c } else { ' ' })
        .collect();
    let name = folded.split_whitespace().collect::<Vec<_>>().join(" ");
    (!name.is_empty()).then_some(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_found_whatever_their_accents_case_and_punctuation() {
        assert_eq!(fold_name("São Paulo").as_deref(), Some("sao paulo"));
        assert_eq!(fold_name("  SÃO  paulo ").as_deref(), Some("sao paulo"));
        assert_eq!(fold_name("Île-de-France").as_deref(), Some("ile de france"));
        assert_eq!(fold_name("Kraków").as_deref(), Some("krakow"));
        assert_eq!(fold_name(" - "), None);
        let place = Place {
            city: "Lisbon".into(),
            region: "Lisbon".into(),
            country: "Portugal".into(),
            country_code: "PT".into(),
            position: Position::new(38.7223, -9.1393).unwrap(),
        };
        assert_eq!(place.search_names(), ["lisbon", "portugal"], "each name once");
    }

    #[test]
    fn positions_are_on_the_globe_and_shown_to_others_to_about_a_hundred_metres() {
        for (lat, lon) in [(90.1, 0.0), (-90.1, 0.0), (0.0, 180.5), (f64::NAN, 0.0), (0.0, f64::INFINITY)] {
            assert_eq!(Position::new(lat, lon), None, "{lat} {lon}");
        }
        let exact = Position::new(38.722_349, -9.139_337).unwrap();
        assert_eq!(exact.rounded(), Position { lat: 38.722, lon: -9.139 });
        // The poles and the antimeridian are positions like any other.
        assert!(Position::new(90.0, 180.0).is_some() && Position::new(-90.0, -180.0).is_some());
    }
}
