//! The deployer against the local emulator, through the real AWS SDK: up, idempotence, diff,
//! down with and without purge, status, and refusal of a bad tier file.

mod common;

use aws_sdk_sqs::types::QueueAttributeName;
use common::{Aws, TierFiles, aws, bucket_exists, printed_outputs, repo_root, stack_status, table_exists};

async fn queue_attribute(aws: &Aws, url: &str, name: QueueAttributeName) -> String {
    let attributes = aws.sqs.get_queue_attributes().queue_url(url).attribute_names(name.clone()).send().await.unwrap().attributes.unwrap();
    attributes[&name].clone()
}

async fn stack_event_count(aws: &Aws, stack: &str) -> usize {
    aws.cloudformation.describe_stack_events().stack_name(stack).send().await.unwrap().stack_events.unwrap_or_default().len()
}

/// Whether the stack's analyzer function consumes its queue.
async fn mapping_enabled(stack: &str) -> bool {
    let config = aws_config::defaults(aws_config::BehaviorVersion::latest()).endpoint_url(common::endpoint()).load().await;
    let mappings = aws_sdk_lambda::Client::new(&config)
        .list_event_source_mappings()
        .function_name(format!("{stack}-analyzer"))
        .send()
        .await
        .unwrap()
        .event_source_mappings
        .unwrap_or_default();
    assert_eq!(mappings.len(), 1);
    mappings[0].state.as_deref() == Some("Enabled")
}

fn is_gone(status: Option<String>) -> bool {
    status.is_none() || status.as_deref() == Some("DELETE_COMPLETE")
}

