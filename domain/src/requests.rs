//! Each tenant's request allowance: the tier's [`RequestLimits`] counted per user, in the users
//! table (the same item whichever process or Lambda instance answers), so that one tenant over
//! its rate is refused while the others are served.
//!
//! The rate is a token bucket kept as one number (the generic cell rate algorithm): the time
//! at which the bucket would be full again. The day's count sits beside it, in one allowance
//! per UTC day, so that a store can admit a request with one conditional update and no read.

use std::time::Duration;

use contract::RequestLimits;
use serde::{Deserialize, Serialize};

use crate::error::Error;

/// What is stored per tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Allowance {
    /// Milliseconds since the epoch at which the bucket is full again ("theoretical arrival
    /// time"): at or before now, a whole burst may come.
    pub full_at_ms: i64,
    /// The UTC day (days since the epoch) `requests` counts.
    pub day: i64,
    pub requests: u64,
}

const DAY_MS: i64 = 86_400_000;

/// The bucket in milliseconds: one request's share (the refill interval) and the whole burst's.
pub fn bucket_ms(limits: &RequestLimits) -> (i64, i64) {
    let interval_ms = (1000 / limits.per_second.max(1)).max(1) as i64;
    (interval_ms, interval_ms.saturating_mul(limits.burst.max(1) as i64))
}

/// The UTC day of `now_ms` (days since the epoch): a day's count, and its bucket, start afresh.
pub fn day_of(now_ms: i64) -> i64 {
    now_ms.div_euclid(DAY_MS)
}

/// Why one more request at `now_ms` is refused (429 with how long to wait), given the
/// allowance stored for today, if it is.
pub fn refusal(today: Option<Allowance>, limits: &RequestLimits, now_ms: i64) -> Option<Error> {
    let today = today.filter(|allowance| allowance.day == day_of(now_ms))?;
    if today.requests >= limits.per_day {
        let midnight = (today.day + 1) * DAY_MS;
        return Some(Error::Throttled {
            code: "daily_quota_exceeded",
            message: format!("the tier allows {} requests a day; the count starts again at 00:00 UTC", limits.per_day),
            retry_after: Duration::from_millis((midnight - now_ms).max(0) as u64),
        });
    }
    let (interval_ms, capacity_ms) = bucket_ms(limits);
    let over_ms = today.full_at_ms.max(now_ms) + interval_ms - now_ms - capacity_ms;
    (over_ms > 0).then(|| Error::Throttled {
        code: "rate_limited",
        message: format!("more than {} requests a second (bursts of {}); slow down", limits.per_second, limits.burst),
        retry_after: Duration::from_millis(over_ms as u64),
    })
}

/// The allowance after one more request at `now_ms`, or the error that refuses it (429 with
/// how long to wait). A new UTC day starts with a full bucket and a count of zero.
pub fn admit(previous: Option<Allowance>, limits: &RequestLimits, now_ms: i64) -> Result<Allowance, Error> {
    if let Some(refused) = refusal(previous, limits, now_ms) {
        return Err(refused);
    }
    let day = day_of(now_ms);
    let (full_at_ms, requests) = match previous {
        Some(previous) if previous.day == day => (previous.full_at_ms, previous.requests),
        _ => (now_ms, 0),
    };
    let (interval_ms, _) = bucket_ms(limits);
    Ok(Allowance { full_at_ms: full_at_ms.max(now_ms) + interval_ms, day, requests: requests + 1 })
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    const LIMITS: RequestLimits = RequestLimits { per_second: 10, burst: 5, per_day: 1000 };

    fn run(limits: &RequestLimits, times_ms: &[i64]) -> Vec<bool> {
        let mut allowance = None;
        times_ms
            .iter()
            .map(|&now| match admit(allowance, limits, now) {
                Ok(next) => {
                    allowance = Some(next);
                    true
                }
                Err(_) => false,
            })
            .collect()
    }

    #[test]
    fn a_burst_passes_then_the_steady_rate() {
        let start = 1_000 * DAY_MS + 5_000;
        let burst: Vec<_> = (0..7).map(|_| start).collect();
        assert_eq!(run(&LIMITS, &burst), [true, true, true, true, true, false, false]);
        // 10 a second refills one every 100 ms.
        let mut times = vec![start; 5];
        times.extend([start + 50, start + 100, start + 150, start + 200]);
        assert_eq!(run(&LIMITS, &times), [true, true, true, true, true, false, true, false, true]);
    }

    #[test]
    fn a_refusal_says_how_long_to_wait() {
        let start = 1_000 * DAY_MS;
        let mut allowance = None;
        for _ in 0..5 {
            allowance = Some(admit(allowance, &LIMITS, start).unwrap());
        }
        let Err(Error::Throttled { code, retry_after, .. }) = admit(allowance, &LIMITS, start) else { panic!() };
        assert_eq!((code, retry_after), ("rate_limited", Duration::from_millis(100)));
        assert!(admit(allowance, &LIMITS, start + 100).is_ok());
    }

    #[test]
    fn the_day_quota_resets_at_utc_midnight() {
        let limits = RequestLimits { per_second: 1000, burst: 1000, per_day: 3 };
        let evening = 1_000 * DAY_MS + DAY_MS - 10_000;
        let mut allowance = None;
        for _ in 0..3 {
            allowance = Some(admit(allowance, &limits, evening).unwrap());
        }
        let Err(Error::Throttled { code, retry_after, .. }) = admit(allowance, &limits, evening) else { panic!() };
        assert_eq!((code, retry_after), ("daily_quota_exceeded", Duration::from_secs(10)));
        assert_eq!(admit(allowance, &limits, evening + 10_000).unwrap().requests, 1);
    }

    proptest! {
        /// Over any window, no more than the burst plus what the rate refills is admitted.
        #[test]
        fn never_more_than_burst_plus_rate(gaps in proptest::collection::vec(0i64..300, 1..400)) {
            let mut now = 1_000 * DAY_MS;
            let times: Vec<i64> = gaps.iter().map(|gap| { now += gap; now }).collect();
            let admitted = run(&LIMITS, &times).into_iter().filter(|ok| *ok).count() as i64;
            let window_ms = times.last().unwrap() - times[0];
            prop_assert!(admitted <= LIMITS.burst as i64 + window_ms / 100 + 1);
        }
    }
}
