//! Applying templates with CloudFormation: change sets, progress, failures and outputs.
//!
//! Everything here reads state the way it is on AWS (change set status, stack status,
//! DescribeStackResources); nothing branches on which endpoint answers.

use std::collections::{BTreeMap, HashSet};
use std::time::{Duration, Instant};

use aws_sdk_cloudformation::error::ProvideErrorMetadata;
use aws_sdk_cloudformation::types::{
    Capability, Change, ChangeSetStatus, ChangeSetType, Parameter, ResourceStatus, ResourceToImport, StackEvent, StackStatus, Tag,
};
use indicatif::{ProgressBar, ProgressStyle};

use crate::aws::Clients;
use crate::config::{StackId, TenantName, TierName};
use crate::data::Kept;
use crate::error::{Error, Result};
use crate::template::OUTPUTS;

/// How often a running operation is polled.
const POLL_INTERVAL: Duration = Duration::from_secs(2);

/// What the deployer needs to know of an existing stack.
#[derive(Debug, Clone)]
pub struct StackInfo {
    pub name: String,
    pub id: String,
    pub status: StackStatus,
    /// The last update, or the creation when there was none.
    pub last_changed: String,
    pub parameters: BTreeMap<String, String>,
}

impl StackInfo {
    /// A stack made by a change set that was never executed (for example by `diff`).
    pub fn is_review_only(&self) -> bool {
        self.status == StackStatus::ReviewInProgress
    }
}

/// The stack named `name`, or `None` when there is none (deleted stacks are not listed by name).
pub async fn describe(clients: &Clients, name: &str) -> Result<Option<StackInfo>> {
    let answer = clients.cloudformation.describe_stacks().stack_name(name).send().await;
    let stacks = match answer {
        Ok(output) => output.stacks.unwrap_or_default(),
        Err(err) if is_no_such_stack(&err) => return Ok(None),
        Err(err) => return Err(Error::aws(format!("DescribeStacks {name}"))(err)),
    };
    Ok(stacks.into_iter().next().map(|stack| {
        let changed = stack.last_updated_time.or(stack.creation_time);
        StackInfo {
            name: stack.stack_name.unwrap_or_else(|| name.to_owned()),
            id: stack.stack_id.unwrap_or_default(),
            status: stack.stack_status.unwrap_or_else(|| StackStatus::from("(no status)")),
            last_changed: changed
                .and_then(|time| time.fmt(aws_sdk_cloudformation::primitives::DateTimeFormat::DateTime).ok())
                .unwrap_or_default(),
            parameters: stack
                .parameters
                .unwrap_or_default()
                .into_iter()
                .filter_map(|p| Some((p.parameter_key?, p.parameter_value?)))
                .collect(),
        }
    }))
}

/// The tags a dedicated stack carries: its tier and its tenant (how `status` and the tenant
/// commands find it).
pub const TIER_TAG: &str = "smart-album:tier";
pub const TENANT_TAG: &str = "smart-album:tenant";

/// Every dedicated stack, of any tier, by their tags, sorted: one listing of the account's
/// stacks, however many tiers the caller looks at.
pub async fn dedicated_stacks(clients: &Clients) -> Result<Vec<StackId>> {
    let mut found = Vec::new();
    let mut pages = clients.cloudformation.describe_stacks().into_paginator().items().send();
    while let Some(stack) = pages.next().await {
        let stack = stack.map_err(Error::aws("DescribeStacks"))?;
        let tag = |key: &str| stack.tags().iter().find(|tag| tag.key() == Some(key)).and_then(|tag| tag.value().map(str::to_owned));
        let (Some(Ok(tier)), Some(Ok(tenant))) = (tag(TIER_TAG).map(TierName::try_from), tag(TENANT_TAG).map(TenantName::try_from)) else {
            continue;
        };
        let id = StackId { tier, tenant: Some(tenant) };
        if stack.stack_name() == Some(id.stack_name().as_str()) {
            found.push(id);
        }
    }
    found.sort();
    found.dedup();
    Ok(found)
}