#[tokio::test]
async fn core_user_stack_goes_up_stays_put_and_comes_down_keeping_or_purging_data() {
    let aws = aws().await;
    let artifact = common::artifacts();
    let artifact = artifact.to_str().unwrap();
    let stacks = repo_root().join("stacks");
    let stack = "smart-album-core-user";
    let run = |args: &[&str]| common::deployer(&stacks, args);

    let first = run(&["up", "--tier", "CORE_USER", "--artifacts", artifact]).expect_success("first up");
    assert!(first.stdout.contains("+ add"), "{}", first.stdout);
    assert_eq!(stack_status(&aws, stack).await.as_deref(), Some("CREATE_COMPLETE"));
    // The account stack (the role API Gateway writes the stage's access logs with) came first.
    let account = deployer::template::account::ACCOUNT_STACK;
    assert!(
        matches!(stack_status(&aws, account).await.as_deref(), Some("CREATE_COMPLETE" | "UPDATE_COMPLETE")),
        "{account}: {:?}",
        stack_status(&aws, account).await
    );
    let outputs = printed_outputs(&first.stdout);
    for name in [
        "ApiUrl",
        "PhotoBucket",
        "UsersTable",
        "ImagesTable",
        "NewUserTopic",
        "NewImageTopic",
        "AnalysisQueueUrl",
        "DeadLetterQueueUrl",
        "KeyId",
    ] {
        assert!(outputs.contains_key(name), "output {name} missing from:\n{}", first.stdout);
    }

    // Each resource exists, checked with its own service's API.
    let bucket = &outputs["PhotoBucket"];
    let encryption = aws.s3.get_bucket_encryption().bucket(bucket).send().await.unwrap();
    let rule = &encryption.server_side_encryption_configuration.unwrap().rules[0];
    let default = rule.apply_server_side_encryption_by_default.as_ref().unwrap();
    assert_eq!(default.sse_algorithm.as_str(), "aws:kms");
    for table in [&outputs["UsersTable"], &outputs["ImagesTable"]] {
        let described = aws.dynamodb.describe_table().table_name(table).send().await.unwrap().table.unwrap();
        assert_eq!(described.global_secondary_indexes.unwrap().len(), 1, "{table}");
        let billing = described.billing_mode_summary.and_then(|b| b.billing_mode).map(|m| m.as_str().to_owned());
        assert_eq!(billing.as_deref(), Some("PAY_PER_REQUEST"), "{table}");
    }
    let key = aws.kms.describe_key().key_id(&outputs["KeyId"]).send().await.unwrap().key_metadata.unwrap();
    assert_eq!(key.key_state.unwrap().as_str(), "Enabled");
    let aliases = aws.kms.list_aliases().send().await.unwrap().aliases.unwrap();
    assert!(aliases.iter().any(|a| a.alias_name.as_deref() == Some("alias/smart-album-core-user")));
    for topic in [&outputs["NewUserTopic"], &outputs["NewImageTopic"]] {
        aws.sns.get_topic_attributes().topic_arn(topic).send().await.unwrap();
    }
    let queue = &outputs["AnalysisQueueUrl"];
    let queue_arn = queue_attribute(&aws, queue, QueueAttributeName::QueueArn).await;
    let subscriptions =
        aws.sns.list_subscriptions_by_topic().topic_arn(&outputs["NewImageTopic"]).send().await.unwrap().subscriptions.unwrap();
    assert!(
        subscriptions.iter().any(|s| s.protocol.as_deref() == Some("sqs") && s.endpoint.as_deref() == Some(queue_arn.as_str())),
        "NewImage does not deliver to QueueAnalysis: {subscriptions:?}"
    );
    assert_eq!(queue_attribute(&aws, queue, QueueAttributeName::VisibilityTimeout).await, "360");
    let redrive: serde_json::Value = serde_json::from_str(&queue_attribute(&aws, queue, QueueAttributeName::RedrivePolicy).await).unwrap();
    assert_eq!(redrive["maxReceiveCount"].to_string().trim_matches('"'), "3");
    let dead_letter_arn = queue_attribute(&aws, &outputs["DeadLetterQueueUrl"], QueueAttributeName::QueueArn).await;
    assert_eq!(redrive["deadLetterTargetArn"], dead_letter_arn.as_str());

    // A second up with the same template and artifact changes nothing.
    let events_before = stack_event_count(&aws, stack).await;
    let second = run(&["up", "--tier", "CORE_USER", "--artifacts", artifact]).expect_success("second up");
    assert!(second.stdout.contains(&format!("{stack}: no changes")), "{}", second.stdout);
    assert!(second.stderr.contains("already uploaded"), "{}", second.stderr);
    assert_eq!(stack_event_count(&aws, stack).await, events_before, "the second up touched the stack");
    assert_eq!(stack_status(&aws, stack).await.as_deref(), Some("CREATE_COMPLETE"));
    let change_sets = aws.cloudformation.list_change_sets().stack_name(stack).send().await.unwrap();
    let pending: Vec<_> = change_sets
        .summaries
        .unwrap_or_default()
        .into_iter()
        // The emulator lists every stack's change sets whatever the filter.
        .filter(|c| c.stack_name.as_deref() == Some(stack))
        .filter(|c| c.execution_status.as_ref().is_some_and(|s| s.as_str() == "AVAILABLE"))
        .collect();
    assert!(pending.is_empty(), "a change set was left behind: {pending:?}");

    // A photo, so that purging has something to empty.
    aws.s3.put_object().bucket(bucket).key("alice/photo.jpg").body(b"not really a photo".to_vec().into()).send().await.unwrap();

    // down keeps the data.
    let down = run(&["down", "--tier", "CORE_USER"]).expect_success("down");
    assert!(is_gone(stack_status(&aws, stack).await));
    assert!(down.stdout.contains("Kept the data"), "{}", down.stdout);
    assert!(down.stdout.contains(bucket.as_str()), "{}", down.stdout);
    assert!(bucket_exists(&aws, bucket).await, "down deleted the bucket");
    // The photo bucket's access records are kept with it.
    let log_bucket = bucket.replace("-photos-", "-logs-");
    assert!(down.stdout.contains(&log_bucket), "{}", down.stdout);
    assert!(bucket_exists(&aws, &log_bucket).await, "down deleted the access log bucket");
    assert!(table_exists(&aws, &outputs["UsersTable"]).await, "down deleted the users table");
    assert!(table_exists(&aws, &outputs["ImagesTable"]).await, "down deleted the images table");

    // --purge without --yes and without a terminal to ask: refused, nothing deleted.
    let refused = run(&["down", "--tier", "CORE_USER", "--purge"]);
    assert!(!refused.success);
    assert!(refused.stderr.contains("pass --yes"), "{}", refused.stderr);
    assert!(bucket_exists(&aws, bucket).await);

    // --purge --yes deletes the photos, tables and key (after the stack is gone, too).
    let purge = run(&["down", "--tier", "CORE_USER", "--purge", "--yes"]).expect_success("down --purge");
    assert!(purge.stdout.contains("Purged"), "{}", purge.stdout);
    assert!(!bucket_exists(&aws, bucket).await, "purge left the bucket");
    assert!(!bucket_exists(&aws, &log_bucket).await, "purge left the access log bucket");
    assert!(!table_exists(&aws, &outputs["UsersTable"]).await, "purge left the users table");
    assert!(!table_exists(&aws, &outputs["ImagesTable"]).await, "purge left the images table");
    let key = aws.kms.describe_key().key_id(&outputs["KeyId"]).send().await.unwrap().key_metadata.unwrap();
    assert_eq!(key.key_state.unwrap().as_str(), "PendingDeletion");
    // Other tier stacks of the region still log through the account stack's role.
    assert!(stack_status(&aws, account).await.is_some_and(|status| status.ends_with("_COMPLETE")), "down took the account stack");
}

