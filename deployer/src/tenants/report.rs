//! What `tenant list` and `tenant show` print: a table for people, JSON for tools.

use aws_adapters::images::check::{Drift, Report as CheckReport};
use domain::{AlbumStore, PersonStore, UsageStore, UserRecord, rfc3339};
use serde::Serialize;

use super::stacks::TenantStack;
use crate::config::Limit;
use crate::error::{Error, Result};

/// A tenant with its usage, as listed.
#[derive(Debug, Serialize)]
pub struct TenantView {
    pub user_name: String,
    pub stack: String,
    pub tier: String,
    pub status: String,
    /// RFC 3339.
    pub created: String,
    pub photos: u64,
    pub bytes: u64,
    /// The larger of photos and bytes against the tier's quotas; none when both are unlimited.
    pub quota_percent: Option<f64>,
    pub last_sign_in: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<Details>,
}

/// What `show` adds.
#[derive(Debug, Serialize)]
pub struct Details {
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub albums: usize,
    pub persons: usize,
    pub password_change_required: bool,
    /// Until when a one-time password works (RFC 3339), if the account has one.
    pub one_time_password_expires_at: Option<String>,
}

fn percent(used: u64, limit: Limit) -> Option<f64> {
    match limit {
        Limit::Unlimited => None,
        Limit::AtMost(0) => Some(100.0),
        Limit::AtMost(max) => Some((used as f64 * 1000.0 / max as f64).round() / 10.0),
    }
}

impl TenantView {
    pub async fn of(stack: &TenantStack, user: &UserRecord) -> Result<Self> {
        let usage = stack.images.usage(&user.user_name).await?;
        let quotas = &stack.tier.quotas;
        let quota_percent = match (percent(usage.photos, quotas.photos_per_user), percent(usage.bytes, quotas.bytes_per_user)) {
            (Some(photos), Some(bytes)) => Some(photos.max(bytes)),
            (one, other) => one.or(other),
        };
        Ok(Self {
            user_name: user.user_name.to_string(),
            stack: stack.name.clone(),
            tier: stack.tier_name().to_string(),
            status: user.status.to_string(),
            created: rfc3339(user.registration_date),
            photos: usage.photos,
            bytes: usage.bytes,
            quota_percent,
            last_sign_in: user.last_sign_in.map(rfc3339),
            details: None,
        })
    }

    pub async fn with_details(mut self, stack: &TenantStack, user: &UserRecord) -> Result<Self> {
        self.details = Some(Details {
            email: user.email.clone(),
            first_name: user.first_name.clone(),
            last_name: user.last_name.clone(),
            albums: stack.images.albums(&user.user_name).await?.len(),
            persons: stack.images.persons(&user.user_name).await?.len(),
            password_change_required: user.password.is_one_time(),
            one_time_password_expires_at: user.password.one_time_until().map(rfc3339),
        });
        Ok(self)
    }
}

fn to_json<T: Serialize>(value: &T) -> Result<String> {
    serde_json::to_string_pretty(value).map_err(|err| Error::Render(err.to_string()))
}

fn quota(view: &TenantView) -> String {
    view.quota_percent.map_or_else(|| "-".into(), |percent| format!("{percent}%"))
}

pub fn print_list(views: &[TenantView], json: bool, nothing_deployed: bool) -> Result<()> {
    if json {
        println!("{}", to_json(&views)?);
        return Ok(());
    }
    if nothing_deployed {
        eprintln!("No stack is deployed (`deployer status`).");
        return Ok(());
    }
    println!(
        "{:<32} {:<40} {:<10} {:<25} {:>7} {:>12} {:>6}  LAST SIGN-IN",
        "USER", "STACK", "STATUS", "CREATED", "PHOTOS", "BYTES", "QUOTA"
    );
    for view in views {
        println!(
            "{:<32} {:<40} {:<10} {:<25} {:>7} {:>12} {:>6}  {}",
            view.user_name,
            view.stack,
            view.status,
            view.created,
            view.photos,
            view.bytes,
            quota(view),
            view.last_sign_in.as_deref().unwrap_or("never")
        );
    }
    println!("{} tenant(s)", views.len());
    Ok(())
}

pub fn print_one(view: &TenantView, json: bool) -> Result<()> {
    if json {
        println!("{}", to_json(view)?);
        return Ok(());
    }
    println!("user          {}", view.user_name);
    println!("stack         {} (tier {})", view.stack, view.tier);
    println!("status        {}", view.status);
    println!("created       {}", view.created);
    println!("last sign-in  {}", view.last_sign_in.as_deref().unwrap_or("never"));
    println!("photos        {}", view.photos);
    println!("bytes         {}", view.bytes);
    println!("quota used    {}", quota(view));
    if let Some(details) = &view.details {
        println!("email         {}", details.email);
        println!("name          {} {}", details.first_name, details.last_name);
        println!("albums        {}", details.albums);
        println!("persons       {}", details.persons);
        if let Some(expires_at) = &details.one_time_password_expires_at {
            println!("password      one-time (not yet changed), works until {expires_at}");
        }
    }
    Ok(())
}

/// What `tenant check` prints: each drift found, and after a repair what is left.
pub fn print_check(stack: &str, found: &CheckReport, left: Option<&CheckReport>, json: bool) -> Result<()> {
    if json {
        let value = serde_json::json!({"stack": stack, "found": found, "left": left});
        println!("{}", to_json(&value)?);
        return Ok(());
    }
    println!("{} in {stack}: {} records, {} objects, {} drift(s)", found.user, found.records, found.objects, found.drifts.len());
    for drift in &found.drifts {
        println!("  {}", describe(drift));
    }
    if let Some(left) = left {
        println!("Repaired {} drift(s); {} left.", found.drifts.len() - left.drifts.len().min(found.drifts.len()), left.drifts.len());
        for drift in &left.drifts {
            println!("  left: {}", describe(drift));
        }
    }
    Ok(())
}

fn describe(drift: &Drift) -> String {
    match drift {
        Drift::OrphanObject { key } => format!("orphan object {key} (no record)"),
        Drift::RecordWithoutObject { image } => format!("image {image} is counted but its photo is gone"),
        Drift::MissingEntry { sk } => format!("index entry {sk} missing or stale"),
        Drift::ExtraItem { sk } => format!("item {sk} belongs to no record"),
        Drift::MissingFace { sk } => format!("face {sk} lost its descriptor (upload the photo again to restore it)"),
        Drift::Usage { stored_photos, stored_bytes, photos, bytes } => {
            format!("usage says {stored_photos} photos / {stored_bytes} bytes; counted {photos} / {bytes}")
        }
        Drift::Album { label, stored, photos } => format!("album {label} says {stored} photos; counted {photos}"),
        Drift::Place { sk, stored, photos } => format!("place {sk} says {stored} photos; counted {photos}"),
        Drift::Person { person, stored_faces, stored_photos, faces, photos } => {
            format!("person {person} says {stored_faces} faces in {stored_photos} photos; counted {faces} in {photos}")
        }
    }
}