/// One resource change of a change set, as printed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceChange {
    pub action: String,
    pub logical_id: String,
    pub resource_type: String,
    pub replacement: Option<String>,
    /// Names of the properties or attributes that change.
    pub details: Vec<String>,
}

/// A parameter whose value changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParameterChange {
    pub name: String,
    pub from: Option<String>,
    pub to: String,
}

/// A created, not yet executed, change set.
#[derive(Debug, Clone)]
pub struct Plan {
    pub stack: String,
    pub change_set_id: String,
    pub kind: ChangeSetType,
    pub resources: Vec<ResourceChange>,
    pub parameters: Vec<ParameterChange>,
}

impl Plan {
    pub fn is_empty(&self) -> bool {
        self.resources.is_empty() && self.parameters.is_empty()
    }

    /// A readable listing of the changes.
    pub fn describe(&self) -> String {
        let mut lines = vec![format!("Changes to stack {}:", self.stack)];
        for change in &self.resources {
            let (mark, verb) = match change.action.as_str() {
                "Add" => ('+', "add"),
                "Import" => ('<', "import"),
                "Remove" => ('-', "remove"),
                "Modify" => ('~', "modify"),
                other => ('?', other),
            };
            let mut line = format!("  {mark} {verb:<7} {:<32} {}", change.logical_id, change.resource_type);
            match change.replacement.as_deref() {
                Some("True") => line.push_str("  [REPLACEMENT: the resource is recreated]"),
                Some("Conditional") => line.push_str("  [replacement possible]"),
                _ => {}
            }
            if !change.details.is_empty() {
                line.push_str(&format!("  ({})", change.details.join(", ")));
            }
            lines.push(line);
        }
        for change in &self.parameters {
            lines.push(format!("  ~ parameter {}: {} -> {}", change.name, change.from.as_deref().unwrap_or("(none)"), change.to));
        }
        lines.join("\n")
    }
}

/// The answer CloudFormation gives a change set that would change nothing.
fn means_no_changes(reason: &str) -> bool {
    reason.contains("didn't contain changes") || reason.contains("No updates are to be performed")
}

/// Creates a change set of `template` for `stack` and waits until it is ready.
/// Returns `None` (and deletes the change set) when it would change nothing.
pub async fn plan(
    clients: &Clients,
    stack: &str,
    existing: Option<&StackInfo>,
    template: &str,
    parameters: &BTreeMap<String, ParameterValue>,
    tags: &[(&str, String)],
) -> Result<Option<Plan>> {
    let kind = match existing {
        Some(info) if !info.is_review_only() => ChangeSetType::Update,
        _ => ChangeSetType::Create,
    };
    let name = change_set_name();
    let cfn_parameters = parameters
        .iter()
        .map(|(key, value)| match value {
            ParameterValue::Set(v) => Parameter::builder().parameter_key(key).parameter_value(v).build(),
            ParameterValue::Previous => Parameter::builder().parameter_key(key).use_previous_value(true).build(),
        })
        .collect::<Vec<_>>();
    let created = match clients
        .cloudformation
        .create_change_set()
        .stack_name(stack)
        .change_set_name(&name)
        .change_set_type(kind.clone())
        .template_body(template)
        .set_parameters(Some(cfn_parameters))
        .set_tags((!tags.is_empty()).then(|| tags.iter().map(|(key, value)| Tag::builder().key(*key).value(value).build()).collect()))
        .capabilities(Capability::CapabilityIam)
        .send()
        .await
    {
        Ok(created) => created,
        // Some endpoints refuse an empty change set at once instead of failing it later.
        Err(err) if err.message().is_some_and(means_no_changes) => return Ok(None),
        Err(err) => return Err(Error::aws(format!("CreateChangeSet for {stack}"))(err)),
    };
    let id = created.id.unwrap_or(name);

    let (status, reason, changes) = wait_for_change_set(clients, &id).await?;
    if status == ChangeSetStatus::Failed {
        delete_change_set(clients, &id).await?;
        if means_no_changes(&reason) {
            return Ok(None);
        }
        return Err(Error::Aws { action: format!("change set for {stack}"), message: reason });
    }

    let parameter_changes = parameters
        .iter()
        .filter_map(|(key, value)| {
            let ParameterValue::Set(to) = value else { return None };
            let from = existing.and_then(|info| info.parameters.get(key)).cloned();
            (from.as_ref() != Some(to)).then(|| ParameterChange { name: key.clone(), from, to: to.clone() })
        })
        .collect();
    let plan = Plan {
        stack: stack.to_owned(),
        change_set_id: id,
        kind,
        resources: changes.iter().filter_map(resource_change).collect(),
        parameters: parameter_changes,
    };
    if plan.is_empty() {
        delete_change_set(clients, &plan.change_set_id).await?;
        return Ok(None);
    }
    Ok(Some(plan))
}