#[tokio::test]
async fn diff_shows_a_changed_tier_value_and_up_applies_it() {
    let aws = aws().await;
    let artifact = common::artifacts();
    let artifact = artifact.to_str().unwrap();
    let files = TierFiles::copy_of("BASIC_USER", "DIFF_TEST");
    let stack = files.stack_name();

    // Before the first up: every resource would be added, and diff leaves no stack behind.
    let new = files.deployer(&["diff", "--tier", "DIFF_TEST"]).expect_success("diff of a new stack");
    assert!(new.stdout.contains("+ add     QueueAnalysis"), "{}", new.stdout);
    assert!(is_gone(stack_status(&aws, &stack).await), "diff left a stack");

    let up = files.deployer(&["up", "--tier", "DIFF_TEST", "--artifacts", artifact]).expect_success("up");
    let queue = printed_outputs(&up.stdout)["AnalysisQueueUrl"].clone();
    let unchanged = files.deployer(&["diff", "--tier", "DIFF_TEST"]).expect_success("diff");
    assert!(unchanged.stdout.contains("no changes"), "{}", unchanged.stdout);

    files.edit("visibility_timeout_seconds: 180", "visibility_timeout_seconds: 240");
    let changed = files.deployer(&["diff", "--tier", "DIFF_TEST"]).expect_success("diff after an edit");
    assert!(changed.stdout.contains("~ modify  QueueAnalysis"), "{}", changed.stdout);
    assert!(!changed.stdout.contains("+ add"), "{}", changed.stdout);
    assert_eq!(queue_attribute(&aws, &queue, QueueAttributeName::VisibilityTimeout).await, "180", "diff changed the queue");

    let applied = files.deployer(&["up", "--tier", "DIFF_TEST", "--artifacts", artifact]).expect_success("up after an edit");
    assert!(applied.stdout.contains("~ modify  QueueAnalysis"), "{}", applied.stdout);
    assert_eq!(stack_status(&aws, &stack).await.as_deref(), Some("UPDATE_COMPLETE"));
    assert_eq!(queue_attribute(&aws, &queue, QueueAttributeName::VisibilityTimeout).await, "240");

    // Handing the queue to a local `smart-album serve` disables the analyzer function's mapping.
    let local = files.deployer(&["diff", "--tier", "DIFF_TEST", "--analyzer", "local"]).expect_success("diff --analyzer local");
    assert!(local.stdout.contains("~ parameter AnalyzerQueueMapping: Enabled -> Disabled"), "{}", local.stdout);
    assert!(mapping_enabled(&stack).await, "diff changed the mapping");

    // status lists this tier with its status and outputs.
    let status = files.deployer(&["status"]).expect_success("status");
    assert!(status.stdout.contains(&format!("DIFF_TEST            {stack}: UPDATE_COMPLETE")), "{}", status.stdout);
    assert!(status.stdout.contains(&queue), "{}", status.stdout);

    files.deployer(&["down", "--tier", "DIFF_TEST", "--purge", "--yes"]).expect_success("cleanup");
    // (The emulator applies a parameter-only update to no resource, so the choice is checked
    // on a new stack.)
    files.deployer(&["up", "--tier", "DIFF_TEST", "--artifacts", artifact, "--analyzer", "local"]).expect_success("up --analyzer local");
    assert!(!mapping_enabled(&stack).await, "the mapping is enabled although smart-album serve consumes the queue");
    files.deployer(&["down", "--tier", "DIFF_TEST", "--purge", "--yes"]).expect_success("cleanup");
    let status = files.deployer(&["status"]).expect_success("status");
    assert!(status.stdout.contains("not deployed") || status.stdout.contains("DELETE_COMPLETE"), "{}", status.stdout);
}

