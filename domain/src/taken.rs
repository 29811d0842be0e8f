//! When a photo was taken, on the user's clock: the time each photo is sorted and searched by,
//! the ranges a search asks for (`taken_from`, `taken_to`) and the "on this day" windows of
//! memories.
//!
//! A camera writes EXIF DateTimeOriginal on the clock where the photo was taken, with no zone:
//! it is taken as the user's clock as written (a photo taken at 09:00 in Lisbon was taken at
//! 09:00, wherever its owner is now). A photo without it is placed at its upload, an instant,
//! which the user's time zone (`tz`, an IANA name; UTC by default) turns into their clock.
//!
//! The index sorts photos by [`taken_key`]: the EXIF clock, else the upload's UTC clock. A UTC
//! clock is at most [`UTC_BEHIND`] behind and [`UTC_AHEAD`] ahead of any zone's, so a store
//! reads [`TakenRange::key_bounds`] (the range widened by those) and keeps what
//! [`TakenRange::holds`].

use jiff::civil::{Date, DateTime, Time};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use time::OffsetDateTime;

use futures::{StreamExt, TryStreamExt};

use crate::ImageIndex;
use crate::error::{Error, Result};
use crate::model::{Search, SearchMatch, UserName};

/// How far the UTC clock can be behind a zone's: UTC+14:00 (Line Islands) is the earliest.
const UTC_BEHIND: SignedDuration = SignedDuration::from_hours(14);
/// How far the UTC clock can be ahead of a zone's: UTC−12:00 is the latest.
const UTC_AHEAD: SignedDuration = SignedDuration::from_hours(12);

/// The format of a [`taken_key`]: sortable as text, to the second.
const KEY_FORMAT: &str = "%Y-%m-%dT%H:%M:%S";

/// Memories look back at most this many years: a camera whose clock was never set writes
/// 1970 or 2000, and a user's photos span a lifetime at most.
pub const MEMORY_YEARS: i16 = 100;

/// A user's time zone from its IANA name (`Europe/Lisbon`); UTC when none is given. The zone
/// database is compiled in, so every machine (a Lambda without `/usr/share/zoneinfo` too)
/// knows the same zones.
pub fn time_zone(name: Option<&str>) -> Result<TimeZone> {
    match name {
        None => Ok(TimeZone::UTC),
        Some(name) => TimeZone::get(name).map_err(|_| {
            Error::invalid("invalid_tz", format!("{:?} is not a time zone: tz is an IANA name such as Europe/Lisbon", cut(name)))
        }),
    }
}

/// At most 64 characters of what a client sent, for an error message.
fn cut(text: &str) -> String {
    text.chars().take(64).collect()
}

/// The EXIF clock of a record's `taken_at`, if it is a real date and time.
fn exif_clock(taken_at: Option<&str>) -> Option<DateTime> {
    taken_at?.parse::<DateTime>().ok()
}

fn timestamp(instant: OffsetDateTime) -> Timestamp {
    Timestamp::new(instant.unix_timestamp(), instant.nanosecond() as i32).unwrap_or(Timestamp::UNIX_EPOCH)
}

/// What the index sorts a photo by: its EXIF clock, else its upload's UTC clock.
pub fn taken_key(taken_at: Option<&str>, created_at: OffsetDateTime) -> String {
    let clock = exif_clock(taken_at).unwrap_or_else(|| TimeZone::UTC.to_datetime(timestamp(created_at)));
    clock.strftime(KEY_FORMAT).to_string()
}

/// A photo's time on the user's clock (see the module's documentation).
pub fn local_time(taken_at: Option<&str>, created_at: OffsetDateTime, tz: &TimeZone) -> DateTime {
    exif_clock(taken_at).unwrap_or_else(|| tz.to_datetime(timestamp(created_at)))
}

/// Photos taken from `from` to `to`, both included, on the clock of `tz`.
#[derive(Debug, Clone, PartialEq)]
pub struct TakenRange {
    pub from: DateTime,
    pub to: DateTime,
    pub tz: TimeZone,
}

/// Which end of a range a bound is: a bare date starts at its first instant, or ends at its last.
#[derive(Clone, Copy)]
enum End {
    From,
    To,
}

