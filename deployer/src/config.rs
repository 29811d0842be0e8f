//! The tier configuration in `stacks/<TIER>.yaml`: everything that differs between tiers.
//!
//! Values are checked while they are parsed (validated newtypes), so that a bad value is
//! reported with the file, the line and what is wrong, exactly like a syntax error.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Deserializer, Serialize};

use crate::error::{Error, Result};

// The parts of a tier the runtime reads too are the contract's types: one type per setting,
// parsed and checked here, read there.
pub use contract::tier::BoundedVisitor;
pub use contract::{
    FaceSettings, Features, LabelerSettings, Limit, PhotoSettings, QuotaSettings, RequestLimits, SourceLimits, TextSettings, TierSettings,
    VisionEngine,
};

/// One tier, as declared in its stacks file.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TierConfig {
    /// Must equal the file's name without `.yaml`.
    pub tier: TierName,
    pub features: Features,
    pub labeler: LabelerSettings,
    pub quotas: QuotaSettings,
    /// How faces are grouped; the measured defaults when absent.
    #[serde(default)]
    pub faces: FaceSettings,
    /// How text is indexed; the defaults when absent.
    #[serde(default)]
    pub text: TextSettings,
    /// What a photo may be (its pixels); the defaults when absent.
    #[serde(default)]
    pub photos: PhotoSettings,
    /// Sign-ins and sign-ups per source address and hour; the defaults when absent.
    #[serde(default)]
    pub per_source: SourceLimits,
    /// Each tenant's request limits (rate_limit, burst_limit, daily_quota).
    pub api: RequestLimits,
    #[serde(default)]
    pub lambda: LambdaSettings,
    /// The stage's throttling; absent: the account's (10,000 a second).
    #[serde(default)]
    pub stage: Option<StageThrottling>,
    pub analysis: AnalysisSettings,
    pub log_retention_days: LogRetentionDays,
    /// Ops address subscribed to NewUser by email; none when absent.
    #[serde(default)]
    pub ops_email: Option<Email>,
    /// Whether a tenant may have a stack of this tier to itself (`deployer up --tenant`).
    #[serde(default)]
    pub tenancy: Tenancy,
}

impl TierConfig {
    /// What the runtime reads of the tier (the functions' `TIER_SETTINGS`): the same values,
    /// of the same types.
    pub fn settings(&self) -> TierSettings {
        TierSettings {
            features: self.features,
            labeler: self.labeler,
            quotas: self.quotas,
            faces: self.faces,
            text: self.text,
            photos: self.photos,
            per_source: self.per_source,
            requests: Some(self.api),
        }
    }
}

/// Who shares a tier's stacks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Tenancy {
    /// Every tenant of the tier in its one stack.
    #[default]
    Pooled,
    /// The pooled stack, and dedicated (silo) stacks for tenants who need their own.
    SiloAllowed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct LambdaSettings {
    #[serde(default = "LambdaSettings::default_memory")]
    pub memory_mb: MemoryMb,
    #[serde(default = "LambdaSettings::default_timeout")]
    pub timeout_seconds: TimeoutSeconds,
    #[serde(default)]
    pub architecture: Architecture,
    /// Concurrency reserved for each function: a ceiling on what one stack can cost and on how
    /// hard it can press its tables, and a floor no other function of the account can take.
    /// Absent: none reserved (an account's unreserved pool must keep 100, so small accounts
    /// cannot reserve).
    #[serde(default)]
    pub reserved_concurrency: Option<ReservedConcurrency>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ReservedConcurrency {
    pub api: Concurrency,
    pub analyzer: Concurrency,
}

/// The whole stage's request rate and burst (API Gateway's stage throttling), above every
/// tenant's own limits: what the stack serves at most, whoever asks, tokens or none (sign-in
/// floods included).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct StageThrottling {
    pub rate_limit: StageRate,
    pub burst_limit: StageRate,
}

impl LambdaSettings {
    fn default_memory() -> MemoryMb {
        MemoryMb(1024)
    }
    fn default_timeout() -> TimeoutSeconds {
        TimeoutSeconds(30)
    }
}

