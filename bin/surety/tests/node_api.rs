//! The EigenLayer AVS node API of a running operator node, end to end: a live devnet (real
//! anvil L1 and L2, two `surety aggregator run` and four `surety operator run` processes), real
//! HTTP requests to operator 1's `http_addr`, and real failures — an aggregator SIGKILLed, then
//! the L2's anvil SIGKILLed — that the node must report by the specification's status codes.

mod common;

use std::time::{Duration, Instant};

use alloy::{
    primitives::{Address, U256},
    transports::http::reqwest::{Client, StatusCode},
};
use common::{Devnet, SERIAL};
use serde_json::Value;
use surety_contracts::bindings::OperatorRegistry;

/// Long enough for the node's staleness window (15 s) and a devnet under load on two cores.
const WITHIN: Duration = Duration::from_secs(120);

struct Node {
    http: Client,
    base: String,
}

impl Node {
    async fn get(&self, path: &str) -> alloy::transports::http::reqwest::Response {
        self.http
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap()
    }

    async fn code(&self, path: &str) -> StatusCode {
        self.get(path).await.status()
    }

    async fn json(&self, path: &str) -> Value {
        let response = self.get(path).await;
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        response.json().await.unwrap()
    }

    async fn text(&self, path: &str) -> String {
        self.get(path).await.text().await.unwrap()
    }

    /// The service whose name contains `needle`, from `GET /eigen/node/services`.
    async fn service(&self, needle: &str) -> Value {
        let services = self.json("/eigen/node/services").await;
        services["services"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["name"].as_str().unwrap().contains(needle))
            .unwrap_or_else(|| panic!("no service named like {needle:?} in {services}"))
            .clone()
    }

    /// Waits until `GET /eigen/node/health` answers `code`.
    async fn wait_health(&self, code: StatusCode, devnet: &Devnet) {
        let deadline = Instant::now() + WITHIN;
        loop {
            let now = self.code("/eigen/node/health").await;
            if now == code {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "node health {now}, not {code}, after {WITHIN:?}; services: {}\n{}",
                self.json("/eigen/node/services").await,
                devnet.output()
            );
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_node_api_answers_by_its_spec() {
    let _serial = SERIAL.lock().await;
    let devnet = Devnet::start(&[]);
    let node = Node {
        http: Client::new(),
        base: devnet.operator(1)["http"].as_str().unwrap().to_owned(),
    };
    let aggregator = |index: usize| {
        devnet.manifest["aggregators"][index - 1]["grpc"]
            .as_str()
            .unwrap()
            .to_owned()
    };

    let identity = node.json("/eigen/node").await;
    assert_eq!(identity["node_name"], "surety-operator");
    assert_eq!(identity["spec_version"], "v0.0.1");
    assert!(
        identity["node_version"].as_str().unwrap().starts_with('v'),
        "{identity}"
    );
    assert_eq!(
        node.code("/eigen/node?version=v0.0.2").await,
        StatusCode::NOT_FOUND
    );

    // Healthy: following the L2, signing, delivering to both aggregators. `/status`, which
    // `surety operator status` reads, is still served beside the node API.
    let deadline = Instant::now() + WITHIN;
    while node.json("/status").await["rollups"][0]["signed_head"].as_u64() < Some(3) {
        assert!(
            Instant::now() < deadline,
            "nothing signed\n{}",
            devnet.output()
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    node.wait_health(StatusCode::OK, &devnet).await;
    let services = node.json("/eigen/node/services").await;
    let services = services["services"].as_array().unwrap();
    assert_eq!(services.len(), 3, "{services:?}");
    for service in services {
        assert_eq!(service["status"], "Up", "{service}");
        for field in ["id", "name", "description"] {
            assert!(service[field].is_string(), "{service}");
        }
    }
    assert_eq!(node.service("Rollup 1").await["id"], "rollup-1");
    assert_eq!(
        node.code("/eigen/node/services/rollup-1/health").await,
        StatusCode::OK
    );
    assert_eq!(
        node.code("/eigen/node/services/no-such-service/health")
            .await,
        StatusCode::NOT_FOUND
    );
    let metrics = node.text("/metrics").await;
    let score: u64 = metrics
        .lines()
        .find_map(|l| l.strip_prefix("eigen_performance_score "))
        .unwrap_or_else(|| panic!("no eigen_performance_score in\n{metrics}"))
        .parse()
        .unwrap();
    assert!(score > 0 && score <= 100, "score {score}");
    // The stake L1 holds for operator 1, as the spec's gauge (one quorum: Surety's operator set).
    let address: Address = devnet.operator(1)["address"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let registry = OperatorRegistry::new(devnet.deployment().surety.operator_registry, devnet.l1());
    let on_l1 = registry.stakeOf(address).call().await.unwrap();
    assert!(on_l1.active && on_l1.stake > U256::ZERO);
    assert!(
        metrics.contains(&format!(
            "\neigen_registered_stakes{{quorum_number=\"0\",quorum_name=\"surety\"}} {}\n",
            f64::from(on_l1.stake)
        )),
        "{metrics}"
    );
    assert!(
        metrics.contains("\nsurety_operator_active 1\n"),
        "{metrics}"
    );

    // One aggregator down: partially healthy, and that aggregator's service says so.
    devnet.kill_aggregator(2);
    node.wait_health(StatusCode::PARTIAL_CONTENT, &devnet).await;
    let down = node.service(&aggregator(2)).await;
    assert_eq!(down["status"], "Down", "{down}");
    assert_eq!(node.service(&aggregator(1)).await["status"], "Up");
    let id = down["id"].as_str().unwrap();
    assert_eq!(
        node.code(&format!("/eigen/node/services/{id}/health"))
            .await,
        StatusCode::SERVICE_UNAVAILABLE
    );
    assert_eq!(
        node.code("/eigen/node/services/rollup-1/health").await,
        StatusCode::OK
    );
    assert!(
        node.text("/metrics")
            .await
            .contains(&format!("surety_service_up{{service=\"{id}\"}} 0\n"))
    );

    // The L2 gone: the node is not following any more, so unhealthy.
    devnet.kill_l2();
    node.wait_health(StatusCode::SERVICE_UNAVAILABLE, &devnet)
        .await;
    assert_eq!(
        node.code("/eigen/node/services/rollup-1/health").await,
        StatusCode::SERVICE_UNAVAILABLE
    );
    assert_eq!(node.service("Rollup 1").await["status"], "Down");
    assert!(
        node.text("/metrics")
            .await
            .contains("\neigen_performance_score 0\n")
    );
}