impl TakenRange {
    /// The range a client asked for: each end a date (`2024-06-01`: the whole day), a date and
    /// time on the user's clock (`2024-06-01T18:30:00`) or an instant (`…Z`, `…+02:00`),
    /// read in `tz`. `None` when neither end is given; an open end reaches as far as
    /// time goes.
    pub fn of_query(from: Option<&str>, to: Option<&str>, tz: &TimeZone) -> Result<Option<TakenRange>> {
        if from.is_none() && to.is_none() {
            return Ok(None);
        }
        let (asked_from, asked_to) = (from, to);
        let from = from.map(|from| bound(from, End::From, tz)).transpose()?.unwrap_or(DateTime::MIN);
        let to = to.map(|to| bound(to, End::To, tz)).transpose()?.unwrap_or(DateTime::MAX);
        if from > to {
            let (asked_from, asked_to) = (cut(asked_from.unwrap_or_default()), cut(asked_to.unwrap_or_default()));
            return Err(Error::invalid("invalid_taken_range", format!("taken_from ({asked_from}) is after taken_to ({asked_to})")));
        }
        Ok(Some(TakenRange { from, to, tz: tz.clone() }))
    }

    /// The whole days from `first` to `last` on the clock of `tz`.
    pub fn days(first: Date, last: Date, tz: &TimeZone) -> TakenRange {
        TakenRange { from: first.to_datetime(Time::MIN), to: last.to_datetime(Time::MAX), tz: tz.clone() }
    }

    /// Whether a photo taken at `taken_at` (EXIF) and uploaded at `created_at` is in the range.
    pub fn holds(&self, taken_at: Option<&str>, created_at: OffsetDateTime) -> bool {
        let at = local_time(taken_at, created_at, &self.tz);
        self.from <= at && at <= self.to
    }

    /// The [`taken_key`]s a photo in the range can have: the range, widened by how far any UTC
    /// clock is from the user's (photos placed at their upload are keyed by it).
    pub fn key_bounds(&self) -> (String, String) {
        let low = self.from.checked_sub(UTC_BEHIND).unwrap_or(DateTime::MIN);
        let high = self.to.checked_add(UTC_AHEAD).unwrap_or(DateTime::MAX);
        (low.strftime(KEY_FORMAT).to_string(), high.strftime(KEY_FORMAT).to_string())
    }
}

fn bound(text: &str, end: End, tz: &TimeZone) -> Result<DateTime> {
    let (code, name) = match end {
        End::From => ("invalid_taken_from", "taken_from"),
        End::To => ("invalid_taken_to", "taken_to"),
    };
    let invalid = || {
        Error::invalid(
            code,
            format!(
                "{name} is a date (2024-06-01), a date and time (2024-06-01T18:30:00) or an instant (2024-06-01T18:30:00Z), not {:?}",
                cut(text)
            ),
        )
    };
    if let Ok(instant) = text.parse::<Timestamp>() {
        return Ok(tz.to_datetime(instant));
    }
    if text.contains('T') || text.contains('t') || text.contains(' ') {
        return text.parse::<DateTime>().map_err(|_| invalid());
    }
    let date = text.parse::<Date>().map_err(|_| invalid())?;
    Ok(match end {
        End::From => date.to_datetime(Time::MIN),
        End::To => date.to_datetime(Time::MAX),
    })
}

/// One year's "on this day": the days around today's month and day in an earlier year.
#[derive(Debug, Clone, PartialEq)]
pub struct MemoryWindow {
    /// The anniversary's year.
    pub year: i16,
    pub years_ago: i16,
    /// Today's month and day in that year (February 28th stands for the 29th in a common year).
    pub date: Date,
    pub range: TakenRange,
}

