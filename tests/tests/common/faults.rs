//! Faults injected under the AWS SDK: an HTTP client that answers a chosen share of the calls
//! to chosen services itself, with a 500, a 503 (S3's "slow down" throttling) or a timeout,
//! instead of sending them. Nothing reaches the service, so the fault is what AWS does on a bad
//! day before it applies anything; the SDK's own retry classification sees it as it would see
//! AWS's answer, and our code sees what gets through the retries.
//!
//! (An SDK interceptor can fail a call, but not answer it in the service's place: its errors
//! skip the retry classifier, which would test a client no one runs.)

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_runtime_api::http::{Response, StatusCode};
use aws_smithy_types::body::SdkBody;

/// What was injected, by kind, and how many calls were seen.
#[derive(Debug, Default)]
pub struct FaultCounts {
    pub calls: AtomicU64,
    pub server_errors: AtomicU64,
    pub throttles: AtomicU64,
    pub timeouts: AtomicU64,
}

impl FaultCounts {
    pub fn injected(&self) -> u64 {
        self.server_errors.load(Ordering::Relaxed) + self.throttles.load(Ordering::Relaxed) + self.timeouts.load(Ordering::Relaxed)
    }
}

#[derive(Debug)]
struct Plan {
    /// Per million calls.
    share_ppm: u64,
    services: Vec<&'static str>,
    on: AtomicBool,
    /// xorshift state: the same sequence of draws each run (the order of calls varies).
    state: AtomicU64,
    counts: Arc<FaultCounts>,
}

/// The SDK's HTTP client with faults; `set_on(false)` lets every call through.
#[derive(Debug, Clone)]
pub struct Faults {
    inner: SharedHttpClient,
    plan: Arc<Plan>,
}

impl Faults {
    /// Fails `share` (0..1) of the calls to `services` (signing names: "s3", "dynamodb", "sns",
    /// "sqs"), on top of `inner`.
    pub fn new(inner: SharedHttpClient, share: f64, services: &[&'static str], seed: u64) -> Self {
        let plan = Plan {
            share_ppm: (share * 1e6) as u64,
            services: services.to_vec(),
            on: AtomicBool::new(true),
            state: AtomicU64::new(seed.max(1)),
            counts: Arc::default(),
        };
        Self { inner, plan: Arc::new(plan) }
    }

    pub fn counts(&self) -> Arc<FaultCounts> {
        self.plan.counts.clone()
    }

    pub fn set_on(&self, on: bool) {
        self.plan.on.store(on, Ordering::SeqCst);
    }
}

impl Plan {
    fn draw(&self) -> u64 {
        let mut next = 0;
        self.state
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |mut x| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                next = x;
                Some(x)
            })
            .ok();
        next
    }
}

/// The service a request is signed for: the third part of SigV4's credential scope.
fn service_of(request: &HttpRequest) -> Option<&str> {
    let authorization = request.headers().get("authorization")?;
    let scope = authorization.split("Credential=").nth(1)?.split([',', ' ']).next()?;
    scope.split('/').nth(3)
}

impl HttpClient for Faults {
    fn http_connector(&self, settings: &HttpConnectorSettings, components: &RuntimeComponents) -> SharedHttpConnector {
        SharedHttpConnector::new(FaultyConnector { inner: self.inner.http_connector(settings, components), plan: self.plan.clone() })
    }
}

#[derive(Debug)]
struct FaultyConnector {
    inner: SharedHttpConnector,
    plan: Arc<Plan>,
}

impl HttpConnector for FaultyConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let plan = &self.plan;
        let chosen = service_of(&request).is_some_and(|service| plan.services.contains(&service));
        if chosen && plan.on.load(Ordering::SeqCst) {
            plan.counts.calls.fetch_add(1, Ordering::Relaxed);
            let draw = plan.draw();
            if draw % 1_000_000 < plan.share_ppm {
                let answer = |status: u16, body: &'static str| {
                    Ok(Response::new(StatusCode::try_from(status).expect("a status"), SdkBody::from(body)))
                };
                return HttpConnectorFuture::ready(match (draw / 1_000_000) % 3 {
                    0 => {
                        plan.counts.server_errors.fetch_add(1, Ordering::Relaxed);
                        answer(500, "")
                    }
                    1 => {
                        plan.counts.throttles.fetch_add(1, Ordering::Relaxed);
                        answer(503, "<Error><Code>SlowDown</Code><Message>injected</Message></Error>")
                    }
                    _ => {
                        plan.counts.timeouts.fetch_add(1, Ordering::Relaxed);
                        Err(ConnectorError::timeout("injected timeout".into()))
                    }
                });
            }
        }
        self.inner.call(request)
    }
}