fn change_set_name() -> String {
    format!("deployer-{}", std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |elapsed| elapsed.as_millis()))
}

/// The change set that takes `kept` resources back into the new stack `stack` (CloudFormation
/// resource import): `template` declares exactly them ([`crate::template::Template::for_import`]).
pub async fn plan_import(clients: &Clients, stack: &str, template: &str, kept: &[Kept], tags: &[(&str, String)]) -> Result<Plan> {
    let imports = kept
        .iter()
        .map(|kept| {
            ResourceToImport::builder()
                .resource_type(kept.kind.resource_type())
                .logical_resource_id(&kept.logical_id)
                .resource_identifier(kept.kind.identifier(), &kept.physical_id)
                .build()
        })
        .collect();
    let created = clients
        .cloudformation
        .create_change_set()
        .stack_name(stack)
        .change_set_name(change_set_name())
        .change_set_type(ChangeSetType::Import)
        .template_body(template)
        .set_resources_to_import(Some(imports))
        .set_tags((!tags.is_empty()).then(|| tags.iter().map(|(key, value)| Tag::builder().key(*key).value(value).build()).collect()))
        .send()
        .await
        .map_err(Error::aws(format!("CreateChangeSet (IMPORT) for {stack}")))?;
    let id = created
        .id
        .ok_or_else(|| Error::Aws { action: format!("CreateChangeSet (IMPORT) for {stack}"), message: "no change set id".into() })?;
    let (status, reason, changes) = wait_for_change_set(clients, &id).await?;
    if status == ChangeSetStatus::Failed {
        delete_change_set(clients, &id).await?;
        return Err(Error::Aws { action: format!("import into {stack}"), message: reason });
    }
    Ok(Plan {
        stack: stack.to_owned(),
        change_set_id: id,
        kind: ChangeSetType::Import,
        resources: changes.iter().filter_map(resource_change).collect(),
        parameters: Vec::new(),
    })
}

/// A template parameter's value in a change set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParameterValue {
    Set(String),
    /// Keep what the stack has (only for stacks that exist).
    Previous,
}

fn resource_change(change: &Change) -> Option<ResourceChange> {
    let rc = change.resource_change.as_ref()?;
    let mut details: Vec<String> =
        rc.details.as_deref().unwrap_or_default().iter().filter_map(|detail| detail.target.as_ref()?.name.clone()).collect();
    details.sort();
    details.dedup();
    Some(ResourceChange {
        action: rc.action.as_ref().map(|a| a.as_str().to_owned()).unwrap_or_default(),
        logical_id: rc.logical_resource_id.clone().unwrap_or_default(),
        resource_type: rc.resource_type.clone().unwrap_or_default(),
        replacement: rc.replacement.as_ref().map(|r| r.as_str().to_owned()),
        details,
    })
}

