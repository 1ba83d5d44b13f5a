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
}

impl Metrics {
    /// The metrics in the Prometheus text exposition format.
    pub fn render_prometheus(&self) -> String {
        let counters = [
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
        ];
        let mut out = String::new();
        for (name, kind, value) in counters {
            out.push_str(&format!(
                "# TYPE {name} {kind}\n{name} {}\n",
                value.load(Ordering::Relaxed)
            ));
        }
        out
    }
}

/// Serves `GET /metrics` in the Prometheus text format, rendered by `render` on every scrape,
/// on connections from `listener` until the task is dropped. Anything else gets a 404; a client
/// that sends more than 8 KiB of request head or stalls for 5 s is dropped.
pub async fn serve(
    listener: tokio::net::TcpListener,
    render: impl Fn() -> String + Send + Sync + 'static,
) {
    let render = std::sync::Arc::new(render);
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
    render: impl Fn() -> String,
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
    let scrape = head.starts_with(b"GET /metrics ") || head.starts_with(b"GET /metrics?");
    let (status, body) = if scrape {
        ("200 OK", render())
    } else {
        ("404 Not Found", "not found: try /metrics\n".to_owned())
    };
    let response = format!(
        "HTTP/1.1 {status}\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n{body}",
        body.len()
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
        let server = tokio::spawn(serve(listener, move || rendered.render_prometheus()));

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
