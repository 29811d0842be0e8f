//! Unit tests on the rendered model of each tier: required resources, encryption, policy
//! scoping, tier values, retention and determinism.

use std::collections::BTreeSet;
use std::path::Path;

use contract::names::stack_name_of_tier;
use deployer::config::{Email, StackId, StacksDir, Tenancy, TenantName, TierConfig, TierName, VisionEngine};
use deployer::template::functions::env;
use deployer::template::iam::{
    ACTIONS_WITHOUT_RESOURCES, Effect, PolicyDocument, Principal, Statement, own_face_collections, tenant_access_role_arn,
};
use deployer::template::{Expr, Pseudo, ResourceKind, Template, ids, key::key_policy, render};

const TIERS: [&str; 3] = ["BASIC_USER", "CORE_USER", "FULL_PLATFORM_USER"];

fn stacks() -> StacksDir {
    StacksDir::new(Path::new(env!("CARGO_MANIFEST_DIR")).join("../stacks"))
}

fn config(tier: &str) -> TierConfig {
    stacks().load(&tier.parse::<TierName>().unwrap()).unwrap()
}

fn each_tier() -> impl Iterator<Item = (TierConfig, Template)> {
    TIERS.iter().map(|tier| {
        let config = config(tier);
        let template = render(&config, None);
        (config, template)
    })
}

fn kind<'t>(template: &'t Template, id: &str) -> &'t ResourceKind {
    &template.resources.get(id).unwrap_or_else(|| panic!("resource {id} is missing")).kind
}

#[test]
fn every_tier_has_the_required_resources() {
    let required = [
        (ids::KEY, "AWS::KMS::Key"),
        (ids::KEY_ALIAS, "AWS::KMS::Alias"),
        (ids::BUCKET, "AWS::S3::Bucket"),
        (ids::BUCKET_POLICY, "AWS::S3::BucketPolicy"),
        (ids::USERS_TABLE, "AWS::DynamoDB::Table"),
        (ids::IMAGES_TABLE, "AWS::DynamoDB::Table"),
        (ids::NEW_USER_TOPIC, "AWS::SNS::Topic"),
        (ids::NEW_IMAGE_TOPIC, "AWS::SNS::Topic"),
        (ids::ANALYSIS_QUEUE, "AWS::SQS::Queue"),
        (ids::ANALYSIS_DLQ, "AWS::SQS::Queue"),
        (ids::ANALYSIS_QUEUE_POLICY, "AWS::SQS::QueuePolicy"),
        (ids::API_ROLE, "AWS::IAM::Role"),
        (ids::ANALYZER_ROLE, "AWS::IAM::Role"),
        (ids::TENANT_ACCESS_ROLE, "AWS::IAM::Role"),
        (ids::API_FUNCTION, "AWS::Lambda::Function"),
        (ids::ANALYZER_FUNCTION, "AWS::Lambda::Function"),
        (ids::API_LOGS, "AWS::Logs::LogGroup"),
        (ids::ANALYZER_LOGS, "AWS::Logs::LogGroup"),
        (ids::ANALYSIS_EVENTS, "AWS::Lambda::EventSourceMapping"),
        (ids::API_INVOKE_PERMISSION, "AWS::Lambda::Permission"),
        (ids::REST_API, "AWS::ApiGateway::RestApi"),
        (ids::PROXY_RESOURCE, "AWS::ApiGateway::Resource"),
        (ids::ROOT_METHOD, "AWS::ApiGateway::Method"),
        (ids::PROXY_METHOD, "AWS::ApiGateway::Method"),
        (ids::DEPLOYMENT, "AWS::ApiGateway::Deployment"),
        (ids::STAGE, "AWS::ApiGateway::Stage"),
        (ids::ACCESS_LOGS, "AWS::Logs::LogGroup"),
    ];
    for (config, template) in each_tier() {
        let yaml: serde_norway::Value = serde_norway::from_str(&template.to_yaml().unwrap()).unwrap();
        for (id, expected_type) in required {
            let actual = &yaml["Resources"][id]["Type"];
            assert_eq!(actual.as_str(), Some(expected_type), "{}: {id}", config.tier);
        }
        for output in [
            "ApiUrl",
            "PhotoBucket",
            "UsersTable",
            "ImagesTable",
            "NewUserTopic",
            "NewImageTopic",
            "AnalysisQueueUrl",
            "DeadLetterQueueUrl",
        ] {
            assert!(template.outputs.contains_key(output), "{}: output {output}", config.tier);
        }
    }
}