async fn wait_for_change_set(clients: &Clients, id: &str) -> Result<(ChangeSetStatus, String, Vec<Change>)> {
    loop {
        let mut changes = Vec::new();
        let mut next_token = None;
        let (status, reason) = loop {
            let page = clients
                .cloudformation
                .describe_change_set()
                .change_set_name(id)
                .set_next_token(next_token.take())
                .send()
                .await
                .map_err(Error::aws("DescribeChangeSet"))?;
            changes.extend(page.changes.unwrap_or_default());
            next_token = page.next_token;
            if next_token.is_none() {
                break (page.status, page.status_reason.unwrap_or_default());
            }
        };
        match status {
            Some(ChangeSetStatus::CreateComplete) => {
                return Ok((ChangeSetStatus::CreateComplete, reason, changes));
            }
            Some(ChangeSetStatus::Failed) => return Ok((ChangeSetStatus::Failed, reason, changes)),
            _ => tokio::time::sleep(Duration::from_secs(1)).await,
        }
    }
}

pub async fn delete_change_set(clients: &Clients, id: &str) -> Result<()> {
    clients.cloudformation.delete_change_set().change_set_name(id).send().await.map_err(Error::aws("DeleteChangeSet"))?;
    Ok(())
}

/// Executes a plan and follows the stack until it settles; errors name the failed resources.
pub async fn execute(clients: &Clients, plan: &Plan, timeout: Duration) -> Result<()> {
    let before = seen_event_ids(clients, &plan.stack).await?;
    clients
        .cloudformation
        .execute_change_set()
        .change_set_name(&plan.change_set_id)
        .send()
        .await
        .map_err(Error::aws(format!("ExecuteChangeSet on {}", plan.stack)))?;
    let success = match plan.kind {
        ChangeSetType::Create => StackStatus::CreateComplete,
        ChangeSetType::Import => StackStatus::ImportComplete,
        _ => StackStatus::UpdateComplete,
    };
    follow(clients, &plan.stack, &plan.stack, before, success, timeout).await
}

/// Plans `template` for `stack` and, when it changes anything, prints the changes and executes
/// them. Whether there were changes.
pub async fn apply(
    clients: &Clients,
    stack: &str,
    existing: Option<&StackInfo>,
    template: &str,
    parameters: &BTreeMap<String, ParameterValue>,
    tags: &[(&str, String)],
    timeout: Duration,
) -> Result<bool> {
    let Some(plan) = plan(clients, stack, existing, template, parameters, tags).await? else { return Ok(false) };
    println!("{}", plan.describe());
    execute(clients, &plan, timeout).await?;
    Ok(true)
}

/// Deletes a stack and follows it until it is gone.
pub async fn delete_stack(clients: &Clients, stack: &StackInfo, timeout: Duration) -> Result<()> {
    let before = seen_event_ids(clients, &stack.id).await?;
    clients.cloudformation.delete_stack().stack_name(&stack.id).send().await.map_err(Error::aws(format!("DeleteStack {}", stack.name)))?;
    // Deleted stacks are found only by id.
    follow(clients, &stack.id, &stack.name, before, StackStatus::DeleteComplete, timeout).await
}

async fn seen_event_ids(clients: &Clients, stack: &str) -> Result<HashSet<String>> {
    Ok(recent_events(clients, stack).await?.into_iter().filter_map(|event| event.event_id).collect())
}

/// The newest page of a stack's events, newest first (empty when the stack does not exist).
async fn recent_events(clients: &Clients, stack: &str) -> Result<Vec<StackEvent>> {
    match clients.cloudformation.describe_stack_events().stack_name(stack).send().await {
        Ok(output) => Ok(output.stack_events.unwrap_or_default()),
        Err(err) if is_no_such_stack(&err) => Ok(Vec::new()),
        Err(err) => Err(Error::aws(format!("DescribeStackEvents {stack}"))(err)),
    }
}

/// CloudFormation says a stack does not exist with the generic `ValidationError` code (it has
/// no dedicated one for DescribeStacks and DescribeStackEvents); the code is checked first, so
/// that only a validation error that names a missing stack counts.
fn is_no_such_stack<E: ProvideErrorMetadata>(err: &E) -> bool {
    err.code() == Some("ValidationError") && err.message().is_some_and(|message| message.ends_with("does not exist"))
}