impl Default for LambdaSettings {
    fn default() -> Self {
        Self {
            memory_mb: Self::default_memory(),
            timeout_seconds: Self::default_timeout(),
            architecture: Architecture::default(),
            reserved_concurrency: None,
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Architecture {
    #[default]
    X86_64,
    Arm64,
}

impl Architecture {
    /// The name CloudFormation uses.
    pub fn as_aws(self) -> &'static str {
        match self {
            Architecture::X86_64 => "x86_64",
            Architecture::Arm64 => "arm64",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct AnalysisSettings {
    /// Messages handed to one analyzer invocation.
    pub batch_size: BatchSize,
    pub visibility_timeout_seconds: VisibilityTimeout,
    /// Deliveries before a message moves to the dead-letter queue.
    pub max_receive_count: MaxReceiveCount,
}

/// Defines a validated number type: `$name($inner)` accepting `$range`.
macro_rules! bounded {
    ($(#[$doc:meta])* $name:ident($inner:ty), $range:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
        #[serde(into = "u64")]
        pub struct $name(pub $inner);

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
                let range: std::ops::RangeInclusive<$inner> = $range;
                let visitor = BoundedVisitor { min: *range.start() as u64, max: *range.end() as u64 };
                d.deserialize_u64(visitor).map(|value| Self(value as $inner))
            }
        }

        impl From<$name> for u64 {
            fn from(value: $name) -> u64 {
                value.0 as u64
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

bounded!(
    /// Lambda's own limits.
    MemoryMb(u32), 128..=10_240);
bounded!(
    /// Lambda's own limit is 900 s; the API Gateway integration times out at 29 s anyway.
    TimeoutSeconds(u32), 1..=900);
bounded!(
    /// At least one (zero would stop the function); at most Lambda's default account quota.
    Concurrency(u32), 1..=1000);
bounded!(
    /// Requests per second (rate) or at once (burst): API Gateway's account default is 10,000.
    StageRate(u32), 1..=10_000);
bounded!(
    /// SQS event-source mappings accept 1..=10 without a batching window.
    BatchSize(u32), 1..=10);
bounded!(
    /// SQS's own limit is 12 hours.
    VisibilityTimeout(u32), 0..=43_200);
bounded!(
    /// SQS redrive accepts 1..=1000.
    MaxReceiveCount(u32), 1..=1000);

/// CloudWatch Logs accepts only these retention periods.
const LOG_RETENTION_DAYS: &[u32] =
    &[1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "u32", into = "u32")]
pub struct LogRetentionDays(pub u32);

impl TryFrom<u32> for LogRetentionDays {
    type Error = String;
    fn try_from(days: u32) -> std::result::Result<Self, String> {
        if LOG_RETENTION_DAYS.contains(&days) {
            Ok(Self(days))
        } else {
            Err(format!("log_retention_days must be one of CloudWatch's periods {LOG_RETENTION_DAYS:?}, got {days}"))
        }
    }
}

impl From<LogRetentionDays> for u32 {
    fn from(value: LogRetentionDays) -> u32 {
        value.0
    }
}

fn check_email(value: &str) -> std::result::Result<(), String> {
    let valid = match value.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty() && domain.contains('.') && !domain.contains('@') && !value.chars().any(char::is_whitespace)
        }
        None => false,
    };
    if valid { Ok(()) } else { Err(format!("ops_email is not an email address: {value:?}")) }
}

contract::checked_string! {
    /// An email address, checked only for the shape SNS needs (one `@`, no spaces).
    pub struct Email, checked by check_email;
}

fn check_tier_name(value: &str) -> std::result::Result<(), String> {
    let valid = value.len() <= 40
        && value.starts_with(|c: char| c.is_ascii_uppercase())
        && value.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
    if valid {
        Ok(())
    } else {
        Err(format!("tier name {value:?} must be upper-case letters, digits and underscores, starting with a letter"))
    }
}

contract::checked_string! {
    /// A tier's name: upper-case letters, digits and underscores (it names a file and a stack).
    pub struct TierName, checked by check_tier_name;
}

impl TierName {
    /// The CloudFormation stack of this tier, e.g. `smart-album-core-user`.
    pub fn stack_name(&self) -> String {
        contract::names::stack_name_of_tier(self.as_str())
    }
}

fn check_tenant_name(value: &str) -> std::result::Result<(), String> {
    let valid = (3..=TenantName::MAX_CHARS).contains(&value.len())
        && value.starts_with(|c: char| c.is_ascii_lowercase())
        && !value.ends_with('-')
        && !value.contains("--")
        && value.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if valid {
        Ok(())
    } else {
        Err(format!(
            "tenant name {value:?} must have 3 to {} lower-case letters, digits and single '-', \
             starting with a letter and not ending with '-'",
            TenantName::MAX_CHARS
        ))
    }
}

contract::checked_string! {
    /// The tenant of a dedicated (silo) stack, which is named `<tier stack>-<tenant>`: 3 to 20
    /// lower-case letters, digits and `-`, starting with a letter. 20 keeps every name of the
    /// stack within AWS's limits (functions 64 characters; the bucket has its own scheme, see
    /// `template::storage`).
    pub struct TenantName, checked by check_tenant_name;
}

impl TenantName {
    pub const MAX_CHARS: usize = 20;
}

/// Which stack: a tier's pooled stack, or a tenant's dedicated one of that tier.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StackId {
    pub tier: TierName,
    pub tenant: Option<TenantName>,
}

impl StackId {
    pub fn pooled(tier: TierName) -> Self {
        Self { tier, tenant: None }
    }

    pub fn stack_name(&self) -> String {
        match &self.tenant {
            None => self.tier.stack_name(),
            Some(tenant) => format!("{}-{tenant}", self.tier.stack_name()),
        }
    }
}

impl fmt::Display for StackId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(&self.stack_name())
    }
}

/// The folder of tier files (`stacks/`).
#[derive(Debug, Clone)]
pub struct StacksDir(PathBuf);

impl StacksDir {
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self(path.into())
    }

    pub fn path_of(&self, tier: &TierName) -> PathBuf {
        self.0.join(format!("{tier}.yaml"))
    }

    /// Every tier that has a file here, sorted.
    pub fn tiers(&self) -> Result<Vec<TierName>> {
        let entries = std::fs::read_dir(&self.0).map_err(|source| Error::Read { path: self.0.clone(), source })?;
        let mut tiers = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|source| Error::Read { path: self.0.clone(), source })?;
            let path = entry.path();
            if path.extension().is_some_and(|ext| ext == "yaml")
                && let Some(tier) = path.file_stem().and_then(|stem| stem.to_str()).and_then(|stem| stem.parse().ok())
            {
                tiers.push(tier);
            }
        }
        tiers.sort();
        Ok(tiers)
    }

    /// Reads and checks one tier's file.
    pub fn load(&self, tier: &TierName) -> Result<TierConfig> {
        let path = self.path_of(tier);
        if !path.exists() {
            let known = self.tiers().unwrap_or_default();
            return Err(Error::UnknownTier {
                tier: tier.to_string(),
                dir: self.0.clone(),
                known: known.iter().map(ToString::to_string).collect::<Vec<_>>().join(", "),
            });
        }
        let text = std::fs::read_to_string(&path).map_err(|source| Error::Read { path: path.clone(), source })?;
        parse_tier(&path, &text, tier)
    }
}