#[test]
fn encryption_is_on_everywhere_with_the_tier_key() {
    let tier_key = Expr::arn_of(ids::KEY);
    for (config, template) in each_tier() {
        let mut checked = BTreeSet::new();
        for (id, resource) in &template.resources {
            let key = match &resource.kind {
                ResourceKind::KmsKey(key) => {
                    assert!(key.enable_key_rotation, "{id}: rotation");
                    continue;
                }
                ResourceKind::Bucket(bucket) => {
                    let rule = &bucket.bucket_encryption.server_side_encryption_configuration[0];
                    // S3 delivers access logs only to SSE-S3 buckets: the log bucket's one.
                    if id == ids::LOG_BUCKET {
                        assert_eq!(rule.server_side_encryption_by_default.sse_algorithm, "AES256");
                        continue;
                    }
                    assert_eq!(rule.server_side_encryption_by_default.sse_algorithm, "aws:kms");
                    rule.server_side_encryption_by_default.kms_master_key_id.as_ref().unwrap()
                }
                ResourceKind::Table(table) => {
                    assert!(table.sse_specification.sse_enabled);
                    assert_eq!(table.sse_specification.sse_type, "KMS");
                    &table.sse_specification.kms_master_key_id
                }
                ResourceKind::Topic(topic) => &topic.kms_master_key_id,
                ResourceKind::Queue(queue) => &queue.kms_master_key_id,
                ResourceKind::LogGroup(group) => &group.kms_key_id,
                ResourceKind::Function(function) => &function.kms_key_arn,
                _ => continue,
            };
            assert_eq!(key, &tier_key, "{}: {id} is not encrypted with the tier key", config.tier);
            checked.insert(id.as_str());
        }
        // Bucket, 2 tables, 2 topics, 2 queues, 3 log groups (2 functions', the API's access
        // log), 2 functions.
        assert_eq!(checked.len(), 12, "{}: {checked:?}", config.tier);
    }
}

/// Every statement of every policy names only this stack's resources.
#[test]
fn every_policy_statement_is_scoped_to_this_stacks_resources() {
    for (config, template) in each_tier() {
        let mut documents: Vec<(String, &PolicyDocument)> = Vec::new();
        for (id, resource) in &template.resources {
            match &resource.kind {
                ResourceKind::Role(role) => {
                    for policy in &role.policies {
                        documents.push((format!("{id}/{}", policy.policy_name), &policy.policy_document));
                    }
                    // Lambda assumes the function roles; only those two the tenant-access role.
                    let trusted = if id == ids::TENANT_ACCESS_ROLE {
                        Principal::Aws(vec![Expr::arn_of(ids::API_ROLE), Expr::arn_of(ids::ANALYZER_ROLE)])
                    } else {
                        Principal::Service("lambda.amazonaws.com".into())
                    };
                    for statement in &role.assume_role_policy_document.statement {
                        assert_eq!(statement.principal.as_ref(), Some(&trusted), "{id}");
                    }
                }
                ResourceKind::BucketPolicy(policy) => documents.push((id.clone(), &policy.policy_document)),
                ResourceKind::QueuePolicy(policy) => documents.push((id.clone(), &policy.policy_document)),
                _ => {}
            }
        }
        assert_eq!(documents.len(), 6, "{}: three roles, the two buckets' policies, the queue policy", config.tier);
        for (name, document) in documents {
            for statement in &document.statement {
                let context = format!("{} {name} {}", config.tier, statement.sid);
                assert!(!statement.resource.is_empty(), "{context}: no resource");
                for action in &statement.action {
                    assert!(!action.ends_with('*') || statement.effect == Effect::Deny, "{context}: wildcard action {action}");
                }
                for resource in &statement.resource {
                    if resource == &Expr::str("*") {
                        assert!(
                            statement.action.iter().all(|a| ACTIONS_WITHOUT_RESOURCES.contains(a)),
                            "{context}: Resource * for {:?}",
                            statement.action
                        );
                        continue;
                    }
                    // Face collections are made at run time, one per user: scoped by the stack's name.
                    if resource == &own_face_collections() {
                        continue;
                    }
                    // The tenant-access role, by the name the template gives it.
                    if resource == &tenant_access_role_arn() {
                        continue;
                    }
                    let references = resource.references();
                    assert!(!references.is_empty(), "{context}: {resource:?} names no resource of the stack");
                    for reference in references {
                        assert!(template.resources.contains_key(&reference), "{context}: {reference} is not in the stack");
                    }
                }
                if statement.principal == Some(Principal::Anyone) {
                    assert_eq!(statement.effect, Effect::Deny, "{context}: Allow to anyone");
                }
                if statement.effect == Effect::Allow && statement.principal.is_some() {
                    assert!(statement.condition.is_some(), "{context}: a service may act only for this stack's source");
                }
            }
        }

        // Key policy: `Resource: *` means this key; service principals are held to this account.
        let key_policy = key_policy();
        for statement in key_policy["Statement"].as_array().unwrap() {
            assert_eq!(statement["Resource"], "*");
            if statement["Principal"].get("Service").is_some() {
                assert!(statement.get("Condition").is_some(), "{statement}");
            } else {
                assert_eq!(statement["Principal"]["AWS"], "arn:${AWS::Partition}:iam::${AWS::AccountId}:root");
            }
        }
    }
}

