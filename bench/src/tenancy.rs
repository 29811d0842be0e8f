//! What tenant-scoped credentials cost (docs/security.md): the same point read of a tenant's
//! partition with the process's own credentials and with the tenant's, the first request of a
//! tenant in a process (its role assumed) and warm ones, and how often STS is asked.
//!
//! On the emulator STS answers in microseconds; on AWS the first request of a tenant adds one
//! `AssumeRole` round trip (tens of milliseconds). The warm figure and the STS count hold there.

use std::time::Instant;

use anyhow::Result;
use aws_adapters::{DynamoImages, TenantAccess};
use aws_config::SdkConfig;
use domain::{ImageId, ImageStore, Tenancy, UserName};
use runtime::config::StackConfig;

use crate::figures::Report;
use crate::stats::{median, percentile};

const TENANTS: usize = 10;
const REQUESTS_PER_TENANT: usize = 100;

pub async fn measure(report: &mut Report, aws: &SdkConfig, config: &StackConfig) -> Result<()> {
    let access = TenantAccess::of_stack(config, aws)?;
    let own = DynamoImages::new(aws_sdk_dynamodb::Client::new(aws), &config.images_table);
    let (mut first, mut warm, mut unscoped) = (Vec::new(), Vec::new(), Vec::new());
    for tenant in 0..TENANTS {
        let user = UserName::parse(&format!("bench-tenancy-{tenant}"))?;
        for request in 0..REQUESTS_PER_TENANT {
            let started = Instant::now();
            own.get(&user, ImageId::new()).await?;
            unscoped.push(started.elapsed().as_secs_f64() * 1e3);
            let started = Instant::now();
            access.data_of(&user).await?.images.get(&user, ImageId::new()).await?;
            let took = started.elapsed().as_secs_f64() * 1e3;
            if request == 0 { first.push(took) } else { warm.push(took) }
        }
    }
    let requests = (TENANTS * REQUESTS_PER_TENANT) as f64;
    let what = format!("{TENANTS} tenants x {REQUESTS_PER_TENANT} GetItems of their partition");
    report.add(
        "tenancy.first_request_ms",
        median(&first),
        "ms",
        format!("a tenant's first request in a process: role assumed, clients made ({what}, median)"),
    );
    report.add("tenancy.warm_ms", median(&warm), "ms", format!("a warm request with the tenant's credentials ({what}, median)"));
    report.add("tenancy.warm_p99_ms", percentile(&warm, 99.0), "ms", "the same, 99th percentile");
    report.add("tenancy.unscoped_ms", median(&unscoped), "ms", "the same GetItem with the process's own credentials (median)");
    report.add(
        "tenancy.warm_added_ms",
        median(&warm) - median(&unscoped),
        "ms",
        "what tenant-scoped credentials add to a warm request (medians' difference)",
    );
    // The per-tenant limiter: one conditional UpdateItem per signed-in request, timed alone.
    if let Some(limits) = &config.settings.requests {
        let user = UserName::parse("bench-tenancy-limiter")?;
        let account = access.data_of(&user).await?.account;
        let mut admissions = Vec::new();
        for _ in 0..REQUESTS_PER_TENANT {
            let started = Instant::now();
            account.admit_request(&user, limits, time::OffsetDateTime::now_utc()).await?;
            admissions.push(started.elapsed().as_secs_f64() * 1e3);
        }
        report.add(
            "limiter.admission_ms",
            median(&admissions),
            "ms",
            format!("what the per-tenant limiter adds to a request: its one conditional UpdateItem (median of {REQUESTS_PER_TENANT})"),
        );
    }
    report.add(
        "tenancy.sts_calls_per_1000_requests",
        access.roles_assumed() as f64 * 1000.0 / requests,
        "calls",
        format!("STS AssumeRole calls per 1,000 requests ({what}; credentials renewed 20 minutes before their hour ends)"),
    );
    Ok(())
}
