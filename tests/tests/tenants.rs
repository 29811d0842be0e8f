//! Ops' tenant commands against the emulator: `deployer tenant create/list/show/suspend/resume/
//! move/remove` on two deployed tier stacks, checked through the API a user sees and the tables
//! and buckets themselves.

mod common;

use std::collections::BTreeMap;

use axum::http::{Method, StatusCode};
use common::api::{Api, fixture};
use common::{Run, deployer, deployer_with_env};
use serde_json::{Value, json};
use tempfile::TempDir;

/// A stacks folder holding the tier files of every `api` (the tenant commands see all tiers of
/// one folder), optionally with one line of one file changed.
fn stacks_dir(apis: &[&Api], edit: Option<(&str, &str, &str)>) -> TempDir {
    let dir = TempDir::new().unwrap();
    for api in apis {
        let mut text = std::fs::read_to_string(api.files.path()).unwrap();
        if let Some((tier, from, to)) = edit
            && tier == api.files.tier
        {
            assert!(text.contains(from), "{from:?}");
            text = text.replacen(from, to, 1);
        }
        std::fs::write(dir.path().join(format!("{}.yaml", api.files.tier)), text).unwrap();
    }
    dir
}

fn tenant(dir: &TempDir, args: &[&str]) -> Run {
    let mut all = vec!["tenant"];
    all.extend_from_slice(args);
    deployer(dir.path(), &all)
}

fn json_of(run: &Run) -> Value {
    serde_json::from_str(&run.stdout).unwrap_or_else(|err| panic!("not JSON ({err}):\n{}\n{}", run.stdout, run.stderr))
}

/// What the API shows the user: photo count, bytes, albums (label -> count), persons.
async fn seen_by_user(api: &Api, token: &str) -> (u64, u64, BTreeMap<String, u64>, usize) {
    let images = api.call(Method::GET, "/images?limit=100", Some(token), None).await;
    assert_eq!(images.status, StatusCode::OK, "{}", images.raw);
    let items = images.body["items"].as_array().unwrap();
    let bytes = items.iter().map(|item| item["size"].as_u64().unwrap()).sum();
    let albums = api.call(Method::GET, "/albums", Some(token), None).await;
    let albums = albums.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|album| (album["label"].as_str().unwrap().to_owned(), album["photos"].as_u64().unwrap()))
        .collect();
    let persons = api.call(Method::GET, "/persons", Some(token), None).await;
    let persons = persons.body["persons"].as_array().map_or(0, Vec::len);
    (items.len() as u64, bytes, albums, persons)
}

async fn items_of(api: &Api, user: &str) -> Vec<String> {
    let mut keys: Vec<String> = api
        .image_items()
        .await
        .into_iter()
        .filter(|item| item["pk"].as_s().unwrap() == user)
        .map(|item| item["sk"].as_s().unwrap().clone())
        .collect();
    keys.sort();
    keys
}

async fn has_account(api: &Api, user: &str) -> bool {
    api.user_items().await.iter().any(|item| item["pk"].as_s().unwrap() == user)
}

const PASSWORD: &str = "my very own passphrase";