#[test]
fn tier_values_are_applied() {
    for (config, template) in each_tier() {
        let tier = config.tier.as_str();
        for id in [ids::API_FUNCTION, ids::ANALYZER_FUNCTION] {
            let ResourceKind::Function(function) = kind(&template, id) else { panic!("{id}") };
            assert_eq!(function.memory_size, config.lambda.memory_mb.0, "{tier}");
            assert_eq!(function.timeout, config.lambda.timeout_seconds.0, "{tier}");
            assert_eq!(function.architectures, [config.lambda.architecture.as_aws()], "{tier}");
            assert_eq!(function.runtime, "provided.al2023");
            let reserved = config.lambda.reserved_concurrency.expect("every tier reserves concurrency");
            let expected = if id == ids::API_FUNCTION { reserved.api.0 } else { reserved.analyzer.0 };
            assert_eq!(function.reserved_concurrent_executions, Some(expected), "{tier} {id}");
            // The queue's pollers start no more analyses than the analyzer may run at once:
            // throttled invocations would send their messages towards the dead-letter queue.
            if id == ids::ANALYZER_FUNCTION {
                let ResourceKind::EventSourceMapping(mapping) = kind(&template, ids::ANALYSIS_EVENTS) else { panic!() };
                assert_eq!(mapping.scaling_config.as_ref().map(|scaling| scaling.maximum_concurrency), Some(expected), "{tier}");
            }
            assert_eq!(function.environment.variables[env::TIER], Expr::str(tier));
            let Expr::Str(settings) = &function.environment.variables[env::TIER_SETTINGS] else { panic!() };
            let settings: serde_json::Value = serde_json::from_str(settings).unwrap();
            // What the runtime reads back is the tier file's, value for value (one type on
            // both sides), each tenant's request limits included.
            let read: contract::TierSettings = serde_json::from_value(settings.clone()).unwrap();
            assert_eq!(read, config.settings(), "{tier}");
            assert_eq!(read.requests, Some(config.api), "{tier}");
            assert_eq!(settings["labeler"]["max_labels"], config.labeler.max_labels, "{tier}");
            assert_eq!(settings["features"]["faces"], config.features.faces, "{tier}");
        }
        let ResourceKind::Queue(queue) = kind(&template, ids::ANALYSIS_QUEUE) else { panic!() };
        assert_eq!(queue.visibility_timeout, config.analysis.visibility_timeout_seconds.0);
        let redrive = queue.redrive_policy.as_ref().unwrap();
        assert_eq!(redrive.max_receive_count, config.analysis.max_receive_count.0);
        assert_eq!(redrive.dead_letter_target_arn, Expr::arn_of(ids::ANALYSIS_DLQ));

        let ResourceKind::EventSourceMapping(mapping) = kind(&template, ids::ANALYSIS_EVENTS) else { panic!() };
        assert_eq!(mapping.batch_size, config.analysis.batch_size.0);
        assert_eq!(mapping.function_response_types, ["ReportBatchItemFailures"]);

        for id in [ids::API_LOGS, ids::ANALYZER_LOGS] {
            let ResourceKind::LogGroup(group) = kind(&template, id) else { panic!() };
            assert_eq!(group.retention_in_days, config.log_retention_days.0);
        }

        let ResourceKind::Stage(stage) = kind(&template, ids::STAGE) else { panic!() };
        assert_eq!(stage.stage_name, "prod");
        assert!(stage.tracing_enabled, "{tier}: X-Ray tracing");
        // The whole stage is throttled as the tier file says, every method of every path.
        let throttling = config.stage.expect("every tier throttles its stage");
        let [setting] = stage.method_settings.as_slice() else { panic!("{tier}: {:?}", stage.method_settings) };
        assert_eq!((setting.resource_path, setting.http_method), ("/*", "*"));
        assert_eq!((setting.throttling_rate_limit, setting.throttling_burst_limit), (throttling.rate_limit.0, throttling.burst_limit.0));
        // No usage plan: it would limit only API keys, which no request carries.
        let yaml = template.to_yaml().unwrap();
        assert!(!yaml.contains("AWS::ApiGateway::UsagePlan"), "{tier}");

        let ResourceKind::Role(analyzer) = kind(&template, ids::ANALYZER_ROLE) else { panic!() };
        let may_detect_labels =
            analyzer.policies[0].policy_document.statement.iter().any(|s| s.action.contains(&"rekognition:DetectLabels"));
        assert_eq!(may_detect_labels, config.labeler.engine == VisionEngine::Rekognition, "{tier}");
        let may_detect_text = analyzer.policies[0].policy_document.statement.iter().any(|s| s.action.contains(&"rekognition:DetectText"));
        assert_eq!(may_detect_text, config.labeler.engine == VisionEngine::Rekognition && config.features.text, "{tier}");
        // Where Rekognition keeps faces: the analyzer indexes and searches, the API deletes, and
        // both only in the collections named after this stack (the runtime's names, resolved).
        let rekognition_faces = config.labeler.engine == VisionEngine::Rekognition && config.features.faces;
        let ResourceKind::Role(api) = kind(&template, ids::API_ROLE) else { panic!() };
        for (role, actions) in [
            (analyzer, ["rekognition:CreateCollection", "rekognition:IndexFaces", "rekognition:SearchFaces"].as_slice()),
            (api, ["rekognition:DeleteFaces", "rekognition:DeleteCollection"].as_slice()),
        ] {
            let granted: Vec<&Statement> =
                role.policies[0].policy_document.statement.iter().filter(|s| s.action.iter().any(|a| actions.contains(a))).collect();
            assert_eq!(granted.len(), usize::from(rekognition_faces), "{tier}");
            for statement in granted {
                assert_eq!(statement.action, actions);
                let stack = stack_name_of_tier(tier);
                let pseudo = Pseudo { stack_name: &stack, account_id: "123456789012", region: "eu-west-1" };
                let arn = statement.resource[0].resolve_name(&pseudo).unwrap();
                let collection = contract::names::faces_collection(&stack, "alice");
                assert_eq!(arn, "arn:aws:rekognition:eu-west-1:123456789012:collection/smart-album-full-platform-user-faces-*");
                assert!(collection.starts_with(arn.rsplit('/').next().unwrap().trim_end_matches('*')), "{collection}");
            }
        }
    }
    // The tiers really differ where the spec says they do.
    assert_ne!(config("BASIC_USER").quotas, config("FULL_PLATFORM_USER").quotas);
    assert_ne!(config("BASIC_USER").api, config("CORE_USER").api);
}

