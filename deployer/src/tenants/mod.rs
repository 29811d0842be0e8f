//! `deployer tenant ...`: ops' commands for the accounts of every deployed stack, on the same
//! store code the API uses (an account is created, counted and removed exactly as the API does).

mod moving;
mod report;
pub mod stacks;

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;

use clap::{Args, Subcommand};
use domain::accounts::{self, NewAccount};
use domain::{AccountChange, AccountStatus, Precondition, UserName, UserRecord, UserStore};
use serde_json::json;
use time::OffsetDateTime;

use self::report::TenantView;
use self::stacks::{TenantStack, deployed, holding};
use crate::aws::Clients;
use crate::config::{StackId, StacksDir, TenantName, TierName};
use crate::error::{Error, Result};

#[derive(Debug, Subcommand)]
pub enum TenantCommand {
    /// Create an account as sign-up does, with a one-time password printed once on stdout;
    /// the first sign-in must choose a new password.
    Create {
        /// The user name (3-32 lower-case letters, digits, '-', '_', starting with a letter).
        user: String,
        #[command(flatten)]
        stack: StackChoice,
        #[arg(long)]
        email: String,
        /// As sign-up asks; ops may not know it.
        #[arg(long, default_value = "-")]
        first_name: String,
        #[arg(long, default_value = "-")]
        last_name: String,
        #[command(flatten)]
        valid: OneTimeValidity,
    },
    /// Give a tenant a new one-time password, printed once on stdout (the first one expired, or
    /// the user lost theirs): every session of the account ends, and the next sign-in must
    /// choose a new password.
    ResetPassword {
        /// The user name.
        user: String,
        #[command(flatten)]
        valid: OneTimeValidity,
    },
    /// Every tenant of every deployed stack (or one tier's), with status and usage.
    List {
        /// Only this tier's stacks (pooled and dedicated).
        #[arg(long)]
        tier: Option<TierName>,
        /// Only users whose name starts with this.
        #[arg(long, default_value = "")]
        prefix: String,
        /// One JSON array instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// One tenant, with albums and persons counts; found in whichever stack holds it.
    Show {
        /// The user name.
        user: String,
        /// Look only in this tier's stacks.
        #[arg(long)]
        tier: Option<TierName>,
        /// JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Stop every token and call of a tenant at once (nothing is deleted).
    Suspend {
        /// The user name.
        user: String,
    },
    /// Let a suspended tenant in again.
    Resume {
        /// The user name.
        user: String,
    },
    /// Move a tenant with everything to another tier's stack (resumable: run it again after an
    /// interruption).
    Move {
        /// The user name.
        user: String,
        /// The tier to move to.
        #[arg(long)]
        to: TierName,
        /// Move into the target tier's dedicated stack of this tenant instead of its pooled one.
        #[arg(long)]
        stack: Option<TenantName>,
        /// Do not ask for confirmation.
        #[arg(long)]
        yes: bool,
    },
    /// Recount a tenant from the bucket and the tables and report every drift: orphan objects,
    /// records whose photo is gone, missing or extra index entries, wrong usage, album and
    /// person counts. Exits 1 when there is any (after --repair: any left).
    Check {
        /// The user name.
        user: String,
        /// Repair what was found: delete orphans and lost photos' records, write derived items
        /// and counters again from the records.
        #[arg(long)]
        repair: bool,
        /// JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Remove a tenant with everything, as DELETE /users/me does.
    Remove {
        /// The user name.
        user: String,
        /// Do not ask for confirmation.
        #[arg(long)]
        yes: bool,
    },
}

/// How long a one-time password works.
#[derive(Debug, Args)]
pub struct OneTimeValidity {
    /// Hours the one-time password works (1-720): long enough to hand it over, short enough
    /// that one found later in a message is spent.
    #[arg(long, default_value_t = 24, value_parser = clap::value_parser!(u16).range(1..=720))]
    pub valid_hours: u16,
}

impl OneTimeValidity {
    fn lifetime(&self) -> time::Duration {
        time::Duration::hours(i64::from(self.valid_hours))
    }
}

/// Where a new tenant goes: a tier's pooled stack, or a dedicated one.
#[derive(Debug, Args)]
pub struct StackChoice {
    /// The tier whose stack gets the account.
    #[arg(long)]
    pub tier: TierName,
    /// The tier's dedicated stack of this tenant (`deployer up --tier T --tenant NAME`).
    #[arg(long)]
    pub stack: Option<TenantName>,
}

pub async fn run(clients: &Clients, stacks: &StacksDir, command: TenantCommand) -> Result<()> {
    match command {
        TenantCommand::Create { user, stack, email, first_name, last_name, valid } => {
            let target = connect(clients, stacks, StackId { tier: stack.tier, tenant: stack.stack }).await?;
            let account = NewAccount { user_name: &user, email: &email, first_name: &first_name, last_name: &last_name };
            create(clients, &target, account, valid.lifetime()).await
        }
        TenantCommand::ResetPassword { user, valid } => {
            let user = parse_user(&user)?;
            let stacks = deployed(clients, stacks, None).await?;
            let (stack, _) = holding(&stacks, &user).await?;
            let password = accounts::one_time_password(user.as_str())?;
            let expires_at = domain::whole_seconds(OffsetDateTime::now_utc()) + valid.lifetime();
            let change = AccountChange::OneTimePassword { hash: domain::password::hash(password.clone()).await?, expires_at };
            stack.users.change(&user, &change, Precondition::Exists).await?;
            audit(clients, "tenant reset-password", &user, &stack.name).await;
            eprintln!(
                "{user} in {} has a new one-time password until {}; every session of the account ended. It follows, \
                 shown once: the next POST /sessions with it answers 403 password_change_required, and the same call \
                 with \"new_password\" added sets the user's own.",
                stack.name,
                domain::rfc3339(expires_at)
            );
            println!("{password}");
            Ok(())
        }
        TenantCommand::List { tier, prefix, json } => {
            let stacks = deployed(clients, stacks, tier.as_ref()).await?;
            let mut views = Vec::new();
            for stack in &stacks {
                for user in accounts::users_with_prefix(&stack.users, &prefix).await? {
                    views.push(TenantView::of(stack, &user).await?);
                }
            }
            report::print_list(&views, json, stacks.is_empty())
        }
        TenantCommand::Show { user, tier, json } => {
            let user = parse_user(&user)?;
            let stacks = deployed(clients, stacks, tier.as_ref()).await?;
            let (stack, record) = holding(&stacks, &user).await?;
            let view = TenantView::of(stack, &record).await?.with_details(stack, &record).await?;
            report::print_one(&view, json)
        }
        TenantCommand::Suspend { user } => set_status(clients, stacks, &user, AccountStatus::Suspended).await,
        TenantCommand::Resume { user } => set_status(clients, stacks, &user, AccountStatus::Active).await,
        TenantCommand::Move { user, to, stack, yes } => {
            let user = parse_user(&user)?;
            let all = deployed(clients, stacks, None).await?;
            let target = StackId { tier: to, tenant: stack };
            moving::run(clients, &all, &user, &target, yes).await
        }
        TenantCommand::Check { user, repair, json } => {
            let user = parse_user(&user)?;
            let stacks = deployed(clients, stacks, None).await?;
            let (stack, _) = holding(&stacks, &user).await?;
            let (found, left) = if repair {
                audit(clients, "tenant check --repair", &user, &stack.name).await;
                let (found, left) = stack.images.repair(&user, &stack.photos).await?;
                (found, Some(left))
            } else {
                (stack.images.check(&user, &stack.photos).await?, None)
            };
            report::print_check(&stack.name, &found, left.as_ref(), json)?;
            match left.as_ref().unwrap_or(&found).drifts.len() {
                0 => Ok(()),
                drifts => Err(Error::Drift(format!("{drifts} drift(s) in {user}"))),
            }
        }
        TenantCommand::Remove { user, yes } => {
            let user = parse_user(&user)?;
            let stacks = deployed(clients, stacks, None).await?;
            let (stack, record) = holding(&stacks, &user).await?;
            if !yes {
                confirm(&format!("This removes {user} from {} with every photo, for good.", stack.name), user.as_str())?;
            }
            audit(clients, "tenant remove", &user, &stack.name).await;
            moving::unshare_in_source(stack, &user).await?;
            let removed = stack.account_data().remove(&record).await?;
            println!(
                "Removed {user} from {}: {} photos ({} bytes), {} objects, {} table items.",
                stack.name, removed.photos, removed.bytes, removed.objects, removed.items
            );
            Ok(())
        }
    }
}

fn parse_user(user: &str) -> Result<UserName> {
    Ok(UserName::parse(user.trim())?)
}

/// A deployed stack by id, or a clear error naming it.
async fn connect(clients: &Clients, stacks: &StacksDir, id: StackId) -> Result<TenantStack> {
    let config = stacks.load(&id.tier)?;
    let name = id.stack_name();
    TenantStack::connect(clients, id, config)
        .await?
        .ok_or_else(|| Error::Tenant(format!("stack {name} is not deployed (`deployer status` lists what is)")))
}

async fn create(clients: &Clients, target: &TenantStack, account: NewAccount<'_>, valid: time::Duration) -> Result<()> {
    let password = accounts::one_time_password(account.user_name.trim())?;
    let user = account.record(password.clone(), Some(valid)).await?;
    accounts::create(&target.users, &target.events, &user, target.tier_name().as_str()).await.map_err(|err| match err {
        domain::Error::Conflict { code: "user_name_taken", .. } => {
            Error::Tenant(format!("user name {} is taken in {}", user.user_name, target.name))
        }
        other => other.into(),
    })?;
    audit(clients, "tenant create", &user.user_name, &target.name).await;
    eprintln!(
        "Created {} in {} (published to its NewUser topic). The one-time password follows, shown \
         once, valid {} hours: the first POST /sessions with it answers 403 password_change_required, \
         and the same call with \"new_password\" added sets the user's own.",
        user.user_name,
        target.name,
        valid.whole_hours()
    );
    println!("{password}");
    Ok(())
}

async fn set_status(clients: &Clients, stacks: &StacksDir, user: &str, status: AccountStatus) -> Result<()> {
    let user = parse_user(user)?;
    let stacks = deployed(clients, stacks, None).await?;
    let (stack, record) = holding(&stacks, &user).await?;
    match (record.status, status) {
        (AccountStatus::Moving, _) => {
            return Err(Error::Tenant(format!("{user} is being moved; finish the move first (run the same `deployer tenant move` again)")));
        }
        (from, to) if from == to => {
            println!("{user} in {} is {to} already.", stack.name);
            return Ok(());
        }
        _ => {}
    }
    update_status(&stack.users, &record, status).await?;
    audit(clients, &format!("tenant {}", if status == AccountStatus::Active { "resume" } else { "suspend" }), &user, &stack.name).await;
    println!("{user} in {} is {status} now.", stack.name);
    Ok(())
}

/// Sets an account's status, if it still has the status it was read with; every session of the
/// account ends (a sign-in racing with it cannot undo it: sign-ins write only their own field).
/// Returns the account as it is now.
pub(crate) async fn update_status(users: &dyn UserStore, record: &UserRecord, status: AccountStatus) -> Result<UserRecord> {
    let change = AccountChange::Status { to: status };
    users.change(&record.user_name, &change, Precondition::Status(record.status)).await?;
    let mut changed = record.clone();
    change.apply(&mut changed);
    Ok(changed)
}

/// One structured line on stderr: who (the credentials' identity) did what to whom, and when.
pub(crate) async fn audit(clients: &Clients, action: &str, user: &UserName, stack: &str) {
    let by = clients.caller_arn().await.unwrap_or_else(|err| format!("(unknown: {err})"));
    let at = domain::rfc3339(OffsetDateTime::now_utc());
    eprintln!("{}", json!({"audit": action, "user": user.as_str(), "stack": stack, "by": by, "at": at}));
}

/// Asks to type `expected` on a terminal; without one, `--yes` is needed.
pub(crate) fn confirm(what: &str, expected: &str) -> Result<()> {
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        return Err(Error::NotConfirmed(format!(
            "{what} Pass --yes to confirm (standard input is not a terminal, so there is no one to ask)."
        )));
    }
    eprint!("{what} Type {expected} to confirm: ");
    std::io::stderr().flush().ok();
    let mut answer = String::new();
    stdin.lock().read_line(&mut answer).map_err(|source| Error::Read { path: PathBuf::from("<stdin>"), source })?;
    if answer.trim() == expected { Ok(()) } else { Err(Error::NotConfirmed("not confirmed; nothing was changed".into())) }
}