/// Parses a tier file's text; `path` and `expected` are for the error messages and the name check.
pub fn parse_tier(path: &Path, text: &str, expected: &TierName) -> Result<TierConfig> {
    let config: TierConfig = serde_norway::from_str(text).map_err(|err| {
        let (line, column) = err.location().map(|loc| (loc.line(), loc.column())).unwrap_or((0, 0));
        Error::InvalidTierFile { path: path.to_owned(), line, column, message: strip_location(&err.to_string()) }
    })?;
    if &config.tier != expected {
        return Err(Error::InvalidTierFile {
            path: path.to_owned(),
            line: line_of(text, "tier:"),
            column: 1,
            message: format!("`tier: {}` does not match the file name (expected `tier: {expected}`)", config.tier),
        });
    }
    if u64::from(config.analysis.visibility_timeout_seconds) < u64::from(config.lambda.timeout_seconds) {
        // SQS event-source mappings refuse a queue whose visibility timeout is shorter than the
        // function timeout: the message would reappear while it is still being analysed.
        return Err(Error::InvalidTierFile {
            path: path.to_owned(),
            line: line_of(text, "visibility_timeout_seconds:"),
            column: 1,
            message: format!(
                "analysis visibility_timeout_seconds ({}) must be at least the lambda timeout_seconds ({})",
                config.analysis.visibility_timeout_seconds, config.lambda.timeout_seconds
            ),
        });
    }
    if config.faces.suggest_distance <= config.faces.max_distance {
        // Persons closer than max_distance are grouped already: suggesting them is nothing.
        return Err(Error::InvalidTierFile {
            path: path.to_owned(),
            line: line_of(text, "suggest_distance:"),
            column: 1,
            message: format!(
                "faces.suggest_distance ({}) must be above faces.max_distance ({})",
                config.faces.suggest_distance, config.faces.max_distance
            ),
        });
    }
    Ok(config)
}