#[test]
fn tenant_data_is_reached_only_through_the_tenant_access_role() {
    for (config, template) in each_tier() {
        let tier = config.tier.as_str();
        let stack = stack_name_of_tier(tier);
        let pseudo = Pseudo { stack_name: &stack, account_id: "123456789012", region: "eu-west-1" };
        let ResourceKind::Role(tenant) = kind(&template, ids::TENANT_ACCESS_ROLE) else { panic!() };
        let name = tenant.role_name.as_ref().and_then(|name| name.resolve_name(&pseudo)).unwrap();
        assert_eq!(name, format!("{stack}-tenant-access"));
        // Only the stack's two functions may assume it.
        let [trust] = tenant.assume_role_policy_document.statement.as_slice() else { panic!() };
        assert_eq!(trust.principal, Some(Principal::Aws(vec![Expr::arn_of(ids::API_ROLE), Expr::arn_of(ids::ANALYZER_ROLE)])));
        // It holds every action a session policy grants (a session only narrows its role).
        let granted: BTreeSet<&str> =
            tenant.policies[0].policy_document.statement.iter().flat_map(|statement| statement.action.iter().copied()).collect();
        let user = domain::UserName::parse("alice").unwrap();
        let scope = aws_adapters::tenancy::TenantScope {
            users_table_arn: "arn:aws:dynamodb:eu-west-1:123456789012:table/u".into(),
            images_table_arn: "arn:aws:dynamodb:eu-west-1:123456789012:table/t".into(),
            photo_bucket_arn: "arn:aws:s3:::b".into(),
            key_arn: "k".into(),
        };
        for statement in scope.session_policy(&user)["Statement"].as_array().unwrap() {
            let actions = statement["Action"].as_array().cloned().unwrap_or_else(|| vec![statement["Action"].clone()]);
            for action in actions {
                assert!(granted.contains(action.as_str().unwrap()), "{tier}: the role lacks {action}");
            }
        }
        for id in [ids::API_ROLE, ids::ANALYZER_ROLE] {
            let ResourceKind::Role(role) = kind(&template, id) else { panic!() };
            let statements = &role.policies[0].policy_document.statement;
            // The functions' own roles reach no image record and no photo object.
            let resources = serde_json::to_string(&statements.iter().map(|s| &s.resource).collect::<Vec<_>>()).unwrap();
            assert!(!resources.contains(ids::IMAGES_TABLE) && !resources.contains(ids::BUCKET), "{tier} {id}: {resources}");
            // Of the users table, only partitions no account has: `#...` (stack-wide items) and
            // the search index's one-letter initials.
            for statement in statements.iter().filter(|s| serde_json::to_string(&s.resource).unwrap().contains(ids::USERS_TABLE)) {
                let condition = statement.condition.as_ref().expect("a users-table statement without a condition");
                let pattern = &condition["ForAllValues:StringLike"]["dynamodb:LeadingKeys"];
                let index = serde_json::to_string(&statement.resource).unwrap().contains("/index/");
                let expected = if index { Expr::str("?") } else { Expr::str("#*") };
                assert_eq!(pattern, &expected, "{tier} {id} {}", statement.sid);
                if index {
                    assert_eq!(statement.action, ["dynamodb:Query"]);
                }
            }
            let assume = statements.iter().find(|s| s.action == ["sts:AssumeRole"]).expect("may assume the tenant-access role");
            let arn = assume.resource[0].resolve_name(&pseudo).unwrap();
            assert_eq!(arn, format!("arn:aws:iam::123456789012:role/{name}"), "{tier} {id}");
            let ResourceKind::Function(function) =
                kind(&template, if id == ids::API_ROLE { ids::API_FUNCTION } else { ids::ANALYZER_FUNCTION })
            else {
                panic!()
            };
            assert_eq!(function.environment.variables[env::TENANT_ACCESS_ROLE_ARN], Expr::arn_of(ids::TENANT_ACCESS_ROLE));
        }
    }
}

