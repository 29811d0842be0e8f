//! Taking kept data back into a new stack: the IMPORT change set's request as CloudFormation
//! needs it, with the SDK's mock client. (The emulator executes an IMPORT change set as a plain
//! create, which fails on the bucket that already exists; only AWS shows the import itself.)

use std::sync::{Arc, Mutex};

use aws_config::{BehaviorVersion, Region};
use aws_sdk_cloudformation::Client;
use aws_sdk_cloudformation::operation::create_change_set::CreateChangeSetOutput;
use aws_sdk_cloudformation::operation::describe_change_set::DescribeChangeSetOutput;
use aws_sdk_cloudformation::operation::describe_stack_events::DescribeStackEventsOutput;
use aws_sdk_cloudformation::operation::describe_stacks::DescribeStacksOutput;
use aws_sdk_cloudformation::operation::execute_change_set::ExecuteChangeSetOutput;
use aws_sdk_cloudformation::types::{Change, ChangeSetStatus, ChangeSetType, ResourceChange, Stack, StackStatus};
use aws_smithy_mocks::{RuleMode, mock, mock_client};

/// A resource a change set imports, as sent: type, logical id, sorted identifier.
type Import = (String, String, Vec<(String, String)>);
use deployer::apply;
use deployer::aws::Clients;
use deployer::config::{StacksDir, TierName};
use deployer::data::{Kept, KeptKind};
use deployer::template::{ids, render};

fn clients(cloudformation: Client) -> Clients {
    let region = Region::new("eu-west-1");
    let behavior = BehaviorVersion::latest();
    Clients {
        region: "eu-west-1".into(),
        cloudformation,
        s3: aws_sdk_s3::Client::from_conf(aws_sdk_s3::Config::builder().behavior_version(behavior).region(region.clone()).build()),
        dynamodb: aws_sdk_dynamodb::Client::from_conf(
            aws_sdk_dynamodb::Config::builder().behavior_version(behavior).region(region.clone()).build(),
        ),
        kms: aws_sdk_kms::Client::from_conf(aws_sdk_kms::Config::builder().behavior_version(behavior).region(region.clone()).build()),
        sts: aws_sdk_sts::Client::from_conf(aws_sdk_sts::Config::builder().behavior_version(behavior).region(region.clone()).build()),
        sns: aws_sdk_sns::Client::from_conf(aws_sdk_sns::Config::builder().behavior_version(behavior).region(region.clone()).build()),
        rekognition: aws_sdk_rekognition::Client::from_conf(
            aws_sdk_rekognition::Config::builder().behavior_version(behavior).region(region).build(),
        ),
    }
}

#[tokio::test]
async fn kept_data_is_imported_with_an_import_change_set_naming_each_resource() {
    let stacks = StacksDir::new(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../stacks"));
    let config = stacks.load(&"CORE_USER".parse::<TierName>().unwrap()).unwrap();
    let template = render(&config, None);
    let stack = "smart-album-core-user";
    let kept = vec![
        Kept { logical_id: ids::KEY.into(), kind: KeptKind::Key, physical_id: "1234abcd-12ab-34cd-56ef-1234567890ab".into() },
        Kept { logical_id: ids::BUCKET.into(), kind: KeptKind::Bucket, physical_id: format!("{stack}-photos-123456789012-eu-west-1") },
        Kept { logical_id: ids::USERS_TABLE.into(), kind: KeptKind::Table, physical_id: format!("{stack}-users") },
        Kept { logical_id: ids::IMAGES_TABLE.into(), kind: KeptKind::Table, physical_id: format!("{stack}-images") },
    ];
    let logical_ids: Vec<&str> = kept.iter().map(|kept| kept.logical_id.as_str()).collect();
    let body = template.for_import(&logical_ids).to_yaml().unwrap();

    let sent = Arc::new(Mutex::new(Vec::new()));
    let seen = sent.clone();
    let create = mock!(Client::create_change_set)
        .match_requests(move |request| {
            let imports: Vec<Import> = request
                .resources_to_import()
                .iter()
                .map(|import| {
                    let mut identifier: Vec<(String, String)> =
                        import.resource_identifier().into_iter().flatten().map(|(k, v)| (k.clone(), v.clone())).collect();
                    identifier.sort();
                    (import.resource_type().unwrap_or("").to_owned(), import.logical_resource_id().unwrap_or("").to_owned(), identifier)
                })
                .collect();
            seen.lock().unwrap().push((
                request.change_set_type().cloned(),
                request.stack_name().map(str::to_owned),
                request.template_body().map(str::to_owned),
                imports,
            ));
            true
        })
        .then_output(|| CreateChangeSetOutput::builder().id("arn:cs/import").stack_id("arn:stack/new").build());
    let described = mock!(Client::describe_change_set).then_output(|| {
        DescribeChangeSetOutput::builder()
            .status(ChangeSetStatus::CreateComplete)
            .changes(
                Change::builder()
                    .resource_change(
                        ResourceChange::builder()
                            .action("Import".into())
                            .logical_resource_id("PhotoBucket")
                            .resource_type("AWS::S3::Bucket")
                            .build(),
                    )
                    .build(),
            )
            .build()
    });
    let executed = mock!(Client::execute_change_set)
        .match_requests(|request| request.change_set_name() == Some("arn:cs/import"))
        .then_output(|| ExecuteChangeSetOutput::builder().build());
    let events = mock!(Client::describe_stack_events).then_output(|| DescribeStackEventsOutput::builder().build());
    let status = mock!(Client::describe_stacks).then_output(move || {
        DescribeStacksOutput::builder()
            .stacks(Stack::builder().stack_name(stack).stack_id("arn:stack/new").stack_status(StackStatus::ImportComplete).build())
            .build()
    });
    let client = mock_client!(aws_sdk_cloudformation, RuleMode::MatchAny, [&create, &described, &executed, &events, &status]);
    let clients = clients(client);

    let plan = apply::plan_import(&clients, stack, &body, &kept, &[("smart-album:tier", "CORE_USER".to_owned())]).await.unwrap();
    assert!(plan.describe().contains("< import  PhotoBucket"), "{}", plan.describe());
    apply::execute(&clients, &plan, std::time::Duration::from_secs(30)).await.unwrap();
    assert_eq!(executed.num_calls(), 1);

    let sent = sent.lock().unwrap();
    let (kind, name, template_body, imports) = &sent[0];
    assert_eq!((kind.as_ref(), name.as_deref()), (Some(&ChangeSetType::Import), Some(stack)));
    assert_eq!(template_body.as_deref(), Some(body.as_str()));
    let expected = [
        ("AWS::KMS::Key", ids::KEY, "KeyId", "1234abcd-12ab-34cd-56ef-1234567890ab".to_owned()),
        ("AWS::S3::Bucket", ids::BUCKET, "BucketName", format!("{stack}-photos-123456789012-eu-west-1")),
        ("AWS::DynamoDB::Table", ids::USERS_TABLE, "TableName", format!("{stack}-users")),
        ("AWS::DynamoDB::Table", ids::IMAGES_TABLE, "TableName", format!("{stack}-images")),
    ];
    assert_eq!(imports.len(), expected.len());
    for (resource_type, logical_id, identifier, value) in expected {
        assert!(
            imports.contains(&(resource_type.to_owned(), logical_id.to_owned(), vec![(identifier.to_owned(), value.clone())])),
            "{logical_id} not imported by {identifier}={value}: {imports:?}"
        );
    }
}
