//! The node's HTTP endpoint on its `http_addr`: Prometheus metrics at `/metrics`, its status as
//! JSON at `/status` (what `surety operator status` reads), and the EigenLayer AVS node API
//! under `/eigen` ([`eigen`]).

mod eigen;

pub use eigen::{NODE_NAME, NodeHealth, SPEC_VERSION, Service, ServiceKind, ServiceStatus};

use std::sync::Arc;

use axum::{
    Router,
    extract::State,
    http::{StatusCode, header},
    response::IntoResponse,
    routing::get,
};

use crate::node::NodeStatus;

/// What the endpoint shows of a running node; every request reads it afresh.
pub trait NodeView: Send + Sync + 'static {
    /// Every metric, in the Prometheus text exposition format.
    fn metrics(&self) -> String;
    /// What `GET /status` serves.
    fn status(&self) -> NodeStatus;
    /// The node's backing services and their status now.
    fn services(&self) -> Vec<Service>;
}

/// The endpoint's routes over `view`.
pub fn router(view: Arc<dyn NodeView>) -> Router {
    Router::new()
        .route("/metrics", get(metrics))
        .route("/status", get(status))
        .nest("/eigen", eigen::router())
        .fallback(|| async {
            (
                StatusCode::NOT_FOUND,
                "not found: try /metrics, /status or /eigen/node\n",
            )
        })
        .with_state(view)
}

/// Serves the endpoint on `listener` until the task is dropped.
pub async fn serve(listener: tokio::net::TcpListener, view: Arc<dyn NodeView>) {
    surety_primitives::http::serve(listener, router(view)).await;
}

async fn metrics(State(view): State<Arc<dyn NodeView>>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        view.metrics(),
    )
}

async fn status(State(view): State<Arc<dyn NodeView>>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "application/json")],
        serde_json::to_string_pretty(&view.status()).unwrap_or_default(),
    )
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use surety_testkit::http::get;

    use super::*;

    /// A node whose metrics and services the test sets.
    #[derive(Default)]
    struct Fixed {
        metrics: Mutex<String>,
        services: Mutex<Vec<Service>>,
    }

    impl NodeView for Fixed {
        fn metrics(&self) -> String {
            self.metrics.lock().unwrap().clone()
        }

        fn status(&self) -> NodeStatus {
            NodeStatus {
                public_key: Some("0xkey".into()),
                rollups: Vec::new(),
                aggregators: Vec::new(),
                watchtower: None,
            }
        }

        fn services(&self) -> Vec<Service> {
            self.services.lock().unwrap().clone()
        }
    }

    fn service(id: &str, kind: ServiceKind, status: ServiceStatus) -> Service {
        Service {
            id: id.into(),
            name: format!("{id} name"),
            description: format!("{id} description"),
            status,
            kind,
        }
    }

    async fn start(view: Arc<Fixed>) -> (std::net::SocketAddr, tokio::task::JoinHandle<()>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        (addr, tokio::spawn(serve(listener, view)))
    }

    #[tokio::test]
    async fn serves_metrics_status_and_nothing_else() {
        let view = Arc::new(Fixed::default());
        let (addr, server) = start(view.clone()).await;

        *view.metrics.lock().unwrap() = "surety_blocks_verified_total 42\n".into();
        assert_eq!(
            get(addr, "/metrics").await,
            (200, "surety_blocks_verified_total 42\n".into())
        );
        // Rendered per request, not once.
        *view.metrics.lock().unwrap() = "surety_blocks_verified_total 43\n".into();
        assert!(get(addr, "/metrics").await.1.contains("total 43"));

        let (code, body) = get(addr, "/status").await;
        assert_eq!(code, 200);
        let status: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(status["public_key"], "0xkey");

        assert_eq!(get(addr, "/").await.0, 404);
        assert_eq!(get(addr, "/eigen").await.0, 404);
        server.abort();
    }

    #[tokio::test]
    async fn serves_the_avs_node_api_by_its_spec() {
        use ServiceKind::*;
        use ServiceStatus::*;
        let view = Arc::new(Fixed::default());
        let (addr, server) = start(view.clone()).await;
        let set = |services: Vec<Service>| *view.services.lock().unwrap() = services;

        let (code, body) = get(addr, "/eigen/node").await;
        assert_eq!(code, 200);
        let node: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(node["node_name"], NODE_NAME);
        assert_eq!(node["spec_version"], "v0.0.1");
        assert_eq!(
            node["node_version"],
            format!("v{}", env!("CARGO_PKG_VERSION"))
        );
        assert_eq!(get(addr, "/eigen/node?version=0.0.1").await.0, 200);
        assert_eq!(
            get(addr, "/eigen/node?version=v9.9.9").await,
            (404, r#"{"message":"API version not found"}"#.into())
        );

        set(vec![
            service("rollup-1", Rollup, Up),
            service("aggregator-1", Aggregator, Up),
            service("aggregator-2", Aggregator, Initializing),
        ]);
        assert_eq!(get(addr, "/eigen/node/health").await.0, 206);
        let (code, body) = get(addr, "/eigen/node/services").await;
        assert_eq!(code, 200);
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&body).unwrap(),
            serde_json::json!({"services": [
                {"id": "rollup-1", "name": "rollup-1 name",
                 "description": "rollup-1 description", "status": "Up"},
                {"id": "aggregator-1", "name": "aggregator-1 name",
                 "description": "aggregator-1 description", "status": "Up"},
                {"id": "aggregator-2", "name": "aggregator-2 name",
                 "description": "aggregator-2 description", "status": "Initializing"},
            ]})
        );
        let health = |id: &str| {
            let path = format!("/eigen/node/services/{id}/health");
            async move { get(addr, &path).await }
        };
        assert_eq!(health("rollup-1").await.0, 200);
        assert_eq!(health("aggregator-2").await.0, 206);
        assert_eq!(health("nope").await.0, 404);

        set(vec![
            service("rollup-1", Rollup, Up),
            service("aggregator-1", Aggregator, Up),
            service("aggregator-2", Aggregator, Up),
        ]);
        assert_eq!(get(addr, "/eigen/node/health").await.0, 200);
        set(vec![
            service("rollup-1", Rollup, Down),
            service("aggregator-1", Aggregator, Up),
        ]);
        assert_eq!(get(addr, "/eigen/node/health").await.0, 503);
        assert_eq!(health("rollup-1").await.0, 503);
        server.abort();
    }
}
