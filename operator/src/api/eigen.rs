//! The EigenLayer AVS node API (AVS Node Specification v0.0.1) under `/eigen`: the node's
//! identity, its health as an HTTP status code, and its backing services — one per followed
//! rollup and one per aggregator — each with its own health.

use std::sync::Arc;

use axum::{
    Json, Router,
    extract::{Path, Request, State},
    http::StatusCode,
    middleware::{self, Next},
    response::{IntoResponse, Response},
    routing::get,
};
use serde::Serialize;

use super::NodeView;

/// The version of the AVS Node Specification this API follows.
pub const SPEC_VERSION: &str = "v0.0.1";
/// `node_name` in `GET /eigen/node`.
pub const NODE_NAME: &str = "surety-operator";

/// A backing service's status, as the specification names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum ServiceStatus {
    Up,
    Down,
    Initializing,
}

impl ServiceStatus {
    /// `GET /eigen/node/services/{id}/health`: 200 up, 206 initializing, 503 down.
    fn code(self) -> StatusCode {
        match self {
            Self::Up => StatusCode::OK,
            Self::Initializing => StatusCode::PARTIAL_CONTENT,
            Self::Down => StatusCode::SERVICE_UNAVAILABLE,
        }
    }
}

/// What a service is to the node, which decides how its status weighs on the node's health.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServiceKind {
    /// A followed rollup: its blocks are re-executed and (on a signing node) signed.
    Rollup,
    /// An aggregator the node's attestations are delivered to.
    Aggregator,
}

/// One backing service of the node, as `GET /eigen/node/services` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Service {
    pub id: String,
    pub name: String,
    pub description: String,
    pub status: ServiceStatus,
    #[serde(skip)]
    pub kind: ServiceKind,
}

/// The node's health, from its services.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeHealth {
    Healthy,
    /// Initializing, or some backing services are down.
    PartiallyHealthy,
    Unhealthy,
}

impl NodeHealth {
    /// Unhealthy when no rollup is followed and signed, or every aggregator is unreachable:
    /// the node then contributes nothing. Partially healthy when any service is down or still
    /// initializing. Healthy otherwise.
    pub fn of(services: &[Service]) -> Self {
        let all_down = |kind| {
            let mut of_kind = services.iter().filter(|s| s.kind == kind).peekable();
            of_kind.peek().is_some() && of_kind.all(|s| s.status == ServiceStatus::Down)
        };
        if all_down(ServiceKind::Rollup) || all_down(ServiceKind::Aggregator) {
            Self::Unhealthy
        } else if services.iter().any(|s| s.status != ServiceStatus::Up) {
            Self::PartiallyHealthy
        } else {
            Self::Healthy
        }
    }

    /// `GET /eigen/node/health`: 200, 206 or 503.
    pub fn code(self) -> StatusCode {
        match self {
            Self::Healthy => StatusCode::OK,
            Self::PartiallyHealthy => StatusCode::PARTIAL_CONTENT,
            Self::Unhealthy => StatusCode::SERVICE_UNAVAILABLE,
        }
    }
}

/// The routes under `/eigen`.
pub(super) fn router() -> Router<Arc<dyn NodeView>> {
    Router::new()
        .route("/node", get(node))
        .route("/node/health", get(health))
        .route("/node/services", get(services))
        .route("/node/services/{id}/health", get(service_health))
        .layer(middleware::from_fn(api_version))
}

#[derive(Serialize)]
struct Message {
    message: &'static str,
}

fn not_found(message: &'static str) -> Response {
    (StatusCode::NOT_FOUND, Json(Message { message })).into_response()
}

/// `?version=` may name the one version served (with or without its `v`); another is a 404.
async fn api_version(request: Request, next: Next) -> Response {
    let asked = request
        .uri()
        .query()
        .into_iter()
        .flat_map(|query| query.split('&'))
        .find_map(|pair| pair.strip_prefix("version="));
    match asked {
        Some(version) if version.trim_start_matches('v') != &SPEC_VERSION[1..] => {
            not_found("API version not found")
        }
        _ => next.run(request).await,
    }
}

#[derive(Serialize)]
struct NodeInfo {
    node_name: &'static str,
    spec_version: &'static str,
    node_version: String,
}

async fn node() -> Json<NodeInfo> {
    Json(NodeInfo {
        node_name: NODE_NAME,
        spec_version: SPEC_VERSION,
        node_version: format!("v{}", env!("CARGO_PKG_VERSION")),
    })
}

async fn health(State(view): State<Arc<dyn NodeView>>) -> StatusCode {
    NodeHealth::of(&view.services()).code()
}

#[derive(Serialize)]
struct Services {
    services: Vec<Service>,
}

async fn services(State(view): State<Arc<dyn NodeView>>) -> Json<Services> {
    Json(Services {
        services: view.services(),
    })
}

async fn service_health(State(view): State<Arc<dyn NodeView>>, Path(id): Path<String>) -> Response {
    match view.services().into_iter().find(|s| s.id == id) {
        Some(service) => service.status.code().into_response(),
        None => not_found("Service not found"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn service(kind: ServiceKind, status: ServiceStatus) -> Service {
        Service {
            id: String::new(),
            name: String::new(),
            description: String::new(),
            status,
            kind,
        }
    }

    #[test]
    fn node_health_follows_the_services() {
        use {NodeHealth::*, ServiceKind::*, ServiceStatus::*};
        let of = |services: &[(ServiceKind, ServiceStatus)]| {
            NodeHealth::of(
                &services
                    .iter()
                    .map(|&(k, s)| service(k, s))
                    .collect::<Vec<_>>(),
            )
        };
        assert_eq!(
            of(&[(Rollup, Up), (Aggregator, Up), (Aggregator, Up)]),
            Healthy
        );
        assert_eq!(of(&[(Rollup, Up)]), Healthy, "a verify-only node");
        assert_eq!(
            of(&[(Rollup, Up), (Aggregator, Up), (Aggregator, Down)]),
            PartiallyHealthy
        );
        assert_eq!(
            of(&[(Rollup, Initializing), (Aggregator, Up)]),
            PartiallyHealthy
        );
        assert_eq!(
            of(&[(Rollup, Up), (Rollup, Down), (Aggregator, Up)]),
            PartiallyHealthy
        );
        assert_eq!(of(&[(Rollup, Down), (Aggregator, Up)]), Unhealthy);
        assert_eq!(
            of(&[(Rollup, Up), (Aggregator, Down), (Aggregator, Down)]),
            Unhealthy
        );
    }
}