/// Whether the stack has stopped changing (anything but an `*_IN_PROGRESS` status).
pub fn is_settled(status: &StackStatus) -> bool {
    !matches!(
        status,
        StackStatus::CreateInProgress
            | StackStatus::DeleteInProgress
            | StackStatus::ImportInProgress
            | StackStatus::ImportRollbackInProgress
            | StackStatus::ReviewInProgress
            | StackStatus::RollbackInProgress
            | StackStatus::UpdateCompleteCleanupInProgress
            | StackStatus::UpdateInProgress
            | StackStatus::UpdateRollbackCompleteCleanupInProgress
            | StackStatus::UpdateRollbackInProgress
    )
}

/// Whether a resource event reports a failure.
fn is_failure(status: &ResourceStatus) -> bool {
    matches!(
        status,
        ResourceStatus::CreateFailed
            | ResourceStatus::DeleteFailed
            | ResourceStatus::ImportFailed
            | ResourceStatus::ImportRollbackFailed
            | ResourceStatus::RollbackFailed
            | ResourceStatus::UpdateFailed
            | ResourceStatus::UpdateRollbackFailed
    )
}

fn format_event(event: &StackEvent) -> String {
    let time = event.timestamp.and_then(|t| t.fmt(aws_sdk_cloudformation::primitives::DateTimeFormat::DateTime).ok()).unwrap_or_default();
    let mut line = format!(
        "{time}  {:<22} {:<32} {}",
        event.resource_status.as_ref().map(|s| s.as_str()).unwrap_or_default(),
        event.logical_resource_id.as_deref().unwrap_or_default(),
        event.resource_type.as_deref().unwrap_or_default(),
    );
    if let Some(reason) = event.resource_status_reason.as_deref().filter(|r| !r.is_empty()) {
        line.push_str(&format!("  {reason}"));
    }
    line
}

/// For an event of a failed resource: the resource, its type and CloudFormation's reason.
fn failure_of(event: &StackEvent) -> Option<String> {
    let failed = is_failure(event.resource_status.as_ref()?);
    failed.then(|| {
        format!(
            "  {} ({}): {}",
            event.logical_resource_id.as_deref().unwrap_or("?"),
            event.resource_type.as_deref().unwrap_or("?"),
            event.resource_status_reason.as_deref().unwrap_or("no reason given"),
        )
    })
}

/// Polls the stack (`stack` is its name or id; `name` is for messages), printing each new
/// event, until it settles in `success` (Ok) or in any other settled state (an error naming
/// each failed resource and its reason).
async fn follow(
    clients: &Clients,
    stack: &str,
    name: &str,
    mut seen: HashSet<String>,
    success: StackStatus,
    timeout: Duration,
) -> Result<()> {
    let spinner = ProgressBar::new_spinner();
    spinner.set_style(ProgressStyle::with_template("{spinner} {elapsed:>4} {msg}").unwrap_or_else(|_| ProgressStyle::default_spinner()));
    spinner.enable_steady_tick(Duration::from_millis(120));
    let started = Instant::now();
    let mut failures = Vec::new();
    let outcome = loop {
        let status = match describe(clients, stack).await? {
            Some(info) => info.status,
            None => StackStatus::DeleteComplete,
        };
        spinner.set_message(format!("{name}: {status}"));
        let mut new_events: Vec<StackEvent> = recent_events(clients, stack)
            .await?
            .into_iter()
            .filter(|event| event.event_id.as_ref().is_some_and(|id| seen.insert(id.clone())))
            .collect();
        new_events.reverse();
        for event in &new_events {
            // `suspend` rather than `println`: it prints also when the spinner is hidden
            // (standard error is not a terminal, as in CI).
            spinner.suspend(|| eprintln!("{}", format_event(event)));
            failures.extend(failure_of(event));
        }
        if is_settled(&status) {
            break status;
        }
        if started.elapsed() > timeout {
            spinner.finish_and_clear();
            return Err(Error::Timeout { stack: name.to_owned(), status: status.to_string(), seconds: timeout.as_secs() });
        }
        tokio::time::sleep(POLL_INTERVAL).await;
    };
    spinner.finish_and_clear();
    if outcome == success {
        eprintln!("{name}: {outcome} in {:.1} s", started.elapsed().as_secs_f64());
        Ok(())
    } else {
        if failures.is_empty() {
            failures.push("  (no resource reported a failure; see the stack's events)".into());
        }
        Err(Error::StackFailed { stack: name.to_owned(), status: outcome.to_string(), failures: failures.join("\n") })
    }
}