#[test]
fn new_image_delivers_to_the_analysis_queue_and_ops_email_is_optional() {
    let mut config = config("CORE_USER");
    let template = render(&config, None);
    let ResourceKind::Topic(new_image) = kind(&template, ids::NEW_IMAGE_TOPIC) else { panic!() };
    assert_eq!(new_image.subscription.len(), 1);
    assert_eq!(new_image.subscription[0].protocol, "sqs");
    assert_eq!(new_image.subscription[0].endpoint, Expr::arn_of(ids::ANALYSIS_QUEUE));
    let ResourceKind::QueuePolicy(policy) = kind(&template, ids::ANALYSIS_QUEUE_POLICY) else { panic!() };
    let condition = policy.policy_document.statement[0].condition.as_ref().unwrap();
    assert_eq!(condition["ArnEquals"]["aws:SourceArn"], Expr::reference(ids::NEW_IMAGE_TOPIC));
    let ResourceKind::Topic(new_user) = kind(&template, ids::NEW_USER_TOPIC) else { panic!() };
    assert!(new_user.subscription.is_empty(), "no ops email configured, no subscription");

    config.ops_email = Some(Email::try_from("ops@example.org".to_owned()).unwrap());
    let template = render(&config, None);
    let ResourceKind::Topic(new_user) = kind(&template, ids::NEW_USER_TOPIC) else { panic!() };
    assert_eq!(new_user.subscription.len(), 1);
    assert_eq!(new_user.subscription[0].protocol, "email");
    assert_eq!(new_user.subscription[0].endpoint, Expr::str("ops@example.org"));
}

#[test]
fn the_bucket_is_private_tls_only_and_cleans_up_abandoned_uploads() {
    let template = render(&config("BASIC_USER"), None);
    let ResourceKind::Bucket(bucket) = kind(&template, ids::BUCKET) else { panic!() };
    let block = &bucket.public_access_block_configuration;
    assert!(block.block_public_acls && block.block_public_policy && block.ignore_public_acls && block.restrict_public_buckets);
    let [multipart, presigned, old_versions] = bucket.lifecycle_configuration.rules.as_slice() else { panic!("three lifecycle rules") };
    assert_eq!((multipart.status, presigned.status, old_versions.status), ("Enabled", "Enabled", "Enabled"));
    // Versioned: an overwritten or deleted photo can be brought back for 3 days, not longer.
    assert_eq!(bucket.versioning_configuration.status, "Enabled");
    assert_eq!(old_versions.noncurrent_version_expiration.as_ref().map(|expiry| expiry.noncurrent_days), Some(3));
    assert_eq!((old_versions.expired_object_delete_marker, old_versions.expiration_in_days), (Some(true), None));
    assert_eq!(multipart.abort_incomplete_multipart_upload.as_ref().map(|abort| abort.days_after_initiation), Some(1));
    // A presigned upload never completed keeps the tag its URL put on it, and goes after a day
    // (its record goes by the table's TTL).
    assert_eq!(presigned.expiration_in_days, Some(1));
    let [tag] = presigned.tag_filters.as_slice() else { panic!("one tag filter") };
    assert_eq!((tag.key, tag.value), contract::names::UPLOAD_TAG);
    let ResourceKind::BucketPolicy(policy) = kind(&template, ids::BUCKET_POLICY) else { panic!() };
    let statement = &policy.policy_document.statement[0];
    assert_eq!(statement.effect, Effect::Deny);
    assert_eq!(statement.condition.as_ref().unwrap()["Bool"]["aws:SecureTransport"], Expr::str("false"));
    assert_eq!(statement.resource.len(), 2, "the bucket and its objects");
}

#[test]
fn the_images_table_has_the_entries_index_for_label_queries() {
    let template = render(&config("CORE_USER"), None);
    let ResourceKind::Table(images) = kind(&template, ids::IMAGES_TABLE) else { panic!() };
    assert_eq!(images.billing_mode, "PAY_PER_REQUEST");
    assert!(images.point_in_time_recovery_specification.point_in_time_recovery_enabled);
    let index = &images.global_secondary_indexes[0];
    assert_eq!(index.index_name, "entries");
    let keys: Vec<_> = index.key_schema.iter().map(|k| (k.attribute_name, k.key_type)).collect();
    assert_eq!(keys, [("entry_pk", "HASH"), ("entry_sk", "RANGE")]);
    let ResourceKind::Table(users) = kind(&template, ids::USERS_TABLE) else { panic!() };
    assert_eq!(users.global_secondary_indexes[0].index_name, "by_name_prefix");
}

#[test]
fn data_resources_outlive_the_stack_and_nothing_else_does() {
    for (config, template) in each_tier() {
        assert_eq!(
            template.retained_ids(),
            [ids::KEY, ids::BUCKET, ids::LOG_BUCKET, ids::IMAGES_TABLE, ids::USERS_TABLE]
                .iter()
                .copied()
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect::<Vec<_>>(),
            "{}",
            config.tier
        );
        for id in template.retained_ids() {
            let resource = &template.resources[id];
            assert!(resource.update_replace_policy.is_some(), "{id}: UpdateReplacePolicy");
        }
    }
}

#[test]
fn rendering_is_deterministic() {
    for tier in TIERS {
        let first = render(&config(tier), None).to_yaml().unwrap();
        let second = render(&config(tier), None).to_yaml().unwrap();
        assert_eq!(first, second, "{tier}");
    }
}

