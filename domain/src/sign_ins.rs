//! Throttling of password guesses. Per user name: after [`FREE_FAILURES`] wrong passwords, each
//! failure locks the name's sign-ins for twice as long as the one before (from
//! [`FIRST_LOCK`] up to [`LONGEST_LOCK`]); while locked, every attempt is refused before its
//! password is checked, the right one included, so a lock says nothing about the password.
//! Names without an account are counted the same, so a lock says nothing about the name either.
//! Failures are forgotten [`FORGET_AFTER`] after the last one (or after the lock it earned ends);
//! a successful sign-in forgets them at once.
//!
//! Per source address: sign-in attempts (across names) and sign-ups per hour, at most the
//! tier's [`SourceLimits`], counted in the hour they fall in.

use std::time::Duration;

pub use contract::SourceLimits;

use crate::error::Error;
use crate::model::{LinkId, UserName};

/// Whose password is being guessed: an account's (by its name, whether it exists or not), or a
/// shared link's ([`crate::links`]). Each has its own failures and waits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Guessed<'a> {
    Account(&'a UserName),
    Link(LinkId),
}

impl Guessed<'_> {
    /// The key its failures are kept under: the name itself, or `link#<id>` (no user name has
    /// a `#`, so the two never meet).
    pub fn key(&self) -> String {
        match self {
            Guessed::Account(name) => name.to_string(),
            Guessed::Link(link) => format!("link#{link}"),
        }
    }
}

impl std::fmt::Display for Guessed<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.key())
    }
}

/// Wrong passwords a name may have before its sign-ins wait.
pub const FREE_FAILURES: u32 = 5;
/// The wait after the failure that uses up the free ones.
pub const FIRST_LOCK: Duration = Duration::from_secs(30);
/// The longest wait, however many failures came before.
pub const LONGEST_LOCK: Duration = Duration::from_secs(15 * 60);
/// How long failures are remembered after the last one, or after the lock it earned.
pub const FORGET_AFTER: Duration = Duration::from_secs(15 * 60);

/// A name's recent failed sign-ins, as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Failures {
    pub count: u32,
    /// Milliseconds since the epoch.
    pub last_ms: i64,
    /// Until when its sign-ins wait, if they do (milliseconds since the epoch).
    pub locked_until_ms: Option<i64>,
}

/// The wait the `count`th failure earns: none within the free ones, then doubling.
pub fn lock_after(count: u32) -> Option<Duration> {
    let over = count.checked_sub(FREE_FAILURES)?;
    let doubled = FIRST_LOCK.saturating_mul(1u32.checked_shl(over).unwrap_or(u32::MAX));
    Some(doubled.min(LONGEST_LOCK))
}

impl Failures {
    /// When they are forgotten: [`FORGET_AFTER`] after the last failure or the wait it earned.
    fn forgotten_at_ms(&self) -> i64 {
        let since = self.last_ms.max(self.locked_until_ms.unwrap_or(i64::MIN));
        since.saturating_add(FORGET_AFTER.as_millis() as i64)
    }

    /// Whether these failures still count at `now_ms` (a new failure adds to them).
    pub fn remembered(&self, now_ms: i64) -> bool {
        now_ms < self.forgotten_at_ms()
    }

    /// When the store keeps these failures no longer (its TTL), in seconds since the epoch.
    pub fn forgotten_at_secs(&self) -> i64 {
        self.forgotten_at_ms() / 1000 + 1
    }

    /// How long sign-ins of this name wait at `now_ms`, if they do.
    pub fn wait(&self, now_ms: i64) -> Option<Duration> {
        let until = self.locked_until_ms?;
        (until > now_ms).then(|| Duration::from_millis((until - now_ms) as u64))
    }
}

/// The refusal of a sign-in while its name (or link) waits.
pub fn locked(wait: Duration) -> Error {
    Error::Throttled {
        code: "too_many_sign_ins",
        message: format!("too many wrong passwords: try again in {} s", wait.as_secs().max(1)),
        retry_after: wait,
    }
}

/// What a source address is counted for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceAction {
    SignIn,
    SignUp,
}

impl SourceAction {
    pub fn as_str(self) -> &'static str {
        match self {
            SourceAction::SignIn => "sign_in",
            SourceAction::SignUp => "sign_up",
        }
    }

    /// At most this many an hour from one source.
    pub fn limit(self, limits: &SourceLimits) -> u64 {
        match self {
            SourceAction::SignIn => limits.sign_ins_per_hour,
            SourceAction::SignUp => limits.sign_ups_per_hour,
        }
    }
}

const HOUR_MS: i64 = 3_600_000;

/// The hour `now_ms` falls in (hours since the epoch): what a source's count is kept for.
pub fn hour_of(now_ms: i64) -> i64 {
    now_ms.div_euclid(HOUR_MS)
}

/// The refusal of one more `action` from a source that used up its hour.
pub fn source_exhausted(action: SourceAction, limits: &SourceLimits, now_ms: i64) -> Error {
    let next_hour = (hour_of(now_ms) + 1) * HOUR_MS;
    let what = match action {
        SourceAction::SignIn => "sign-in attempts",
        SourceAction::SignUp => "sign-ups",
    };
    Error::Throttled {
        code: "too_many_from_source",
        message: format!("more than {} {what} an hour from this address; try again later", action.limit(limits)),
        retry_after: Duration::from_millis((next_hour - now_ms).max(1000) as u64),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wait_doubles_after_the_free_failures_up_to_fifteen_minutes() {
        let waits: Vec<Option<u64>> = (1..=12).map(|count| lock_after(count).map(|wait| wait.as_secs())).collect();
        assert_eq!(waits, [None, None, None, None, Some(30), Some(60), Some(120), Some(240), Some(480), Some(900), Some(900), Some(900)]);
        assert_eq!(lock_after(u32::MAX), Some(LONGEST_LOCK));
    }

    #[test]
    fn failures_are_forgotten_fifteen_minutes_after_the_last_or_after_their_lock() {
        let now = 1_000_000_000;
        let few = Failures { count: 3, last_ms: now, locked_until_ms: None };
        assert!(few.remembered(now + 14 * 60_000) && !few.remembered(now + 15 * 60_000));
        assert_eq!(few.wait(now), None);
        let locked = Failures { count: 10, last_ms: now, locked_until_ms: Some(now + 900_000) };
        assert_eq!(locked.wait(now + 100_000), Some(Duration::from_secs(800)));
        assert_eq!(locked.wait(now + 900_000), None);
        assert!(locked.remembered(now + 29 * 60_000), "forgotten while the next failure should wait longer");
        assert!(!locked.remembered(now + 30 * 60_000));
        assert_eq!(locked.forgotten_at_secs(), (now + 1_800_000) / 1000 + 1);
    }

    #[test]
    fn a_source_waits_for_the_next_hour() {
        let limits = SourceLimits { sign_ins_per_hour: 100, sign_ups_per_hour: 10 };
        let now = 500 * HOUR_MS + HOUR_MS - 60_000;
        let Error::Throttled { code, retry_after, message } = source_exhausted(SourceAction::SignUp, &limits, now) else { panic!() };
        assert_eq!((code, retry_after), ("too_many_from_source", Duration::from_secs(60)));
        assert!(message.contains("10 sign-ups"), "{message}");
        assert_eq!(hour_of(now), 500);
    }
}
