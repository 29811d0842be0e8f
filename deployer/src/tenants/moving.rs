//! `deployer tenant move`: a tenant with everything to another stack, resumable and idempotent.
//!
//! The steps, each safe to run again:
//! 1. the source account becomes `moving` (its sessions end; its API answers every call, sign-in
//!    included, with 409);
//! 2. the account is created in the target, `moving` too, with the same password hash;
//! 3. every object is copied and read back: skipped when the target's bytes already hash the
//!    same, so a second run copies only what the first did not;
//! 4. every item of the user's partition is written as it is, adapted to the target tier
//!    (`aws_adapters::images::moving`), and the target's sort keys are compared with what was
//!    written; the links of the user's collections get their stack-wide items in the target (their
//!    secrets open the same collections there, at the target's API URL); memberships are kept
//!    only where the other side's account in the target is the one it was shared with, and the
//!    rest are listed as dropped;
//! 5. photos the target tier analyses further (faces, text) are queued on the target's topic;
//! 6. the target account becomes `active`; only then is the source removed, account last.
//!
//! Killed at any point, the state says where it stopped: the source `moving` and the target
//! absent or `moving` (copy again: nothing doubles, as every write is a put of the same key), or
//! the target `active` (remove the source), or no source left (done).

use aws_adapters::images::moving::{Adapted, Sharing, sort_keys};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use domain::accounts::user_prefix;
use domain::collections::Role;
use domain::{
    AccountStatus, CollectionStore, Events, LinkDirectory, PhotoStore, UsageStore, UserName, UserRecord, UserStore, is_face_crop_key,
};
use indicatif::{ProgressBar, ProgressStyle};
use sha2::{Digest, Sha256};

use super::stacks::{TenantStack, holders};
use super::{audit, confirm, update_status};
use crate::apply;
use crate::aws::Clients;
use crate::config::{Features, Limit, StackId};
use crate::error::{Error, Result};

/// In debug builds (the tests'), stops the process after copying this many objects, the way
/// a kill would: the test of a resumed move.
const STOP_AFTER_OBJECTS: &str = "SMART_ALBUM_TEST_STOP_MOVE_AFTER_OBJECTS";

pub async fn run(clients: &Clients, stacks: &[TenantStack], user: &UserName, to: &StackId, yes: bool) -> Result<()> {
    let target = stacks
        .iter()
        .find(|stack| stack.id == *to)
        .ok_or_else(|| Error::Tenant(format!("the target stack {to} is not deployed (`deployer status` lists what is)")))?;
    let mut sources = holders(stacks.iter().filter(|stack| stack.id != *to), user).await?;
    let in_target = target.user(user).await?;
    let (source, source_record) = match (sources.len(), &in_target) {
        (0, None) => return Err(Error::Tenant(format!("no deployed stack has a user {user}"))),
        (0, Some(record)) if record.status == AccountStatus::Moving => {
            // The source is gone already: only the last step is left.
            update_status(&target.users, record, AccountStatus::Active).await?;
            return finished(clients, target, user).await;
        }
        (0, Some(_)) => {
            println!("{user} is in {} already; nothing to move.", target.name);
            return Ok(());
        }
        (1, _) => sources.remove(0),
        _ => {
            return Err(Error::Tenant(format!(
                "user {user} is in several stacks besides the target ({}); move from one at a time",
                sources.iter().map(|(stack, _)| stack.name.as_str()).collect::<Vec<_>>().join(", ")
            )));
        }
    };
    let resuming = source_record.status == AccountStatus::Moving;
    match (&in_target, resuming) {
        (Some(record), true) if record.status == AccountStatus::Active => {
            eprintln!("The copy of {user} in {} was verified earlier; removing the source.", target.name);
            return remove_source(clients, source, &source_record, target, user).await;
        }
        (Some(_), false) => {
            return Err(Error::Tenant(format!(
                "user {user} exists in both {} and {} and neither is being moved; remove one of them first",
                source.name, target.name
            )));
        }
        _ => {}
    }
    if source_record.status == AccountStatus::Suspended {
        return Err(Error::Tenant(format!("{user} is suspended; resume the account before moving it")));
    }

    let partition = source.images.export(user).await?;
    let adapted = partition.adapt(source.tier.features, target.tier.features)?;
    let kept = kept_sharing(target, &source_record, &adapted.sharing).await?;
    let source_record = if resuming {
        eprintln!("Resuming the move of {user} from {} to {}.", source.name, target.name);
        source_record
    } else {
        check_quotas(source, target, user).await?;
        eprintln!("{}", describe(source, target, &adapted));
        for (sharing, _) in adapted.sharing.iter().zip(&kept).filter(|(_, kept)| !**kept) {
            eprintln!("  dropped: {}", dropped_sharing(sharing, target));
        }
        if !yes {
            confirm(&format!("This moves {user} from {} to {}.", source.name, target.name), user.as_str())?;
        }
        audit(clients, "tenant move", user, &format!("{} -> {}", source.name, target.name)).await;
        update_status(&source.users, &source_record, AccountStatus::Moving).await?
    };

    if in_target.is_none() {
        target.users.create(&source_record).await?;
    }
    let objects = copy_objects(source, target, user).await?;
    target.images.import(user, &adapted.items).await?;
    let sharing: Vec<&Sharing> = adapted.sharing.iter().zip(&kept).filter(|(_, kept)| **kept).map(|(sharing, _)| sharing).collect();
    target.images.import(user, &sharing.iter().flat_map(|sharing| sharing.items()).collect::<Vec<_>>()).await?;
    for sharing in &sharing {
        if let Sharing::Member { collection, member, .. } = sharing {
            target.images.put_shared(member, user, *collection).await?;
        }
    }
    let links = adapted.links()?;
    for link in &links {
        target.users.put_link_target(&link.secret_digest, &link.target(), link.kept_until()).await?;
    }
    // The target may hold more than was written (a run stopped after step 5 lets the target's
    // analyzer add faces), never less.
    let written = target.images.sort_keys(user).await?;
    let missing = sort_keys(&adapted.items).difference(&written).count();
    if missing > 0 {
        return Err(Error::Tenant(format!(
            "the copy of {user} in {} lacks {missing} of its {} items; nothing was removed from {}: \
             run the move again",
            target.name,
            adapted.items.len(),
            source.name
        )));
    }
    for event in &adapted.reanalyse {
        target.events.new_image(event).await?;
    }
    eprintln!(
        "Copied and verified {objects} objects and {} items; {} photos queued for analysis in {}; {} links and {} of {} \
         memberships kept.",
        adapted.items.len(),
        adapted.reanalyse.len(),
        target.name,
        links.len(),
        sharing.len(),
        adapted.sharing.len()
    );
    let copied = target
        .user(user)
        .await?
        .ok_or_else(|| Error::Tenant(format!("the account of {user} vanished from {} during the move", target.name)))?;
    update_status(&target.users, &copied, AccountStatus::Active).await?;
    remove_source(clients, source, &source_record, target, user).await
}

