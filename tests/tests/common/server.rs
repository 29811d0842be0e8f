//! `smart-album serve` as a process, the way `make up` runs it.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use axum::http::{Method, StatusCode};

use super::api::http;

/// `smart-album serve`, stopped when dropped.
pub struct Server {
    child: Child,
    pub url: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.child.kill().ok();
        self.child.wait().ok();
    }
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

pub async fn serve(tier: &str) -> Server {
    let port = free_port();
    let child = Command::new(super::deployer_binary().with_file_name("smart-album"))
        .args(["serve", "--tier", tier, "--port", &port.to_string(), "--engine", "builtin"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let server = Server { child, url: format!("http://127.0.0.1:{port}") };
    let started = Instant::now();
    loop {
        if let Ok(stream) = std::net::TcpStream::connect(("127.0.0.1", port)) {
            drop(stream);
            let (status, _) = http(Method::GET, &format!("{}/health", server.url), &[], Vec::new()).await;
            if status == StatusCode::OK {
                return server;
            }
        }
        assert!(started.elapsed() < Duration::from_secs(60), "smart-album serve did not answer /health within 60 s");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
