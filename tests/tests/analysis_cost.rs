//! What analysing one photo asks of DynamoDB, on a stack with every feature (labels, faces,
//! text): page.png (a page of text) and sample5.jpg (five faces). Calls, items and bytes are
//! counted under the SDK (`common::traffic`) and printed (docs/figures.md quotes them); what
//! the design promises is asserted: the analysis reads the photo's record once and writes it
//! once, and the photo is then ready and found by what was found in it.

mod common;

use std::collections::BTreeMap;

use axum::http::Method;
use common::api::{Api, fixture};
use common::traffic::{Call, Traffic};

/// The calls of one analysis, summed up.
struct Cost {
    calls: BTreeMap<String, usize>,
    items_written: usize,
    bytes_written: usize,
    record_reads: usize,
    record_writes: usize,
}

impl Cost {
    fn of(calls: &[Call], record_sk: &str) -> Self {
        let mut by_operation = BTreeMap::new();
        for call in calls {
            *by_operation.entry(call.operation.clone()).or_insert(0) += 1;
        }
        Self {
            calls: by_operation,
            items_written: calls.iter().map(Call::items_written).sum(),
            bytes_written: calls.iter().filter(|call| call.is_write()).map(|call| call.bytes).sum(),
            record_reads: calls.iter().filter(|call| call.reads(record_sk)).count(),
            record_writes: calls.iter().filter(|call| call.written_sort_keys().contains(&record_sk)).count(),
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn analysing_a_photo_reads_its_record_once_and_writes_it_once() {
    let api = Api::deploy("FULL_PLATFORM_USER", "ANALYSIS_COST", &[]).await;
    let traffic = Traffic::new(aws_smithy_http_client::Builder::new().build_http());
    let counted = api.sdk.to_builder().http_client(traffic.clone()).build();
    let api = api.reconnect(counted).await;
    let token = api.user("counted").await;
    let poller = api.poller();
    let people = std::fs::read(common::repo_root().join("tests/fixtures/people/sample5.jpg")).unwrap();

    // The search each photo must then answer: a word of the page, a person of the group.
    for (name, content_type, bytes, found_by) in
        [("page.png", "image/png", fixture("page.png"), Some("text=segmentation")), ("sample5.jpg", "image/jpeg", people, None)]
    {
        let uploaded = api.call_raw(Method::POST, "/images", Some(&token), content_type, bytes).await;
        let id = uploaded.body["id"].as_str().expect("an id").to_owned();
        traffic.take();
        let mut analysed = 0;
        for _ in 0..30 {
            analysed += poller.poll_once().await.unwrap();
            if analysed > 0 {
                break;
            }
        }
        assert_eq!(analysed, 1, "{name} was not analysed");
        let cost = Cost::of(&traffic.take(), &format!("image#{id}"));
        eprintln!(
            "analysis of {name}: DynamoDB calls {:?}; {} items written, {} bytes written; the record read {} times, written {} times",
            cost.calls, cost.items_written, cost.bytes_written, cost.record_reads, cost.record_writes
        );

        let image = api.call(Method::GET, &format!("/images/{id}"), Some(&token), None).await;
        assert_eq!(image.body["status"], "ready", "{}", image.raw);
        let found_by = match found_by {
            Some(terms) => terms.to_owned(),
            None => format!("person={}", image.body["faces"][0]["person_id"].as_str().expect("a grouped face")),
        };
        let found = api.call(Method::GET, &format!("/images/search?{found_by}"), Some(&token), None).await;
        assert!(found.raw.contains(&id), "{name} is not found by {found_by}: {}", found.raw);
        assert_eq!(cost.record_reads, 1, "{name}: the record is read once");
        assert_eq!(cost.record_writes, 1, "{name}: the record is written once");
    }
    api.tear_down().await;
}