/// The windows of memories for `today` (on the user's clock), newest first, back to the year
/// of `oldest` and at most [`MEMORY_YEARS`]: each today's month and day in an earlier year,
/// a day either side. February 29th is a day like any other in leap years; in the others,
/// where it is missing, its window is February 28th to March 1st (still a day either side).
pub fn memory_windows(today: Date, oldest: Date, tz: &TimeZone) -> Vec<MemoryWindow> {
    let first_year = oldest.year().max(today.year().saturating_sub(MEMORY_YEARS));
    (first_year..today.year())
        .rev()
        .filter_map(|year| {
            let (date, first, last) = match Date::new(year, today.month(), today.day()) {
                Ok(date) => (date, date.yesterday().ok()?, date.tomorrow().ok()?),
                // Only February 29th is missing from a year.
                Err(_) => {
                    let february_28 = Date::new(year, 2, 28).ok()?;
                    (february_28, february_28, february_28.tomorrow().ok()?)
                }
            };
            Some(MemoryWindow { year, years_ago: today.year() - year, date, range: TakenRange::days(first, last, tz) })
        })
        .collect()
}

/// Photos of one year's "on this day", newest first.
#[derive(Debug, Clone, PartialEq)]
pub struct Memory {
    pub window: MemoryWindow,
    pub photos: Vec<SearchMatch>,
}

/// How many years' windows are read at once.
const YEARS_AT_ONCE: usize = 8;

/// The user's memories at `now` on the clock of `tz`: the years with photos in their window
/// ([`memory_windows`]), newest first, each with its newest `per_year` photos. One search of
/// the index per year, back to the user's earliest photo.
pub async fn memories(index: &dyn ImageIndex, user: &UserName, tz: &TimeZone, now: OffsetDateTime, per_year: usize) -> Result<Vec<Memory>> {
    let Some(oldest) = index.oldest_taken(user).await? else { return Ok(Vec::new()) };
    // A key placed at an upload is on the UTC clock: a year earlier covers any zone's.
    let oldest = key_date(&oldest).map_or(Date::MIN, |date| date.first_of_year().yesterday().unwrap_or(Date::MIN));
    let found: Vec<Memory> = futures::stream::iter(memory_windows(today(now, tz), oldest, tz))
        .map(|window| async move {
            let page = index.search(user, &Search::taken(window.range.clone()), per_year, None).await?;
            Ok::<_, crate::Error>(Memory { window, photos: page.items })
        })
        .buffered(YEARS_AT_ONCE)
        .try_collect()
        .await?;
    Ok(found.into_iter().filter(|memory| !memory.photos.is_empty()).collect())
}

/// Today's date on the clock of `tz`.
pub fn today(now: OffsetDateTime, tz: &TimeZone) -> Date {
    tz.to_datetime(timestamp(now)).date()
}

/// The date of a [`taken_key`].
pub fn key_date(key: &str) -> Option<Date> {
    key.parse::<DateTime>().ok().map(|clock| clock.date())
}

#[cfg(test)]
mod tests {
    use jiff::civil::date;
    use time::macros::datetime;

    use super::*;