/// Logical id -> physical id of every resource of the stack.
pub async fn physical_ids(clients: &Clients, stack: &str) -> Result<BTreeMap<String, String>> {
    let resources = clients
        .cloudformation
        .describe_stack_resources()
        .stack_name(stack)
        .send()
        .await
        .map_err(Error::aws(format!("DescribeStackResources {stack}")))?;
    Ok(resources
        .stack_resources
        .unwrap_or_default()
        .into_iter()
        .filter_map(|r| Some((r.logical_resource_id?, r.physical_resource_id?)))
        .filter(|(logical, physical)| !logical.is_empty() && !physical.is_empty())
        .collect())
}

/// The stack's outputs (name, value), from its resources.
pub async fn outputs(clients: &Clients, stack: &str) -> Result<Vec<(&'static str, String)>> {
    let ids = physical_ids(clients, stack).await?;
    Ok(OUTPUTS
        .iter()
        .filter_map(|output| {
            let physical = ids.get(output.logical_id)?;
            Some((output.name, output.resolve(physical, &clients.region)))
        })
        .collect())
}

pub fn format_outputs(outputs: &[(&'static str, String)]) -> String {
    outputs.iter().map(|(name, value)| format!("  {name:<20} {value}")).collect::<Vec<_>>().join("\n")
}

#[cfg(test)]
mod tests {
    use aws_sdk_cloudformation::types::ResourceStatus;

    use super::*;

    #[test]
    fn a_failed_resource_is_named_with_its_reason() {
        let failed = StackEvent::builder()
            .logical_resource_id("PhotoBucket")
            .resource_type("AWS::S3::Bucket")
            .resource_status(ResourceStatus::CreateFailed)
            .resource_status_reason("smart-album-x already exists")
            .build();
        assert_eq!(failure_of(&failed).as_deref(), Some("  PhotoBucket (AWS::S3::Bucket): smart-album-x already exists"));
        let fine = StackEvent::builder().logical_resource_id("PhotoBucket").resource_status(ResourceStatus::CreateComplete).build();
        assert_eq!(failure_of(&fine), None);
    }

    #[test]
    fn a_plan_lists_additions_modifications_replacements_and_parameters() {
        let plan = Plan {
            stack: "s".into(),
            change_set_id: "id".into(),
            kind: ChangeSetType::Update,
            resources: vec![
                ResourceChange {
                    action: "Modify".into(),
                    logical_id: "QueueAnalysis".into(),
                    resource_type: "AWS::SQS::Queue".into(),
                    replacement: Some("False".into()),
                    details: vec!["VisibilityTimeout".into()],
                },
                ResourceChange {
                    action: "Modify".into(),
                    logical_id: "UsersTable".into(),
                    resource_type: "AWS::DynamoDB::Table".into(),
                    replacement: Some("True".into()),
                    details: vec![],
                },
            ],
            parameters: vec![ParameterChange { name: "ArtifactKey".into(), from: Some("a".into()), to: "b".into() }],
        };
        let text = plan.describe();
        assert!(text.contains("~ modify  QueueAnalysis"), "{text}");
        assert!(text.contains("(VisibilityTimeout)"), "{text}");
        assert!(text.contains("UsersTable") && text.contains("REPLACEMENT"), "{text}");
        assert!(text.contains("~ parameter ArtifactKey: a -> b"), "{text}");
        assert!(means_no_changes("The submitted information didn't contain changes. Submit different information to create a change set."));
        assert!(!means_no_changes("Template format error"));
    }
}