/// The template and the runtime read one contract: the tables, indexes, TTL attribute,
/// handlers, artifacts and environment variables the runtime relies on are the ones every
/// rendered tier sets up. A name changed on one side only fails here.
#[test]
fn every_tier_matches_the_contract_with_the_runtime() {
    use contract::names::{self, Function};

    for (config, template) in each_tier() {
        let tier = config.tier.as_str();
        let rendered = serde_json::to_value(&template).unwrap();
        let properties = |id: &str| rendered["Resources"][id]["Properties"].clone();

        let tables = [
            (
                ids::USERS_TABLE,
                names::USERS_TABLE_SUFFIX,
                names::USERS_NAME_PREFIX_INDEX,
                names::USERS_NAME_PREFIX_INDEX_KEY,
                Some(names::USERS_EXPIRES_AT),
            ),
            (
                ids::IMAGES_TABLE,
                names::IMAGES_TABLE_SUFFIX,
                names::IMAGES_ENTRIES_INDEX,
                names::IMAGES_ENTRIES_INDEX_KEY,
                Some(names::IMAGES_EXPIRES_AT),
            ),
        ];
        for (id, suffix, index, (index_pk, index_sk), ttl) in tables {
            let table = properties(id);
            assert!(table["TableName"].to_string().contains(&format!("-{suffix}")), "{tier} {id}: {}", table["TableName"]);
            let key: Vec<&str> = table["KeySchema"].as_array().unwrap().iter().map(|k| k["AttributeName"].as_str().unwrap()).collect();
            assert_eq!(key, [names::PARTITION_KEY, names::SORT_KEY], "{tier} {id}");
            let gsi = &table["GlobalSecondaryIndexes"][0];
            assert_eq!(gsi["IndexName"], index, "{tier} {id}");
            let gsi_key: Vec<&str> = gsi["KeySchema"].as_array().unwrap().iter().map(|k| k["AttributeName"].as_str().unwrap()).collect();
            assert_eq!(gsi_key, [index_pk, index_sk], "{tier} {id}");
            match ttl {
                Some(attribute) => {
                    assert_eq!(table["TimeToLiveSpecification"]["AttributeName"], attribute, "{tier} {id}: TTL");
                    assert_eq!(table["TimeToLiveSpecification"]["Enabled"], true, "{tier} {id}: TTL");
                }
                None => assert!(table.get("TimeToLiveSpecification").is_none(), "{tier} {id}"),
            }
        }

        for (id, function) in [(ids::API_FUNCTION, Function::Api), (ids::ANALYZER_FUNCTION, Function::Analyzer)] {
            let lambda = properties(id);
            assert_eq!(lambda["Handler"], function.handler(), "{tier} {id}");
            assert!(
                lambda["FunctionName"].to_string().contains(&format!("-{}\"", function.suffix())),
                "{tier} {id}: {}",
                lambda["FunctionName"]
            );
            assert_eq!(
                lambda["Code"]["S3Key"],
                serde_json::to_value(Expr::reference(deployer::template::params::artifact_key(function))).unwrap()
            );
            let variables = lambda["Environment"]["Variables"].as_object().unwrap();
            for name in contract::env::STACK_CONFIG {
                assert!(variables.contains_key(name), "{tier} {id} lacks {name}");
            }
            let settings: contract::TierSettings =
                serde_json::from_str(variables[contract::env::TIER_SETTINGS].as_str().unwrap()).expect("the runtime parses the settings");
            assert_eq!(settings.features, config.features, "{tier}");
            let ignores_stage = variables.get(contract::env::IGNORE_STAGE_IN_PATH).and_then(|v| v.as_str());
            match function {
                // Behind the REST API's `prod` stage, the router must see `/health`, not `/prod/health`.
                Function::Api => assert_eq!(ignores_stage, Some("true"), "{tier}"),
                Function::Analyzer => assert_eq!(ignores_stage, None, "{tier}"),
            }
        }
    }
}

#[test]
fn a_dedicated_stack_keeps_every_name_within_aws_limits() {
    let config = config("FULL_PLATFORM_USER");
    let longest = "t".repeat(TenantName::MAX_CHARS).parse::<TenantName>().unwrap();
    assert!(format!("{longest}x").parse::<TenantName>().is_err(), "a longer tenant name is allowed");
    let stack = StackId { tier: config.tier.clone(), tenant: Some(longest.clone()) };
    let yaml = render(&config, Some(&longest)).to_yaml().unwrap();
    // The longest region name there is, and a 12-digit account.
    let pseudo = Pseudo { stack_name: &stack.stack_name(), account_id: "123456789012", region: "ap-southeast-2" };
    let limits = [
        ("BucketName", 63),
        ("FunctionName", 64),
        ("QueueName", 80),
        ("TopicName", 256),
        ("TableName", 255),
        ("LogGroupName", 512),
        ("AliasName", 256),
        ("Name", 128),
    ];
    let mut checked = 0;
    for line in yaml.lines() {
        let Some((field, value)) = line.trim().split_once(": !Sub ") else { continue };
        let Some((_, limit)) = limits.iter().find(|(name, _)| *name == field) else { continue };
        let name = Expr::sub(value).resolve_name(&pseudo).unwrap();
        assert!(name.len() <= *limit, "{field} {name} has {} characters; AWS allows {limit}", name.len());
        checked += 1;
    }
    assert!(checked >= 10, "only {checked} names checked:\n{yaml}");
    // The stack's own collection prefix and the pooled stack's bucket are unchanged.
    let pooled = render(&config, None).to_yaml().unwrap();
    assert!(pooled.contains("BucketName: !Sub ${AWS::StackName}-photos-${AWS::AccountId}-${AWS::Region}"));
    let other = "acme".parse::<TenantName>().unwrap();
    let other_yaml = render(&config, Some(&other)).to_yaml().unwrap();
    let buckets = |yaml: &str| -> Vec<String> {
        yaml.lines().filter(|line| line.trim_start().starts_with("BucketName: !Sub")).map(str::to_owned).collect()
    };
    assert_eq!(buckets(&other_yaml).len(), 2, "the photo and log buckets");
    for (mine, other) in buckets(&yaml).iter().zip(buckets(&other_yaml)) {
        assert_ne!(mine, &other);
    }
    let other_buckets = buckets(&other_yaml).join("\n");
    assert!(other_buckets.contains("sa-acme-") && other_buckets.contains("sl-acme-"), "{other_buckets}");
}