/// Refuses a move the target's quotas would not hold, with the numbers.
async fn check_quotas(source: &TenantStack, target: &TenantStack, user: &UserName) -> Result<()> {
    let usage = source.images.usage(user).await?;
    let quotas = &target.tier.quotas;
    let over = |used: u64, limit: Limit, what: &str| match limit {
        Limit::AtMost(max) if used > max => Some(format!("{used} {what} (the limit is {max})")),
        _ => None,
    };
    let refusals: Vec<String> = [over(usage.photos, quotas.photos_per_user, "photos"), over(usage.bytes, quotas.bytes_per_user, "bytes")]
        .into_iter()
        .flatten()
        .collect();
    if refusals.is_empty() {
        Ok(())
    } else {
        Err(Error::Tenant(format!("{user} does not fit tier {}: {}; nothing was moved", target.tier_name(), refusals.join(" and "))))
    }
}

/// What the move will add and drop, said before it starts.
fn describe(source: &TenantStack, target: &TenantStack, adapted: &Adapted) -> String {
    let (from, to) = (source.tier.features, target.tier.features);
    let mut lines =
        vec![format!("Moving from {} (tier {}) to {} (tier {}):", source.name, source.tier_name(), target.name, target.tier_name())];
    let added: Vec<&str> = gained(from, to);
    if !added.is_empty() {
        lines.push(format!(
            "- {} computes {} as well: {} photos are analysed again there after the copy.",
            target.tier_name(),
            added.join(" and "),
            adapted.reanalyse.len()
        ));
    }
    let dropped = adapted.dropped;
    if from.faces && !to.faces {
        lines.push(format!(
            "- {} keeps no faces: {} faces and {} persons ({} named) are dropped.",
            target.tier_name(),
            dropped.faces,
            dropped.persons,
            dropped.named_persons
        ));
    }
    if from.text && !to.text {
        lines.push(format!("- {} keeps no text: {} lines of text are dropped.", target.tier_name(), dropped.text_lines));
    }
    if added.is_empty() && dropped.is_empty() {
        lines.push("- everything is kept as it is.".into());
    }
    lines.push(format!(
        "- the account's sessions end and every call answers 409 `moving` until the move ends; then the user signs in on {}'s API.",
        target.name
    ));
    lines.join("\n")
}

fn gained(from: Features, to: Features) -> Vec<&'static str> {
    let mut gained = Vec::new();
    if to.faces && !from.faces {
        gained.push("faces and persons");
    }
    if to.text && !from.text {
        gained.push("text");
    }
    gained
}

