//! How Surety's services serve their HTTP endpoint (metrics, status, the node API, the status
//! page): an axum router on hyper's HTTP/1, with a deadline on each request head, so a client
//! that connects and says nothing cannot hold a connection, and a task, for ever.

use std::time::Duration;

use axum::Router;
use hyper_util::{
    rt::{TokioIo, TokioTimer},
    service::TowerToHyperService,
};
use tokio::net::TcpListener;

/// A client that has not sent a request head this long after connecting (or after its last
/// response) is dropped.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(5);

/// Serves `router` on connections from `listener` until the task is dropped.
pub async fn serve(listener: TcpListener, router: Router) {
    let service = TowerToHyperService::new(router);
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(error) => {
                // Out of file descriptors, most likely: let connections close before retrying.
                tracing::warn!(%error, "HTTP endpoint cannot accept connections");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let service = service.clone();
        tokio::spawn(async move {
            let connection = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(HEADER_READ_TIMEOUT)
                .serve_connection(TokioIo::new(stream), service);
            if let Err(error) = connection.await {
                tracing::debug!(%peer, %error, "HTTP connection failed");
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use axum::routing::get;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;

    #[tokio::test]
    async fn answers_and_drops_a_client_that_never_sends_a_request() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(serve(
            listener,
            Router::new().route("/", get(|| async { "up" })),
        ));

        let mut client = tokio::net::TcpStream::connect(addr).await.unwrap();
        client
            .write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .await
            .unwrap();
        let mut response = String::new();
        client.read_to_string(&mut response).await.unwrap();
        assert!(response.starts_with("HTTP/1.1 200"), "{response}");
        assert!(response.ends_with("up"), "{response}");

        let mut idle = tokio::net::TcpStream::connect(addr).await.unwrap();
        let mut buf = Vec::new();
        // The server closes the connection (EOF) instead of waiting for ever.
        idle.read_to_end(&mut buf).await.unwrap();
        assert!(buf.is_empty() || String::from_utf8_lossy(&buf).contains("408"));
        server.abort();
    }
}