#[test]
fn only_tiers_that_allow_it_have_dedicated_stacks() {
    for (tier, allowed) in [("BASIC_USER", false), ("CORE_USER", false), ("FULL_PLATFORM_USER", true)] {
        let id = StackId { tier: tier.parse().unwrap(), tenant: Some("acme".parse().unwrap()) };
        let loaded = deployer::cli::Stack::load(&stacks(), &id);
        assert_eq!(loaded.is_ok(), allowed, "{tier}");
        assert_eq!(config(tier).tenancy == Tenancy::SiloAllowed, allowed);
    }
    assert_eq!(
        StackId { tier: "FULL_PLATFORM_USER".parse().unwrap(), tenant: Some("acme".parse().unwrap()) }.stack_name(),
        "smart-album-full-platform-user-acme"
    );
}

#[test]
fn the_bucket_takes_presigned_uploads_only_from_the_gallery() {
    let template = render(&config("CORE_USER"), None);
    let ResourceKind::Bucket(bucket) = kind(&template, ids::BUCKET) else { panic!("the bucket is not a bucket") };
    let [rule] = bucket.cors_configuration.as_ref().unwrap().cors_rules.as_slice() else { panic!("one CORS rule") };
    assert_eq!((rule.allowed_methods.as_slice(), rule.allowed_headers.as_slice()), (&["PUT"][..], &["content-type", "x-amz-tagging"][..]));
    let local = |origin: &str| Expr::If("ServedLocally".into(), Box::new(Expr::str(origin)), Box::new(Expr::reference("AWS::NoValue")));
    assert_eq!(
        rule.allowed_origins,
        [
            Expr::sub("https://${RestApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}"),
            // The local machine only where smart-album serve serves the stack (deployer up --analyzer local).
            local("http://127.0.0.1:*"),
            local("http://localhost:*"),
        ]
    );
    assert!(template.conditions.contains_key("ServedLocally"));
}

/// Every logical id a rendered template names (`!Ref X`, `!GetAtt X.Y`, `${X}` in `!Sub`).
fn names_in(yaml: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for line in yaml.lines() {
        for (tag, end) in [("!Ref ", ' '), ("!GetAtt ", '.')] {
            if let Some(rest) = line.split(tag).nth(1) {
                names.insert(rest.split([end, ' ']).next().unwrap().trim().to_owned());
            }
        }
        for part in line.split("${").skip(1) {
            let name = part.split(['}', '.']).next().unwrap();
            if !name.starts_with("AWS::") && !name.starts_with('!') {
                names.insert(name.to_owned());
            }
        }
    }
    names
}

#[test]
fn the_import_template_takes_back_only_the_kept_data_and_names_nothing_else() {
    for (config, template) in each_tier() {
        let retained = template.retained_ids();
        assert_eq!(retained.len(), 5, "{}: bucket, log bucket, two tables, key", config.tier);
        // A stack taken down before the log bucket existed is taken back without one.
        assert!(!template.retained_together_ids().contains(&ids::LOG_BUCKET), "{}", config.tier);
        assert_eq!(template.retained_together_ids().len(), 4, "{}", config.tier);
        let import = template.for_import(&retained);
        let kept: BTreeSet<String> = import.resources.keys().cloned().collect();
        assert_eq!(kept, retained.iter().map(|id| (*id).to_owned()).collect());
        let yaml = import.to_yaml().unwrap();
        assert!(names_in(&yaml).is_subset(&kept), "{}: the import names {:?}", config.tier, names_in(&yaml));
        assert!(import.resources.values().all(|resource| resource.is_retained()), "an import needs DeletionPolicy");
        assert!(!yaml.contains("Parameters:") && !yaml.contains("Outputs:"), "{yaml}");
        // The full template still has the bucket's CORS rule for the update after the import.
        let ResourceKind::Bucket(bucket) = kind(&template, ids::BUCKET) else { panic!() };
        assert!(bucket.cors_configuration.is_some() && bucket.logging_configuration.is_some());
    }
}

