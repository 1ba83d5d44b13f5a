//! Counters of the re-execution engine, readable by the node's Prometheus endpoint.

use std::sync::atomic::{AtomicU64, Ordering};

/// Engine metrics (monotonic counters and gauges). Cheap to update from the hot path.
#[derive(Debug, Default)]
pub struct Metrics {
    /// Blocks whose computed state root matched the header.
    pub blocks_verified: AtomicU64,
    /// Gas executed in verified blocks.
    pub gas_verified: AtomicU64,
    /// Blocks whose header claimed a root re-execution did not produce.
    pub state_root_mismatches: AtomicU64,
    /// Reorgs handled by rolling the state back.
    pub reorgs: AtomicU64,
    /// Height of the locally verified head.
    pub verified_head: AtomicU64,
    /// Height of the endpoint's head as last seen.
    pub chain_head: AtomicU64,
    /// Highest height whose attestation is signed and queued for delivery.
    pub signed_head: AtomicU64,
    /// The head the rollup's finality policy allows signing at, as last seen.
    pub signable_head: AtomicU64,
    /// L2 RPC calls that failed transiently and were retried after a backoff.
    pub rpc_retries: AtomicU64,
    /// Undo journals, headers and evidence records deleted by pruning.
    pub pruned_undo: AtomicU64,
    pub pruned_headers: AtomicU64,
    pub pruned_evidence: AtomicU64,
    /// The height the store was last pruned at (0 before the first pass).
    pub pruned_height: AtomicU64,
}

impl Metrics {
    /// The metrics in the Prometheus text exposition format.
    pub fn render_prometheus(&self) -> String {
        let mut out = String::new();
        self.render_into("", &mut out);
        out
    }

    /// Appends the series with `labels` (e.g. `rollup="1"`, or empty) to `out`.
    pub fn render_into(&self, labels: &str, out: &mut String) {
        let series = [
            (
                "surety_blocks_verified_total",
                "counter",
                &self.blocks_verified,
            ),
            ("surety_gas_verified_total", "counter", &self.gas_verified),
            (
                "surety_state_root_mismatches_total",
                "counter",
                &self.state_root_mismatches,
            ),
            ("surety_reorgs_total", "counter", &self.reorgs),
            ("surety_verified_head", "gauge", &self.verified_head),
            ("surety_chain_head", "gauge", &self.chain_head),
            ("surety_signed_head", "gauge", &self.signed_head),
            ("surety_signable_head", "gauge", &self.signable_head),
            ("surety_rpc_retries_total", "counter", &self.rpc_retries),
            ("surety_pruned_undo_total", "counter", &self.pruned_undo),
            (
                "surety_pruned_headers_total",
                "counter",
                &self.pruned_headers,
            ),
            (
                "surety_pruned_evidence_total",
                "counter",
                &self.pruned_evidence,
            ),
            ("surety_pruned_height", "gauge", &self.pruned_height),
        ];
        for (name, kind, value) in series {
            let labels = if labels.is_empty() {
                String::new()
            } else {
                format!("{{{labels}}}")
            };
            out.push_str(&format!(
                "# TYPE {name} {kind}\n{name}{labels} {}\n",
                value.load(Ordering::Relaxed)
            ));
        }
    }
}

/// One HTTP answer of the node's endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub content_type: &'static str,
    pub body: String,
}

impl Response {
    /// Prometheus' text exposition format.
    pub fn prometheus(body: String) -> Self {
        Self {
            content_type: "text/plain; version=0.0.4",
            body,
        }
    }

    pub fn json(body: String) -> Self {
        Self {
            content_type: "application/json",
            body,
        }
    }
}

/// Serves `GET` requests on connections from `listener` until the task is dropped: `route`
/// renders the answer for a path on every request, `None` is a 404. A client that sends more
/// than 8 KiB of request head or stalls for 5 s is dropped.
pub async fn serve(
    listener: tokio::net::TcpListener,
    route: impl Fn(&str) -> Option<Response> + Send + Sync + 'static,
) {
    let render = std::sync::Arc::new(route);
    loop {
        let Ok((stream, peer)) = listener.accept().await else {
            continue;
        };
        let render = render.clone();
        tokio::spawn(async move {
            let scrape =
                tokio::time::timeout(std::time::Duration::from_secs(5), respond(stream, &*render));
            if let Ok(Err(error)) = scrape.await {
                tracing::debug!(%peer, %error, "metrics scrape failed");
            }
        });
    }
}

async fn respond(
    mut stream: tokio::net::TcpStream,
    route: impl Fn(&str) -> Option<Response>,
) -> std::io::Result<()> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut head = Vec::with_capacity(512);
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = stream.read(&mut buf).await?;
        if n == 0 || head.len() + n > 8 * 1024 {
            return Ok(());
        }
        head.extend_from_slice(&buf[..n]);
    }
    let request = String::from_utf8_lossy(&head);
    let path = request
        .strip_prefix("GET ")
        .and_then(|rest| rest.split([' ', '?']).next());
    let (status, response) = match path.and_then(route) {
        Some(response) => ("200 OK", response),
        None => (
            "404 Not Found",
            Response {
                content_type: "text/plain",
                body: "not found: try /metrics or /status\n".to_owned(),
            },
        ),
    };
    let response = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {}\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n{}",
        response.content_type,
        response.body.len(),
        response.body
    );
    stream.write_all(response.as_bytes()).await?;
    stream.shutdown().await
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    async fn get(addr: std::net::SocketAddr, path: &str) -> String {
        let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
        stream
            .write_all(format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes())
            .await
            .unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).await.unwrap();
        response
    }

    #[tokio::test]
    async fn serves_live_metrics_and_nothing_else() {
        let metrics = std::sync::Arc::new(Metrics::default());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let rendered = metrics.clone();
        let server = tokio::spawn(serve(listener, move |path| {
            (path == "/metrics").then(|| Response::prometheus(rendered.render_prometheus()))
        }));

        metrics.blocks_verified.store(42, Ordering::Relaxed);
        let response = get(addr, "/metrics").await;
        assert!(response.starts_with("HTTP/1.1 200 OK\r\n"), "{response}");
        assert!(
            response.contains("\nsurety_blocks_verified_total 42\n"),
            "{response}"
        );

        // Rendered per scrape, not once.
        metrics.blocks_verified.store(43, Ordering::Relaxed);
        assert!(
            get(addr, "/metrics")
                .await
                .contains("surety_blocks_verified_total 43")
        );

        assert!(
            get(addr, "/")
                .await
                .starts_with("HTTP/1.1 404 Not Found\r\n")
        );
        server.abort();
    }
}