#[tokio::test]
async fn a_bad_tier_file_gets_a_clear_error_and_touches_nothing() {
    let aws = aws().await;
    let artifact = common::artifacts();
    let artifact = artifact.to_str().unwrap();
    let files = TierFiles::copy_of("BASIC_USER", "BAD_FILE");
    let stack = files.stack_name();
    let path = files.path();
    let cases = [
        ("log_retention_days: 30", "log_retention_days: 30\ncolour: blue", "unknown field `colour`"),
        ("memory_mb: 1024", "memory_mb: lots", "invalid type"),
        ("max_receive_count: 3", "max_receive_count: 0", "analysis.max_receive_count: must be between 1 and 1000"),
    ];
    for (from, to, expected) in cases {
        let original = std::fs::read_to_string(&path).unwrap();
        files.edit(from, to);
        let line = std::fs::read_to_string(&path).unwrap().lines().position(|l| l.contains(to.lines().last().unwrap())).unwrap() + 1;
        for args in [
            vec!["up", "--tier", "BAD_FILE", "--artifacts", artifact],
            vec!["diff", "--tier", "BAD_FILE"],
            vec!["render", "--tier", "BAD_FILE"],
            vec!["down", "--tier", "BAD_FILE", "--purge", "--yes"],
        ] {
            let run = files.deployer(&args);
            assert!(!run.success, "{args:?} accepted {to:?}");
            let location = format!("{}:{line}:", path.display());
            assert!(run.stderr.contains(&location), "{args:?}: no {location} in {}", run.stderr);
            assert!(run.stderr.contains(expected), "{args:?}: no {expected:?} in {}", run.stderr);
            assert!(run.stdout.is_empty(), "{args:?} printed {}", run.stdout);
        }
        files.write(&original);
    }
    let stacks = aws.cloudformation.list_stacks().send().await.unwrap().stack_summaries.unwrap_or_default();
    assert!(stacks.iter().all(|s| s.stack_name.as_deref() != Some(stack.as_str())), "a stack was created");

    let unknown = files.deployer(&["up", "--tier", "NO_SUCH_TIER"]);
    assert!(!unknown.success);
    assert!(unknown.stderr.contains("no tier NO_SUCH_TIER") && unknown.stderr.contains("known tiers: BAD_FILE"), "{}", unknown.stderr);
}

/// Someone in another account creates the asset bucket's predictable name first: the deployer
/// never puts a Lambda zip into it. Its bucket has a random suffix and is found among the
/// account's own buckets, the same one every time. (`ExpectedBucketOwner` goes on every call to
/// it as well; the emulator ignores that header: only AWS refuses a call to a bucket another
/// account owns.)
#[tokio::test]
async fn the_asset_bucket_is_never_one_someone_else_created_first() {
    use deployer::aws::{Clients, Target};
    use deployer::package;

    let clients = Clients::load(&Target { endpoint_url: Some(common::endpoint()), ..Target::default() }).await.unwrap();
    let account = clients.account_id().await.unwrap();
    let squatted = package::asset_bucket_prefix(&account, &clients.region);
    // The emulator switches accounts through AssumeRole into a role of the other account.
    let other = clients
        .sts
        .assume_role()
        .role_arn("arn:aws:iam::111122223333:role/squatter")
        .role_session_name("squatter")
        .send()
        .await
        .unwrap()
        .credentials
        .unwrap();
    let credentials =
        aws_sdk_s3::config::Credentials::new(other.access_key_id, other.secret_access_key, Some(other.session_token), None, "squatter");
    let squatter = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&aws_config::defaults(aws_config::BehaviorVersion::latest()).load().await)
            .endpoint_url(common::endpoint())
            .force_path_style(true)
            .credentials_provider(credentials)
            .build(),
    );
    squatter.create_bucket().bucket(&squatted).send().await.expect("the predictable name is free to take");

    let dir = tempfile::tempdir().unwrap();
    let placeholder = package::placeholder(dir.path()).unwrap();
    let artifacts = package::Artifacts { api: placeholder.clone(), analyzer: placeholder.clone() };
    let bucket = package::upload(&clients, &artifacts).await.unwrap();
    assert_eq!(bucket.owner, account);
    assert!(bucket.name.starts_with(&format!("{squatted}-")), "{bucket:?}");
    let theirs = squatter.list_objects_v2().bucket(&squatted).send().await.unwrap();
    assert_eq!(theirs.key_count(), Some(0), "a zip went into the bucket another account created");
    let ours = clients.s3.head_object().bucket(&bucket.name).key(placeholder.key()).send().await;
    assert!(ours.is_ok(), "the artifact is not in {}", bucket.name);
    assert_eq!(package::upload(&clients, &artifacts).await.unwrap(), bucket, "a second upload chose another bucket");
}
