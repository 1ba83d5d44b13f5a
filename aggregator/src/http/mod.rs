//! The aggregator's HTTP endpoint (axum): `GET /metrics` (Prometheus), `GET /status` (JSON), and
//! the live status page — `GET /` serves one embedded HTML file, which follows `GET /events`, a
//! server-sent event stream carrying a fresh [`page`] snapshot whenever the observer takes one.

mod page;

use std::{convert::Infallible, sync::Arc, time::Duration};

use axum::{
    Json, Router,
    extract::State,
    http::{StatusCode, header},
    response::{
        Html, IntoResponse,
        sse::{Event, KeepAlive, Sse},
    },
    routing::get,
};
use tokio::net::TcpListener;
use tokio_stream::{Stream, StreamExt, wrappers::WatchStream};

pub(crate) use page::Observer;
use page::Snapshots;

use crate::Shared;

/// The status page: markup, style and script in one file, no build step, no external assets.
const PAGE: &str = include_str!("page.html");

#[derive(Clone)]
struct AppState {
    shared: Arc<Shared>,
    /// Every `/events` client subscribes to it.
    page: Snapshots,
}

fn router(shared: Arc<Shared>, page: Snapshots) -> Router {
    Router::new()
        .route("/", get(|| async { Html(PAGE) }))
        .route("/events", get(events))
        .route("/metrics", get(metrics))
        .route("/status", get(status))
        .fallback(|| async {
            (
                StatusCode::NOT_FOUND,
                "try / (status page), /status, /metrics or /events\n",
            )
        })
        .with_state(AppState { shared, page })
}

/// Serves the endpoint on `listener` until the task is dropped.
pub(crate) async fn serve(listener: TcpListener, shared: Arc<Shared>, page: Snapshots) {
    surety_primitives::http::serve(listener, router(shared, page)).await;
}

async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.shared.metrics.render(),
    )
}

async fn status(State(state): State<AppState>) -> Json<crate::Status> {
    Json(state.shared.status())
}

/// The current snapshot at once, then each new one; a comment every 15 s keeps idle proxies
/// from closing the stream.
async fn events(
    State(state): State<AppState>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let snapshots = WatchStream::new(state.page.subscribe())
        .map(|json| Ok(Event::default().event("snapshot").data(&*json)));
    Sse::new(snapshots).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;

    use tokio::{
        io::{AsyncReadExt, AsyncWriteExt},
        sync::watch,
    };

    use super::*;
    use crate::store::Store;

    async fn get(addr: SocketAddr, path: &str) -> String {
        let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
        let request = format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).await.unwrap();
        response
    }

    /// Reads `stream` until what it sent so far contains `needle`.
    async fn read_until(stream: &mut tokio::net::TcpStream, seen: &mut String, needle: &str) {
        let mut buf = [0u8; 4096];
        while !seen.contains(needle) {
            let n = tokio::time::timeout(Duration::from_secs(30), stream.read(&mut buf))
                .await
                .expect("the event stream went silent")
                .unwrap();
            assert!(n > 0, "the event stream closed; got {seen}");
            seen.push_str(&String::from_utf8_lossy(&buf[..n]));
        }
    }

    #[tokio::test]
    async fn serves_the_page_status_metrics_and_a_live_event_stream() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("aggregator.redb")).unwrap();
        let shared = Arc::new(Shared::for_tests(store));
        shared
            .metrics
            .accepted
            .store(7, std::sync::atomic::Ordering::Relaxed);
        let page = Arc::new(watch::Sender::new(Arc::from(r#"{"l1_block":5}"#)));
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(serve(listener, shared, page.clone()));

        let html = get(addr, "/").await;
        assert!(html.starts_with("HTTP/1.1 200 OK"), "{html}");
        assert!(html.contains("content-type: text/html"), "{html}");
        assert!(html.contains(r#"new EventSource("events")"#));

        let status = get(addr, "/status").await;
        assert!(
            status.contains("content-type: application/json"),
            "{status}"
        );
        let body: serde_json::Value =
            serde_json::from_str(status.split("\r\n\r\n").nth(1).unwrap()).unwrap();
        assert_eq!(body["l1_block"], 0);
        assert!(body["rollups"].as_array().unwrap().is_empty());

        let metrics = get(addr, "/metrics").await;
        assert!(
            metrics.contains("surety_aggregator_accepted_total 7"),
            "{metrics}"
        );
        assert!(get(addr, "/nope").await.starts_with("HTTP/1.1 404"));

        // The stream starts with the current snapshot and carries each new one.
        let mut events = tokio::net::TcpStream::connect(addr).await.unwrap();
        events
            .write_all(b"GET /events HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .unwrap();
        let mut seen = String::new();
        read_until(&mut events, &mut seen, r#"data: {"l1_block":5}"#).await;
        assert!(seen.contains("content-type: text/event-stream"), "{seen}");
        assert!(seen.contains("event: snapshot"), "{seen}");
        assert_eq!(page.receiver_count(), 1);
        page.send_replace(Arc::from(r#"{"l1_block":6}"#));
        read_until(&mut events, &mut seen, r#"data: {"l1_block":6}"#).await;
        server.abort();
    }
}