#[tokio::test]
async fn ops_provision_list_suspend_move_and_remove_a_tenant() {
    let basic = Api::deploy("BASIC_USER", "TENANT_BASIC", &[]).await;
    let core = Api::deploy("CORE_USER", "TENANT_CORE", &[]).await;
    let dir = stacks_dir(&[&basic, &core], None);

    // Create: the one-time password alone on stdout, then a forced change at the first sign-in.
    let created = tenant(&dir, &["create", "olga", "--tier", "TENANT_BASIC", "--email", "olga@example.org", "--first-name", "Olga"])
        .expect_success("tenant create");
    let one_time = created.stdout.trim().to_owned();
    assert_eq!(created.stdout.lines().count(), 1, "{}", created.stdout);
    assert!(one_time.len() >= 20 && !created.stderr.contains(&one_time), "the password leaked to stderr");
    assert!(created.stderr.contains(r#""audit":"tenant create""#), "{}", created.stderr);
    let again = tenant(&dir, &["create", "olga", "--tier", "TENANT_BASIC", "--email", "olga@example.org"]);
    assert!(!again.success && again.stderr.contains("taken"), "{}", again.stderr);
    let first = basic.call(Method::POST, "/sessions", None, Some(json!({"user_name": "olga", "password": one_time}))).await;
    assert_eq!((first.status, first.error_code()), (StatusCode::FORBIDDEN, "password_change_required"), "{}", first.raw);
    let changed = basic
        .call(Method::POST, "/sessions", None, Some(json!({"user_name": "olga", "password": one_time, "new_password": PASSWORD})))
        .await;
    assert_eq!(changed.status, StatusCode::CREATED, "{}", changed.raw);
    let token = basic.sign_in("olga", PASSWORD).await;
    // A new one-time password (the user lost theirs): every session ends, the old password is spent.
    let reset = tenant(&dir, &["reset-password", "olga", "--valid-hours", "2"]).expect_success("tenant reset-password");
    let fresh = reset.stdout.trim().to_owned();
    assert!(fresh.len() >= 20 && !reset.stderr.contains(&fresh), "the password leaked to stderr");
    assert!(reset.stderr.contains(r#""audit":"tenant reset-password""#), "{}", reset.stderr);
    assert_eq!(basic.call(Method::GET, "/images", Some(&token), None).await.status, StatusCode::UNAUTHORIZED);
    let old = basic.call(Method::POST, "/sessions", None, Some(json!({"user_name": "olga", "password": PASSWORD}))).await;
    assert_eq!(old.status, StatusCode::UNAUTHORIZED, "{}", old.raw);
    let chosen =
        basic.call(Method::POST, "/sessions", None, Some(json!({"user_name": "olga", "password": fresh, "new_password": PASSWORD}))).await;
    assert_eq!(chosen.status, StatusCode::CREATED, "{}", chosen.raw);
    let token = basic.sign_in("olga", PASSWORD).await;

    let cat = basic.upload(&token, "image/png", fixture("chelsea.png")).await;
    basic.upload(&token, "image/jpeg", fixture("sample2.jpg")).await;
    basic.analyse_all(&token, &basic.poller()).await;
    let before = seen_by_user(&basic, &token).await;
    assert_eq!((before.0, before.3), (2, 0), "{before:?}");

    // List and show: the figures the API shows.
    let listed = json_of(&tenant(&dir, &["list", "--json"]).expect_success("tenant list"));
    let olga = listed.as_array().unwrap().iter().find(|row| row["user_name"] == "olga").expect("olga listed").clone();
    assert_eq!(olga["tier"], "TENANT_BASIC");
    assert_eq!(olga["status"], "active");
    assert_eq!((olga["photos"].as_u64(), olga["bytes"].as_u64()), (Some(before.0), Some(before.1)), "{olga}");
    assert_eq!(olga["quota_percent"].as_f64(), Some(0.2), "2 of 1000 photos");
    assert!(olga["last_sign_in"].is_string(), "{olga}");
    let only_core = json_of(&tenant(&dir, &["list", "--tier", "TENANT_CORE", "--json"]).expect_success("tenant list --tier"));
    assert!(only_core.as_array().unwrap().is_empty(), "{only_core}");
    let table = tenant(&dir, &["list", "--prefix", "ol"]).expect_success("tenant list --prefix");
    assert!(table.stdout.contains("olga") && table.stdout.contains("1 tenant(s)"), "{}", table.stdout);
    let shown = json_of(&tenant(&dir, &["show", "olga", "--json"]).expect_success("tenant show"));
    assert_eq!(shown["details"]["albums"].as_u64(), Some(before.2.len() as u64), "{shown}");
    assert_eq!(shown["details"]["persons"].as_u64(), Some(0));
    let unknown = tenant(&dir, &["show", "nobody"]);
    assert!(!unknown.success && unknown.stderr.contains("no deployed stack has a user nobody"), "{}", unknown.stderr);

    // Suspend: every call refused at once, every session ended, nothing deleted; after resume the
    // old token stays refused and a new sign-in sees everything as it was.
    let suspended = tenant(&dir, &["suspend", "olga"]).expect_success("tenant suspend");
    assert!(suspended.stderr.contains(r#""audit":"tenant suspend""#) && suspended.stderr.contains(r#""by":"#), "{}", suspended.stderr);
    for (method, path) in [
        (Method::GET, "/images".to_owned()),
        (Method::GET, format!("/images/{cat}")),
        (Method::DELETE, format!("/images/{cat}")),
        (Method::GET, "/albums".to_owned()),
    ] {
        let reply = basic.call(method, &path, Some(&token), None).await;
        assert_eq!((reply.status, reply.error_code()), (StatusCode::FORBIDDEN, "suspended"), "{path}: {}", reply.raw);
    }
    let refused = basic.call(Method::POST, "/sessions", None, Some(json!({"user_name": "olga", "password": PASSWORD}))).await;
    assert_eq!(refused.error_code(), "suspended");
    let listed = json_of(&tenant(&dir, &["list", "--json"]).expect_success("tenant list"));
    assert_eq!(listed[0]["status"], "suspended");
    tenant(&dir, &["resume", "olga"]).expect_success("tenant resume");
    let ended = basic.call(Method::GET, "/images", Some(&token), None).await;
    assert_eq!(ended.status, StatusCode::UNAUTHORIZED, "a session outlived the suspension: {}", ended.raw);
    let token = basic.sign_in("olga", PASSWORD).await;
    assert_eq!(seen_by_user(&basic, &token).await, before, "the suspension changed something");

    // Sharing before the move: a collection of olga's shared with pete (a user of the source
    // only) and by a link, and one of pete's that olga contributes a photo to.
    let pete = basic.user("pete").await;
    let made = basic.call(Method::POST, "/collections", Some(&token), Some(json!({"title": "Cats"}))).await;
    let collection = format!("/collections/{}", made.body["id"].as_str().unwrap());
    basic.call(Method::POST, &format!("{collection}/photos"), Some(&token), Some(json!({"ids": [cat]}))).await;
    basic.call(Method::PUT, &format!("{collection}/members/pete"), Some(&token), Some(json!({"role": "viewer"}))).await;
    let link = basic.call(Method::POST, &format!("{collection}/links"), Some(&token), Some(json!({}))).await;
    let secret = link.body["url"].as_str().unwrap().rsplit_once("/shared/").unwrap().1.to_owned();
    let petes = basic.call(Method::POST, "/collections", Some(&pete), Some(json!({"title": "Pete's"}))).await;
    let petes = format!("/collections/{}", petes.body["id"].as_str().unwrap());
    basic.call(Method::PUT, &format!("{petes}/members/olga"), Some(&pete), Some(json!({"role": "contributor"}))).await;
    let contributed = basic.call(Method::POST, &format!("{petes}/photos"), Some(&token), Some(json!({"ids": [cat]}))).await;
    assert_eq!(contributed.body["added"], json!(1), "{}", contributed.raw);
    assert_eq!(basic.call(Method::GET, &petes, Some(&pete), None).await.body["photo_count"], json!(1));
    assert_eq!(basic.call(Method::GET, "/collections", Some(&pete), None).await.body["items"].as_array().unwrap().len(), 2);

    // A move the target's quotas refuse, with the numbers; nothing moves.
    let tight = stacks_dir(&[&basic, &core], Some(("TENANT_CORE", "photos_per_user: 20000", "photos_per_user: 1")));
    let refused = tenant(&tight, &["move", "olga", "--to", "TENANT_CORE", "--yes"]);
    assert!(!refused.success && refused.stderr.contains("2 photos (the limit is 1)"), "{}", refused.stderr);
    assert!(!has_account(&core, "olga").await && items_of(&core, "olga").await.is_empty());
    let unconfirmed = tenant(&dir, &["move", "olga", "--to", "TENANT_CORE"]);
    assert!(!unconfirmed.success && unconfirmed.stderr.contains("--yes"), "{}", unconfirmed.stderr);
    assert!(
        unconfirmed.stderr.contains("computes faces and persons as well"),
        "the move does not say what it adds: {}",
        unconfirmed.stderr
    );
    assert!(
        unconfirmed.stderr.contains("stays shared with pete no longer")
            && unconfirmed.stderr.contains("pete's collection")
            && unconfirmed.stderr.contains("the user's photos in it (1) leave it"),
        "the move does not list the memberships it drops: {}",
        unconfirmed.stderr
    );

    // A move killed after one object: the account is read-only and in two stacks; the same
    // command again finishes it.
    let args = ["tenant", "move", "olga", "--to", "TENANT_CORE", "--yes"];
    let killed = deployer_with_env(dir.path(), &args, &[("SMART_ALBUM_TEST_STOP_MOVE_AFTER_OBJECTS", "1")]);
    assert!(!killed.success, "the move was not stopped: {}", killed.stderr);
    let objects_copied = core.object_keys().await.iter().filter(|key| key.starts_with("olga/")).count();
    assert_eq!(objects_copied, 1, "{:?}", core.object_keys().await);
    // Every call of the account's sessions, and a new sign-in, is 409 `moving` until it is done.
    let upload = basic.call_raw(Method::POST, "/images", Some(&token), "image/png", fixture("coffee.png")).await;
    assert_eq!((upload.status, upload.error_code()), (StatusCode::CONFLICT, "moving"), "{}", upload.raw);
    let read = basic.call(Method::GET, "/images", Some(&token), None).await;
    assert_eq!((read.status, read.error_code()), (StatusCode::CONFLICT, "moving"), "{}", read.raw);
    let sign_in = basic.call(Method::POST, "/sessions", None, Some(json!({"user_name": "olga", "password": PASSWORD}))).await;
    assert_eq!((sign_in.status, sign_in.error_code()), (StatusCode::CONFLICT, "moving"), "{}", sign_in.raw);
    let half = tenant(&dir, &["show", "olga"]);
    assert!(!half.success && half.stderr.contains("more than one stack"), "{}", half.stderr);
    let finished = deployer(dir.path(), &args).expect_success("the move run again");
    assert!(finished.stdout.contains("signs in again at"), "{}", finished.stdout);
    assert!(finished.stderr.contains("Resuming the move"), "{}", finished.stderr);
    let done_already = tenant(&dir, &["move", "olga", "--to", "TENANT_CORE", "--yes"]).expect_success("a third run");
    assert!(done_already.stdout.contains("nothing to move"), "{}", done_already.stdout);
    let after = core.sign_in("olga", PASSWORD).await;
    core.analyse_all(&after, &core.poller()).await;
    let moved = seen_by_user(&core, &after).await;
    assert_eq!((moved.0, moved.1, &moved.2), (before.0, before.1, &before.2), "the photos, bytes or albums changed in the move");
    assert_eq!(moved.3, 3, "the target did not find the three faces of sample2.jpg");
    let counted = json_of(&tenant(&dir, &["show", "olga", "--json"]).expect_success("tenant show after the move"));
    assert_eq!((counted["photos"].as_u64(), counted["bytes"].as_u64()), (Some(moved.0), Some(moved.1)), "usage counters: {counted}");
    assert_eq!((counted["tier"].as_str(), counted["details"]["persons"].as_u64()), (Some("TENANT_CORE"), Some(3)));
    let cats = core.call(Method::GET, "/images/search?label=cat", Some(&after), None).await;
    assert_eq!(cats.body["items"][0]["id"], cat.as_str(), "{}", cats.raw);
    // Places and times move with the photos: sample2.jpg's place counted once, and the photo
    // found by the date it was taken (August 2016).
    let places = core.call(Method::GET, "/places", Some(&after), None).await;
    assert_eq!(places.body["countries"][0]["photo_count"], json!(1), "{}", places.raw);
    let dated = core.call(Method::GET, "/images/search?taken_from=2016-08-01&taken_to=2016-08-31", Some(&after), None).await;
    assert_eq!(dated.ids().len(), 1, "{}", dated.raw);
    assert!(!has_account(&basic, "olga").await, "the account is left in the source");
    assert!(items_of(&basic, "olga").await.is_empty(), "items are left in the source");
    assert!(!basic.object_keys().await.iter().any(|key| key.starts_with("olga/")), "objects are left in the source");
    // The link's secret opens the collection on the target, and nothing on the source; the
    // memberships with pete, who stays in the source, are gone from both sides.
    let opened = core.call(Method::GET, &format!("/shared/{secret}/photos"), None, None).await;
    assert_eq!((opened.status, &opened.body["items"][0]["id"]), (StatusCode::OK, &json!(cat)), "{}", opened.raw);
    assert_eq!(basic.call(Method::GET, &format!("/shared/{secret}/photos"), None, None).await.status, StatusCode::NOT_FOUND);
    assert!(!basic.user_items().await.iter().any(|item| item["pk"].as_s().unwrap().starts_with("#link#")), "a link is left in the source");
    let petes_now = basic.call(Method::GET, "/collections", Some(&pete), None).await;
    let titles: Vec<&str> = petes_now.body["items"].as_array().unwrap().iter().map(|item| item["title"].as_str().unwrap()).collect();
    assert_eq!(titles, ["Pete's"], "{}", petes_now.raw);
    assert_eq!(basic.call(Method::GET, &format!("{petes}/members"), Some(&pete), None).await.body["items"], json!([]));
    assert_eq!(basic.call(Method::GET, &petes, Some(&pete), None).await.body["photo_count"], json!(0), "olga's photo stays in pete's");
    let petes_id = petes.rsplit('/').next().unwrap();
    let left: Vec<String> = items_of(&core, "olga").await.into_iter().filter(|sk| sk.contains(petes_id)).collect();
    assert!(left.is_empty(), "the target keeps olga's part of a collection she left: {left:?}");
    let olgas = core.call(Method::GET, "/collections", Some(&after), None).await;
    assert_eq!(olgas.body["items"].as_array().unwrap().len(), 1, "{}", olgas.raw);
    assert_eq!(core.call(Method::GET, &format!("{collection}/members"), Some(&after), None).await.body["items"], json!([]));

    // Remove: everything, with the counts.
    let removed = tenant(&dir, &["remove", "olga", "--yes"]).expect_success("tenant remove");
    assert!(removed.stdout.contains("2 photos"), "{}", removed.stdout);
    assert!(!has_account(&core, "olga").await && items_of(&core, "olga").await.is_empty());
    assert!(!core.object_keys().await.iter().any(|key| key.starts_with("olga/")));

    basic.tear_down().await;
    core.tear_down().await;
}

#[tokio::test]
async fn a_dedicated_stack_for_one_tenant_is_deployed_listed_served_and_taken_down() {
    let aws = common::aws().await;
    let files = common::TierFiles::copy_of("FULL_PLATFORM_USER", "TENANT_SILO");
    // The longest tenant name allowed: every name of the stack still fits AWS's limits.
    let tenant_name = "acme-corporation-eu1";
    assert_eq!(tenant_name.len(), 20);
    let stack = format!("{}-{tenant_name}", files.stack_name());
    let up = files
        .deployer(&["up", "--tier", "TENANT_SILO", "--tenant", tenant_name, "--skip-build", "--analyzer", "local"])
        .expect_success("deployer up --tenant");
    let outputs = common::printed_outputs(&up.stdout);
    let bucket = &outputs["PhotoBucket"];
    assert!(bucket.starts_with(&format!("sa-{tenant_name}-")) && bucket.len() <= 63, "{bucket}");
    assert!(common::bucket_exists(&aws, bucket).await);
    let too_short = files.deployer(&["up", "--tier", "TENANT_SILO", "--tenant", "x"]);
    assert!(!too_short.success && too_short.stderr.contains("tenant name"), "{}", too_short.stderr);

    let status = files.deployer(&["status"]).expect_success("deployer status");
    assert!(status.stdout.contains(&format!("dedicated: {tenant_name}")) && status.stdout.contains(&stack), "{}", status.stdout);

    let created = files
        .deployer(&["tenant", "create", "ann", "--tier", "TENANT_SILO", "--stack", tenant_name, "--email", "ann@example.org"])
        .expect_success("tenant create --stack");
    let listed = json_of(&files.deployer(&["tenant", "list", "--json"]).expect_success("tenant list"));
    assert_eq!(listed[0]["stack"], stack.as_str(), "{listed}");
    assert_eq!(listed[0]["user_name"], "ann");

    // The runtime serves the dedicated stack from its functions' configuration.
    let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest()).endpoint_url(common::endpoint()).load().await;
    let config = aws_adapters::stack::from_deployed(&aws_sdk_lambda::Client::new(&sdk), &stack).await.unwrap();
    assert_eq!((config.stack_name.as_str(), config.photo_bucket.as_str()), (stack.as_str(), bucket.as_str()));
    let router = runtime::api::router(runtime::services::connect(config, &sdk).await.unwrap());
    let sign_in = axum::http::Request::post("/sessions")
        .header("content-type", "application/json")
        .body(axum::body::Body::from(json!({"user_name": "ann", "password": created.stdout.trim()}).to_string()))
        .unwrap();
    let answer = tower::ServiceExt::oneshot(router, sign_in).await.unwrap();
    assert_eq!(answer.status(), StatusCode::FORBIDDEN, "the one-time password is not asked to change");

    files
        .deployer(&["down", "--tier", "TENANT_SILO", "--tenant", tenant_name, "--purge", "--yes"])
        .expect_success("deployer down --tenant --purge");
    assert_eq!(common::stack_status(&aws, &stack).await, None);
    assert!(!common::bucket_exists(&aws, bucket).await);
    let gone = files.deployer(&["tenant", "create", "bob", "--tier", "TENANT_SILO", "--stack", tenant_name, "--email", "bob@example.org"]);
    assert!(!gone.success && gone.stderr.contains("is not deployed"), "{}", gone.stderr);
}

/// `tenant check` on a tenant damaged on purpose in every way it recounts: it reports each
/// drift (exit 1), `--repair` mends them (exit 0), and the user sees a consistent account.
#[tokio::test]
async fn tenant_check_finds_and_repairs_a_damaged_tenant() {
    let api = Api::deploy("CORE_USER", "TENANT_CHECK", &[]).await;
    let dir = stacks_dir(&[&api], None);
    let token = api.user("damaged").await;
    let group = api.upload(&token, "image/jpeg", fixture("sample2.jpg")).await;
    let cat = api.upload(&token, "image/png", fixture("chelsea.png")).await;
    let coffee = api.upload(&token, "image/png", fixture("coffee.png")).await;
    let poller = api.poller();
    api.analyse_all(&token, &poller).await;
    let clean = tenant(&dir, &["check", "damaged"]);
    assert!(clean.success, "a fresh tenant has no drift:\n{}\n{}", clean.stdout, clean.stderr);
    let before = seen_by_user(&api, &token).await;

    // The damage: an orphan object, a lost photo, a lost entry, an entry of no record, and
    // counters that say otherwise (the usage, and the place of sample2.jpg).
    let (table, bucket, db, s3) = (&api.config.images_table, &api.config.photo_bucket, &api.aws.dynamodb, &api.aws.s3);
    let orphan = format!("damaged/{}", ulid::Ulid::new());
    s3.put_object().bucket(bucket).key(&orphan).body(fixture("coffee.png").into()).send().await.unwrap();
    s3.delete_object().bucket(bucket).key(format!("damaged/{coffee}")).send().await.unwrap();
    let cat_entry = items_of(&api, "damaged").await.into_iter().find(|sk| sk.starts_with(&format!("image#{cat}#label#"))).unwrap();
    let key = |sk: &str| {
        [("pk", "damaged"), ("sk", sk)]
            .into_iter()
            .map(|(name, value)| (name.to_owned(), aws_sdk_dynamodb::types::AttributeValue::S(value.to_owned())))
            .collect::<std::collections::HashMap<_, _>>()
    };
    db.delete_item().table_name(table).set_key(Some(key(&cat_entry))).send().await.unwrap();
    let ghost_entry = format!("image#{}#label#ghost", ulid::Ulid::new());
    db.put_item().table_name(table).set_item(Some(key(&ghost_entry))).send().await.unwrap();
    db.update_item()
        .table_name(table)
        .set_key(Some(key("usage")))
        .update_expression("SET photos = :wrong")
        .expression_attribute_values(":wrong", aws_sdk_dynamodb::types::AttributeValue::N("99".into()))
        .send()
        .await
        .unwrap();

    let place_counter =
        items_of(&api, "damaged").await.into_iter().find(|sk| sk.starts_with("placecount#")).expect("sample2.jpg is placed");
    db.update_item()
        .table_name(table)
        .set_key(Some(key(&place_counter)))
        .update_expression("SET photos = :wrong")
        .expression_attribute_values(":wrong", aws_sdk_dynamodb::types::AttributeValue::N("7".into()))
        .send()
        .await
        .unwrap();

    let found = tenant(&dir, &["check", "damaged", "--json"]);
    assert!(!found.success, "drifts exit non-zero");
    let report = json_of(&found);
    let kinds: Vec<&str> = report["found"]["drifts"].as_array().unwrap().iter().map(|drift| drift["kind"].as_str().unwrap()).collect();
    for kind in ["orphan_object", "record_without_object", "missing_entry", "extra_item", "usage", "place"] {
        assert!(kinds.contains(&kind), "{kind} not reported: {}", found.stdout);
    }
    let text = tenant(&dir, &["check", "damaged"]);
    assert!(
        text.stdout.contains(&orphan) && text.stdout.contains(&coffee) && text.stdout.contains("usage says 99 photos"),
        "{}",
        text.stdout
    );

    let repaired = tenant(&dir, &["check", "damaged", "--repair"]);
    assert!(repaired.success, "{}\n{}", repaired.stdout, repaired.stderr);
    assert!(repaired.stdout.contains("0 left"), "{}", repaired.stdout);
    assert!(repaired.stderr.contains("\"audit\":\"tenant check --repair\""), "{}", repaired.stderr);
    assert!(tenant(&dir, &["check", "damaged"]).success, "nothing left after the repair");

    // The user sees the lost photo gone and every count agreeing with the photos left.
    let after = seen_by_user(&api, &token).await;
    assert_eq!(after.0, before.0 - 1);
    let shown = json_of(&tenant(&dir, &["show", "damaged", "--json"]));
    assert_eq!(shown["photos"], json!(after.0), "{shown}");
    assert_eq!(api.call(Method::GET, &format!("/images/{coffee}"), Some(&token), None).await.status, StatusCode::NOT_FOUND);
    let cat_labels = api.call(Method::GET, &format!("/images/{cat}"), Some(&token), None).await.body["labels"].clone();
    let label = cat_labels[0]["name"].as_str().unwrap().to_owned();
    let found =
        api.call(Method::GET, &format!("/images/search?label={}", label.replace(' ', "%20").replace(',', "%2C")), Some(&token), None).await;
    assert!(found.raw.contains(&cat), "the rewritten entry finds the photo again: {}", found.raw);
    assert!(api.object_keys().await.iter().all(|key| key != &orphan));
    assert_eq!(api.call(Method::GET, &format!("/images/{group}"), Some(&token), None).await.status, StatusCode::OK);
    let places = api.call(Method::GET, "/places", Some(&token), None).await;
    assert_eq!(places.body["countries"][0]["photo_count"], json!(1), "the place recounted: {}", places.raw);
    assert_eq!(places.body["countries"][0]["cover_image_id"], json!(group), "{}", places.raw);
    api.tear_down().await;
}