/// Every request through the stage is an access log line: JSON, to the stack's encrypted log
/// group kept as long as the tier's other logs, naming the caller and the request but never a
/// header, a query string, a body or the path (a link's path is its secret). The account stack gives API Gateway the role it writes
/// them with, and nothing else.
#[test]
fn the_stage_writes_json_access_logs_without_secrets_through_the_account_stacks_role() {
    for (config, template) in each_tier() {
        let ResourceKind::Stage(stage) = kind(&template, ids::STAGE) else { panic!("{}: not a stage", config.tier) };
        assert_eq!(stage.access_log_setting.destination_arn, Expr::arn_of(ids::ACCESS_LOGS));
        let format: serde_json::Map<String, serde_json::Value> = serde_json::from_str(&stage.access_log_setting.format).unwrap();
        let variables: Vec<&str> = format.values().map(|value| value.as_str().unwrap()).collect();
        for needed in
            ["$context.requestId", "$context.identity.sourceIp", "$context.httpMethod", "$context.resourcePath", "$context.status"]
        {
            assert!(variables.contains(&needed), "{}: {needed} missing from {variables:?}", config.tier);
        }
        for variable in &variables {
            let lower = variable.to_lowercase();
            assert!(
                !["header", "authoriz", "querystring", "body", "apikey"].iter().any(|secret| lower.contains(secret))
                    && *variable != "$context.path",
                "{}: the access log would carry {variable}",
                config.tier
            );
        }
        let ResourceKind::LogGroup(group) = kind(&template, ids::ACCESS_LOGS) else { panic!("{}: not a log group", config.tier) };
        assert_eq!(group.retention_in_days, config.log_retention_days.0);
        assert_eq!(group.kms_key_id, Expr::arn_of(ids::KEY));
        assert_eq!(group.log_group_name, Expr::sub("/aws/apigateway/${AWS::StackName}/prod/access"));
        // The key lets CloudWatch Logs encrypt that group: its name is under the key policy's
        // API Gateway pattern.
        let policy = key_policy().to_string();
        assert!(policy.contains("log-group:/aws/apigateway/${AWS::StackName}/*"), "{policy}");
    }

    let account = deployer::template::account::render();
    let yaml: serde_norway::Value = serde_norway::from_str(&account.to_yaml().unwrap()).unwrap();
    let resources = yaml["Resources"].as_mapping().unwrap();
    assert_eq!(resources.len(), 2, "{yaml:?}");
    let ResourceKind::Role(role) = kind(&account, ids::API_GATEWAY_LOGS_ROLE) else { panic!("not a role") };
    let trusted: Vec<&Option<Principal>> =
        role.assume_role_policy_document.statement.iter().map(|statement| &statement.principal).collect();
    assert_eq!(trusted, [&Some(Principal::Service("apigateway.amazonaws.com".into()))]);
    assert!(role.policies.is_empty(), "the logging role has only the managed logging policy");
    assert_eq!(
        role.managed_policy_arns,
        [Expr::sub("arn:${AWS::Partition}:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs")]
    );
    assert_eq!(yaml["Resources"][ids::API_GATEWAY_ACCOUNT]["Type"].as_str(), Some("AWS::ApiGateway::Account"));
}

/// S3 records every request to the photo bucket in the log bucket: only S3's log delivery for
/// that bucket and account may write there, over TLS, and the records go after a year.
#[test]
fn the_photo_buckets_access_records_go_to_a_log_bucket_only_s3_writes() {
    for (config, template) in each_tier() {
        let ResourceKind::Bucket(photos) = kind(&template, ids::BUCKET) else { panic!() };
        let logging = photos.logging_configuration.as_ref().unwrap_or_else(|| panic!("{}: no access logs", config.tier));
        assert_eq!(logging.destination_bucket_name, Expr::reference(ids::LOG_BUCKET));
        let ResourceKind::Bucket(logs) = kind(&template, ids::LOG_BUCKET) else { panic!() };
        assert!(logs.logging_configuration.is_none() && logs.cors_configuration.is_none());
        assert!(logs.public_access_block_configuration.restrict_public_buckets);
        let expiry = logs.lifecycle_configuration.rules.iter().find_map(|rule| rule.expiration_in_days);
        assert_eq!(expiry, Some(deployer::template::storage::ACCESS_LOG_DAYS));
        let ResourceKind::BucketPolicy(policy) = kind(&template, ids::LOG_BUCKET_POLICY) else { panic!() };
        let delivery = &policy.policy_document.statement[0];
        assert_eq!(delivery.principal, Some(Principal::Service("logging.s3.amazonaws.com".into())));
        assert_eq!(delivery.action, ["s3:PutObject"]);
        let condition = format!("{:?}", delivery.condition);
        assert!(
            condition.contains("aws:SourceArn") && condition.contains("-photos-") && condition.contains("aws:SourceAccount"),
            "{condition}"
        );
        assert!(policy.policy_document.statement.iter().any(|statement| statement.sid == "DenyInsecureTransport"));
        // Its skips say why it does without logging and KMS.
        let skipped: Vec<&str> =
            template.resources[ids::LOG_BUCKET].metadata.as_ref().unwrap().checkov.skip.iter().map(|skip| skip.id).collect();
        assert_eq!(skipped, ["CKV_AWS_18", "CKV_AWS_145"]);
    }
}