    fn code(error: Error) -> &'static str {
        match error {
            Error::Invalid { code, .. } => code,
            other => panic!("not a 400: {other:?}"),
        }
    }

    fn lisbon() -> TimeZone {
        TimeZone::get("Europe/Lisbon").unwrap()
    }

    #[test]
    fn a_date_is_the_whole_day_and_an_instant_is_read_on_the_users_clock() {
        let tz = TimeZone::get("Asia/Tokyo").unwrap();
        let range = TakenRange::of_query(Some("2024-06-01"), Some("2024-08-31"), &tz).unwrap().unwrap();
        assert_eq!(range.from, date(2024, 6, 1).at(0, 0, 0, 0));
        assert_eq!(range.to, date(2024, 8, 31).at(23, 59, 59, 999_999_999));
        let range = TakenRange::of_query(Some("2024-06-01T00:00:00Z"), None, &tz).unwrap().unwrap();
        assert_eq!(range.from, date(2024, 6, 1).at(9, 0, 0, 0), "midnight UTC is 09:00 in Tokyo");
        assert_eq!(range.to, DateTime::MAX, "an open end");
        let range = TakenRange::of_query(None, Some("2024-06-01T18:30:00"), &tz).unwrap().unwrap();
        assert_eq!(range.to, date(2024, 6, 1).at(18, 30, 0, 0));
        assert_eq!(TakenRange::of_query(None, None, &tz).unwrap(), None);
    }

    #[test]
    fn a_range_that_ends_before_it_starts_or_a_bound_that_is_no_time_is_refused() {
        let refused = |from: Option<&str>, to: Option<&str>| code(TakenRange::of_query(from, to, &TimeZone::UTC).unwrap_err());
        assert_eq!(refused(Some("2024-06-02"), Some("2024-06-01")), "invalid_taken_range");
        assert_eq!(refused(Some("2024-06-01T12:00:01"), Some("2024-06-01T12:00:00")), "invalid_taken_range");
        assert_eq!(refused(Some("June"), None), "invalid_taken_from");
        assert_eq!(refused(None, Some("2024-02-30")), "invalid_taken_to");
        assert_eq!(refused(None, Some("2024-06-01T25:00:00")), "invalid_taken_to");
        // The same day is a range of one day.
        assert!(TakenRange::of_query(Some("2024-06-01"), Some("2024-06-01"), &TimeZone::UTC).is_ok());
    }

    #[test]
    fn an_unknown_time_zone_is_refused_and_none_is_utc() {
        assert_eq!(code(time_zone(Some("Mars/Olympus_Mons")).unwrap_err()), "invalid_tz");
        assert_eq!(code(time_zone(Some("")).unwrap_err()), "invalid_tz");
        assert_eq!(time_zone(None).unwrap(), TimeZone::UTC);
        assert_eq!(time_zone(Some("America/Sao_Paulo")).unwrap().iana_name(), Some("America/Sao_Paulo"));
    }

    #[test]
    fn an_exif_clock_is_kept_as_written_and_an_upload_is_read_in_the_users_zone() {
        let uploaded = datetime!(2024-06-01 23:30 UTC);
        let june_1 = TakenRange::of_query(Some("2024-06-01"), Some("2024-06-01"), &TimeZone::UTC).unwrap().unwrap();
        let june_1_lisbon = TakenRange { tz: lisbon(), ..june_1.clone() };
        // 23:30 UTC is 00:30 on June 2nd in Lisbon (summer time).
        assert!(june_1.holds(None, uploaded));
        assert!(!june_1_lisbon.holds(None, uploaded));
        // A camera's clock is where the photo was taken, whatever the user's zone.
        assert!(june_1.holds(Some("2024-06-01T23:59:59"), uploaded));
        assert!(june_1_lisbon.holds(Some("2024-06-01T23:59:59"), uploaded));
        assert!(!june_1_lisbon.holds(Some("2024-06-02T00:00:00"), uploaded));
        // An EXIF date that is no date is as good as none.
        assert!(!june_1_lisbon.holds(Some("2024-13-45T00:00:00"), uploaded));
        assert_eq!(taken_key(Some("2024-13-45T00:00:00"), uploaded), "2024-06-01T23:30:00");
    }

    #[test]
    fn every_photo_a_range_holds_is_within_its_key_bounds() {
        let uploads = [datetime!(2024-06-01 00:00 UTC), datetime!(2024-06-30 23:59:59 UTC), datetime!(2024-05-31 10:00 UTC)];
        for tz in ["Pacific/Kiritimati", "Etc/GMT+12", "Europe/Lisbon", "UTC", "Australia/Lord_Howe"] {
            let tz = TimeZone::get(tz).unwrap();
            let range = TakenRange::of_query(Some("2024-06-01"), Some("2024-06-30"), &tz).unwrap().unwrap();
            let (low, high) = range.key_bounds();
            for uploaded in uploads {
                let key = taken_key(None, uploaded);
                if range.holds(None, uploaded) {
                    assert!(low <= key && key <= high, "{key} outside {low}..{high} in {tz:?}");
                }
            }
        }
    }

    #[test]
    fn memories_are_a_day_either_side_in_each_earlier_year_newest_first() {
        let windows = memory_windows(date(2025, 6, 15), date(2021, 3, 1), &TimeZone::UTC);
        let years: Vec<i16> = windows.iter().map(|window| window.year).collect();
        assert_eq!(years, [2024, 2023, 2022, 2021]);
        assert_eq!(windows[0].years_ago, 1);
        assert_eq!(windows[0].range.from, date(2024, 6, 14).at(0, 0, 0, 0));
        assert_eq!(windows[0].range.to, date(2024, 6, 16).at(23, 59, 59, 999_999_999));
        assert!(memory_windows(date(2025, 6, 15), date(2025, 1, 1), &TimeZone::UTC).is_empty(), "this year is no memory");
        let long_ago = memory_windows(date(2025, 6, 15), date(1, 1, 1), &TimeZone::UTC);
        assert_eq!(long_ago.len(), MEMORY_YEARS as usize, "a camera's unset clock does not reach back millennia");
    }

    #[test]
    fn february_29th_has_memories_in_common_years_too() {
        let windows = memory_windows(date(2024, 2, 29), date(2019, 1, 1), &TimeZone::UTC);
        let ranges: Vec<(Date, Date, Date)> =
            windows.iter().map(|window| (window.date, window.range.from.date(), window.range.to.date())).collect();
        assert_eq!(
            ranges,
            [
                (date(2023, 2, 28), date(2023, 2, 28), date(2023, 3, 1)),
                (date(2022, 2, 28), date(2022, 2, 28), date(2022, 3, 1)),
                (date(2021, 2, 28), date(2021, 2, 28), date(2021, 3, 1)),
                (date(2020, 2, 29), date(2020, 2, 28), date(2020, 3, 1)),
                (date(2019, 2, 28), date(2019, 2, 28), date(2019, 3, 1)),
            ]
        );
        // March 1st of a common year reaches back to February 29th in a leap year.
        let march_1 = memory_windows(date(2025, 3, 1), date(2024, 1, 1), &TimeZone::UTC);
        assert_eq!(march_1[0].range.from.date(), date(2024, 2, 29));
    }

    #[test]
    fn memories_around_new_year_cross_into_the_year_before() {
        let windows = memory_windows(date(2025, 1, 1), date(2020, 1, 1), &TimeZone::UTC);
        assert_eq!(windows[0].year, 2024);
        assert_eq!((windows[0].range.from.date(), windows[0].range.to.date()), (date(2023, 12, 31), date(2024, 1, 2)));
        let windows = memory_windows(date(2025, 12, 31), date(2020, 1, 1), &TimeZone::UTC);
        assert_eq!((windows[0].range.from.date(), windows[0].range.to.date()), (date(2024, 12, 30), date(2025, 1, 1)));
    }

    #[test]
    fn today_is_the_date_on_the_users_clock() {
        let now = datetime!(2025-01-01 02:00 UTC);
        assert_eq!(today(now, &TimeZone::UTC), date(2025, 1, 1));
        assert_eq!(today(now, &TimeZone::get("America/New_York").unwrap()), date(2024, 12, 31));
    }

    /// Over the in-memory store: the rules a store must keep, as every store keeps them.
    #[cfg(feature = "memory")]
    mod with_a_store {
        use contract::{Limit, QuotaSettings};
        use time::macros::datetime;

        use super::*;
        use crate::memory::MemoryImages;
        use crate::model::{ImageId, ImageRecord, ImageStatus, Search, SearchCursor};
        use crate::{ImageIndex, ImageStore};

        /// Photos taken at `taken_at` (EXIF) or, without it, uploaded at `created_at`.
        async fn store(photos: &[(Option<&str>, OffsetDateTime)]) -> (MemoryImages, UserName, Vec<ImageId>) {
            let images = MemoryImages::default();
            let user = UserName::parse("ann").unwrap();
            let quotas = QuotaSettings { photos_per_user: Limit::Unlimited, bytes_per_user: Limit::Unlimited, max_photo_bytes: 1 << 20 };
            let mut ids = Vec::new();
            for (taken_at, created_at) in photos {
                let record = ImageRecord {
                    taken_at: taken_at.map(str::to_owned),
                    created_at: *created_at,
                    ..ImageRecord::new(&user, ImageStatus::Ready, "image/jpeg")
                };
                images.create(&record, &quotas).await.unwrap();
                ids.push(record.id);
            }
            (images, user, ids)
        }

        fn years(found: &[Memory]) -> Vec<(i16, Vec<ImageId>)> {
            found.iter().map(|memory| (memory.window.year, memory.photos.iter().map(|photo| photo.id).collect())).collect()
        }

        const LONG_AGO: OffsetDateTime = datetime!(2019-01-01 00:00 UTC);

        #[tokio::test]
        async fn memories_on_february_29th_and_new_years_day() {
            let (images, user, ids) = store(&[
                (Some("2023-02-28T10:00:00"), LONG_AGO),
                (Some("2023-03-01T23:59:59"), LONG_AGO),
                (Some("2023-03-02T00:00:00"), LONG_AGO),
                (Some("2020-02-29T12:00:00"), LONG_AGO),
                (Some("2022-12-31T20:00:00"), LONG_AGO),
                (Some("2024-01-02T08:00:00"), LONG_AGO),
                (None, datetime!(2023-12-31 23:30 UTC)),
                (None, datetime!(2024-01-02 23:30 UTC)),
            ])
            .await;
            let leap_day = memories(&images, &user, &TimeZone::UTC, datetime!(2024-02-29 12:00 UTC), 50).await.unwrap();
            assert_eq!(years(&leap_day), [(2023, vec![ids[1], ids[0]]), (2020, vec![ids[3]])], "newest first; March 2nd is 2 days off");
            let new_year = memories(&images, &user, &TimeZone::UTC, datetime!(2025-01-01 12:00 UTC), 50).await.unwrap();
            assert_eq!(years(&new_year), [(2024, vec![ids[7], ids[5], ids[6]]), (2023, vec![ids[4]])]);
            // In Tokyo, the upload at 23:30 UTC on January 2nd was on the 3rd: outside the window.
            let tokyo = TimeZone::get("Asia/Tokyo").unwrap();
            let new_year = memories(&images, &user, &tokyo, datetime!(2025-01-01 12:00 UTC), 50).await.unwrap();
            assert_eq!(years(&new_year), [(2024, vec![ids[5], ids[6]]), (2023, vec![ids[4]])]);
            let few = memories(&images, &user, &TimeZone::UTC, datetime!(2024-02-29 12:00 UTC), 1).await.unwrap();
            assert_eq!(years(&few), [(2023, vec![ids[1]]), (2020, vec![ids[3]])], "at most per_year a year");
            let (empty, nobody, _) = store(&[]).await;
            assert!(memories(&empty, &nobody, &TimeZone::UTC, datetime!(2024-02-29 12:00 UTC), 50).await.unwrap().is_empty());
        }

        #[tokio::test]
        async fn a_time_range_pages_newest_taken_first_at_every_page_size() {
            let (images, user, ids) = store(&[
                (Some("2024-06-01T00:00:00"), LONG_AGO),
                (Some("2024-08-31T23:59:59"), LONG_AGO),
                (Some("2024-09-01T00:00:00"), LONG_AGO),
                (Some("2024-05-31T23:59:59"), LONG_AGO),
                (None, datetime!(2024-07-04 12:00 UTC)),
                (Some("2024-07-04T12:00:00"), LONG_AGO),
                (Some("2024-07-04T12:00:00"), LONG_AGO),
            ])
            .await;
            let mut same_second = [ids[5], ids[6]];
            same_second.sort_by(|a, b| b.cmp(a));
            // The upload at noon UTC and the two photos taken at noon share a second: newest id first.
            let mut noon = vec![ids[4], same_second[0], same_second[1]];
            noon.sort_by(|a, b| b.cmp(a));
            let expected: Vec<ImageId> = [vec![ids[1]], noon, vec![ids[0]]].concat();
            let range = TakenRange::of_query(Some("2024-06-01"), Some("2024-08-31"), &TimeZone::UTC).unwrap().unwrap();
            let search = Search::taken(range);
            for limit in 1..=expected.len() + 1 {
                let (mut seen, mut after): (Vec<ImageId>, Option<SearchCursor>) = (Vec::new(), None);
                loop {
                    let page = images.search(&user, &search, limit, after.as_ref()).await.unwrap();
                    seen.extend(page.items.iter().map(|hit| hit.id));
                    match page.next {
                        Some(next) => after = Some(next),
                        None => break,
                    }
                }
                assert_eq!(seen, expected, "pages of {limit}");
            }
            assert_eq!(images.oldest_taken(&user).await.unwrap().as_deref(), Some("2024-05-31T23:59:59"), "by EXIF, not upload");
        }
    }
}