/// serde_norway appends " at line L column C" to its messages; the error carries those apart.
fn strip_location(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(at) => message[..at].to_owned(),
        None => message.to_owned(),
    }
}

/// The 1-based line on which `needle` first starts a (trimmed) line, or 0.
fn line_of(text: &str, needle: &str) -> usize {
    text.lines().position(|line| line.trim_start().starts_with(needle)).map_or(0, |index| index + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    const VALID: &str = "\
tier: TEST_TIER
features: {labels: true, faces: false, text: false}
labeler: {engine: builtin, max_labels: 10, min_confidence: 70}
quotas: {photos_per_user: 1000, bytes_per_user: unlimited, max_photo_bytes: 20971520}
api: {rate_limit: 10, burst_limit: 20, daily_quota: 10000}
analysis: {batch_size: 5, visibility_timeout_seconds: 180, max_receive_count: 3}
log_retention_days: 30
";

    fn parse(text: &str) -> Result<TierConfig> {
        parse_tier(Path::new("stacks/TEST_TIER.yaml"), text, &"TEST_TIER".parse().unwrap())
    }

    fn error_of(text: &str) -> String {
        parse(text).unwrap_err().to_string()
    }

    #[test]
    fn a_valid_file_parses_with_defaults() {
        let config = parse(VALID).unwrap();
        assert_eq!(config.quotas.photos_per_user, Limit::AtMost(1000));
        assert_eq!(config.quotas.bytes_per_user, Limit::Unlimited);
        assert_eq!(config.lambda, LambdaSettings::default());
        assert_eq!(config.lambda.architecture, Architecture::X86_64);
        assert_eq!(config.ops_email, None);
    }

    #[test]
    fn an_unknown_field_names_the_file_line_and_field() {
        let text = VALID.replace("log_retention_days: 30", "log_retention_days: 30\ncolour: blue");
        let message = error_of(&text);
        assert!(message.starts_with("stacks/TEST_TIER.yaml:8:"), "{message}");
        assert!(message.contains("unknown field `colour`"), "{message}");
    }

    #[test]
    fn an_out_of_range_value_names_its_line() {
        let text = VALID.replace("max_receive_count: 3", "max_receive_count: 0");
        let message = error_of(&text);
        assert!(message.starts_with("stacks/TEST_TIER.yaml:6:"), "{message}");
        assert!(message.contains("analysis.max_receive_count: must be between 1 and 1000, got 0"), "{message}");
    }

    #[test]
    fn the_settings_the_runtime_reads_are_checked_here_too() {
        let message = error_of(&VALID.replace("max_labels: 10", "max_labels: 500"));
        assert!(message.starts_with("stacks/TEST_TIER.yaml:3:"), "{message}");
        assert!(message.contains("labeler.max_labels: must be between 1 and 100, got 500"), "{message}");
        let message = error_of(&VALID.replace("burst_limit: 20", "burst_limit: 0"));
        assert!(message.contains("api.burst_limit: must be between 1 and"), "{message}");
        let message = error_of(&format!("{VALID}faces: {{max_distance: 0.9, min_face_px: 40}}\n"));
        assert!(message.contains("faces.max_distance must be between 0.2 and 0.8, got 0.9"), "{message}");
        let message = error_of(&format!("{VALID}faces: {{max_distance: 0.5, suggest_distance: 0.45, min_face_px: 40}}\n"));
        assert!(message.contains("faces.suggest_distance (0.45) must be above faces.max_distance (0.5)"), "{message}");
        let settings = parse(VALID).unwrap().settings();
        assert_eq!(settings.requests, Some(RequestLimits { per_second: 10, burst: 20, per_day: 10_000 }));
        assert_eq!(settings.faces, FaceSettings::default());
    }

    #[test]
    fn a_wrong_type_is_reported() {
        let message = error_of(&VALID.replace("faces: false", "faces: maybe"));
        assert!(message.starts_with("stacks/TEST_TIER.yaml:2:"), "{message}");
        assert!(message.contains("invalid type"), "{message}");
    }

    #[test]
    fn quotas_accept_only_numbers_or_unlimited() {
        let message = error_of(&VALID.replace("bytes_per_user: unlimited", "bytes_per_user: lots"));
        assert!(message.contains("a positive integer or `unlimited`"), "{message}");
        let message = error_of(&VALID.replace("photos_per_user: 1000", "photos_per_user: 0"));
        assert!(message.contains("a quota of 0"), "{message}");
    }

    #[test]
    fn a_mismatched_tier_name_is_refused() {
        let message = error_of(&VALID.replace("tier: TEST_TIER", "tier: OTHER"));
        assert!(message.starts_with("stacks/TEST_TIER.yaml:1:"), "{message}");
        assert!(message.contains("does not match the file name"), "{message}");
    }

    #[test]
    fn a_visibility_timeout_shorter_than_the_function_timeout_is_refused() {
        let text = format!("{VALID}lambda: {{timeout_seconds: 300}}\n");
        let message = error_of(&text);
        assert!(message.contains("must be at least the lambda timeout_seconds"), "{message}");
    }

    #[test]
    fn invalid_log_retention_and_email_are_refused() {
        assert!(error_of(&VALID.replace("log_retention_days: 30", "log_retention_days: 31")).contains("CloudWatch's periods"));
        let text = format!("{VALID}ops_email: not-an-address\n");
        assert!(error_of(&text).contains("not an email address"));
    }

    #[test]
    fn tier_names_cannot_escape_the_stacks_folder() {
        assert!("../etc/passwd".parse::<TierName>().is_err());
        assert!("core_user".parse::<TierName>().is_err());
        assert_eq!("FULL_PLATFORM_USER".parse::<TierName>().unwrap().stack_name(), "smart-album-full-platform-user");
    }

    #[test]
    fn the_repository_tier_files_are_valid() {
        let dir = StacksDir::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../stacks"));
        let tiers = dir.tiers().unwrap();
        let names: Vec<&str> = tiers.iter().map(TierName::as_str).collect();
        assert_eq!(names, ["BASIC_USER", "CORE_USER", "FULL_PLATFORM_USER"]);
        for tier in &tiers {
            dir.load(tier).unwrap();
        }
    }
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        /// A tier file is outside input: any text is a tier or an error naming the file, never
        /// a panic; and any one line of a real tier file changed is the same.
        #[test]
        fn any_tier_text_parses_or_fails_cleanly(text in ".{0,400}") {
            let tier: TierName = "CORE_USER".parse().unwrap();
            let _ = parse_tier(Path::new("CORE_USER.yaml"), &text, &tier);
        }

        #[test]
        fn a_real_tier_with_one_line_changed_parses_or_fails_cleanly(line in 0usize..60, replacement in ".{0,40}") {
            let real = include_str!("../../stacks/CORE_USER.yaml");
            let mut lines: Vec<&str> = real.lines().collect();
            let at = line % lines.len();
            lines[at] = &replacement;
            let tier: TierName = "CORE_USER".parse().unwrap();
            let _ = parse_tier(Path::new("CORE_USER.yaml"), &lines.join("\n"), &tier);
        }
    }
}