/// Copies every object of the user that the target keeps, each read back and compared by
/// SHA-256; objects already there with the same bytes are skipped. How many objects there are.
async fn copy_objects(source: &TenantStack, target: &TenantStack, user: &UserName) -> Result<usize> {
    let keep_crops = target.tier.features.faces;
    let keys: Vec<String> =
        source.photos.keys(&user_prefix(user)).await?.into_iter().filter(|key| keep_crops || !is_face_crop_key(key)).collect();
    let progress = ProgressBar::new(keys.len() as u64).with_style(
        ProgressStyle::with_template("{msg} {bar:30} {pos}/{len} objects ({eta} left)").unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    progress.set_message("copying photos");
    let stop_after = stop_after();
    for (copied, key) in keys.iter().enumerate() {
        if stop_after == Some(copied) {
            progress.abandon();
            eprintln!("stopping after {copied} objects, as {STOP_AFTER_OBJECTS} asks");
            std::process::exit(9);
        }
        let (bytes, content_type) = source
            .photos
            .read_with_type(key, None)
            .await?
            .ok_or_else(|| Error::Tenant(format!("{key} vanished from {} during the move", source.bucket)))?;
        let digest = STANDARD.encode(Sha256::digest(&bytes));
        let same =
            |copy: &Option<(Vec<u8>, String)>| copy.as_ref().is_some_and(|(copy, _)| STANDARD.encode(Sha256::digest(copy)) == digest);
        if !same(&target.photos.read_with_type(key, None).await?) {
            target.photos.put_with_checksum(key, bytes, &content_type, &digest).await?;
            if !same(&target.photos.read_with_type(key, None).await?) {
                return Err(Error::Tenant(format!("{key} in {} does not read back as written; run the move again", target.bucket)));
            }
        }
        progress.inc(1);
    }
    progress.finish_and_clear();
    Ok(keys.len())
}

fn stop_after() -> Option<usize> {
    if cfg!(debug_assertions) { std::env::var(STOP_AFTER_OBJECTS).ok().and_then(|value| value.parse().ok()) } else { None }
}

/// Which of the user's memberships the target keeps: a member of the user's collections whose
/// account of that name in the target is the one it was shared with (a same-named account there
/// may be someone else); a collection of another's shared with the user whose owner is in the
/// target and names this account a member there.
async fn kept_sharing(target: &TenantStack, record: &UserRecord, sharing: &[Sharing]) -> Result<Vec<bool>> {
    let mut kept = Vec::with_capacity(sharing.len());
    for one in sharing {
        kept.push(match one {
            Sharing::Member { member, account, .. } => {
                let theirs = target.user(member).await?;
                account.is_some() && theirs.map(|theirs| theirs.account_id) == *account
            }
            Sharing::SharedWithUser { collection, owner, .. } => match target.images.collection_members(owner, *collection).await {
                Ok(members) => members.iter().any(|member| member.user == record.user_name && member.account == Some(record.account_id)),
                Err(domain::Error::NotFound(_)) => false,
                Err(other) => return Err(other.into()),
            },
        });
    }
    Ok(kept)
}

fn dropped_sharing(sharing: &Sharing, target: &TenantStack) -> String {
    match sharing {
        Sharing::Member { collection, member, .. } => {
            format!(
                "collection {collection} stays shared with {member} no longer ({member} has no account in {} that it was shared with)",
                target.name
            )
        }
        Sharing::SharedWithUser { collection, owner, contributed, .. } => {
            let photos = match contributed.len() {
                0 => String::new(),
                count => format!("; the user's photos in it ({count}) leave it"),
            };
            format!("{owner}'s collection {collection} is not shared with the user in {}{photos}", target.name)
        }
    }
}

/// Takes the user out of the source's sharing: their members' pointers to their collections
/// (and contributors' photos in them), and other owners' member items naming them (all stale
/// once the user is gone).
pub async fn unshare_in_source(source: &TenantStack, user: &UserName) -> Result<()> {
    let adapted = source.images.export(user).await?.adapt(source.tier.features, source.tier.features)?;
    for sharing in &adapted.sharing {
        match sharing {
            Sharing::Member { collection, member, role, .. } => {
                source.images.remove_shared(member, *collection).await?;
                if *role == Role::Contributor {
                    source.images.clear_part(member, *collection).await?;
                }
            }
            Sharing::SharedWithUser { collection, owner, .. } => {
                source.images.remove_member(owner, *collection, user).await?;
            }
        }
    }
    Ok(())
}

async fn remove_source(clients: &Clients, source: &TenantStack, record: &UserRecord, target: &TenantStack, user: &UserName) -> Result<()> {
    unshare_in_source(source, user).await?;
    let removed = source.account_data().remove(record).await?;
    eprintln!("Removed {user} from {}: {} photos, {} objects, {} items.", source.name, removed.photos, removed.objects, removed.items);
    finished(clients, target, user).await
}

async fn finished(clients: &Clients, target: &TenantStack, user: &UserName) -> Result<()> {
    let url = apply::outputs(clients, &target.name)
        .await?
        .into_iter()
        .find_map(|(name, value)| (name == "ApiUrl").then_some(value))
        .unwrap_or_else(|| "(see `deployer status`)".into());
    println!(
        "{user} is in {} now. The password is unchanged; tokens are per stack, so the user signs in \
         again at {url}",
        target.name
    );
    Ok(())
}
