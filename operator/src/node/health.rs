//! What the node's HTTP endpoint shows of it ([`NodeApi`]): its metrics, its status, and the
//! health of its services for the EigenLayer node API, judged by the rules below.
//!
//! A **rollup** is `Down` when the node is not following it, or not signing it:
//! - its follower refused a block (a state-root mismatch or an invalid block) and stopped;
//! - its L2 RPC has not answered for the staleness window;
//! - its verified head is below the L2's head and has not moved for the window;
//! - (signing nodes) verified blocks are signable but the signed head has not moved for the
//!   window.
//!
//! It is `Initializing` until its L2 RPC first answers (within the window of the start).
//! An **aggregator** is `Down` when every attempt to reach it (connect or deliver) has failed
//! for the window, `Initializing` until it first answers, `Up` otherwise.
//!
//! The window is 15 s, or four poll intervals if longer: a healthy node hears from its L2 every
//! poll interval and from its aggregators every block.

use std::{sync::Arc, time::Duration};

use crate::{
    api::{NodeView, Service, ServiceKind, ServiceStatus},
    metrics::{Exposition, Kind, unix_now},
};

use super::{NodeStatus, RollupRuntime, SigningRuntime, status};

/// The shortest staleness window.
const MIN_STALE_AFTER: Duration = Duration::from_secs(15);
/// Heights over which `eigen_performance_score` is measured.
const SCORE_WINDOW: u64 = 100;

/// The node as its HTTP endpoint shows it.
pub(super) struct NodeApi {
    rollups: Arc<Vec<RollupRuntime>>,
    signing: Option<Arc<SigningRuntime>>,
    /// Unix seconds the node started at.
    started: u64,
    /// The staleness window, in seconds.
    stale_after: u64,
}

impl NodeApi {
    pub(super) fn new(
        rollups: Arc<Vec<RollupRuntime>>,
        signing: Option<Arc<SigningRuntime>>,
        poll_interval: Duration,
    ) -> Self {
        Self {
            rollups,
            signing,
            started: unix_now(),
            stale_after: MIN_STALE_AFTER.max(poll_interval * 4).as_secs(),
        }
    }

    fn clock(&self) -> Clock {
        Clock {
            now: unix_now(),
            started: self.started,
            stale_after: self.stale_after,
        }
    }

    fn probe(&self, rollup: &RollupRuntime) -> RollupProbe {
        use std::sync::atomic::Ordering::Relaxed;
        let m = &rollup.metrics;
        RollupProbe {
            refused_height: m.refused_height.load(Relaxed),
            l2_response_at: m.l2_response_at.load(Relaxed),
            chain_head: m.chain_head.load(Relaxed),
            verified_head: m.verified_head.load(Relaxed),
            verified_at: m.verified_at.load(Relaxed),
            signing: self.signing.as_ref().map(|signing| SigningProbe {
                sign_from: rollup.sign_from,
                signable_head: m.signable_head.load(Relaxed),
                signed_head: m.signed_head.load(Relaxed),
                signed_at: m.signed_at.load(Relaxed),
                delivered_head: signing
                    .aggregators
                    .iter()
                    .map(|(_, d)| d.delivered_head(rollup.spec.id))
                    .max()
                    .unwrap_or(0),
            }),
        }
    }

    /// Every service with its status, and the performance score over the rollups.
    fn assess(&self) -> (Vec<Service>, u64) {
        use std::sync::atomic::Ordering::Relaxed;
        let clock = self.clock();
        let mut services = Vec::new();
        let mut score = 0;
        for rollup in self.rollups.iter() {
            let probe = self.probe(rollup);
            let status = probe.status(&clock);
            score += probe.score(status);
            let id = rollup.spec.id;
            services.push(Service {
                id: format!("rollup-{id}"),
                name: format!("Rollup {id}"),
                description: if probe.signing.is_some() {
                    format!(
                        "Follows rollup {id}, re-executes its blocks and signs the verified ones"
                    )
                } else {
                    format!("Follows rollup {id} and re-executes its blocks")
                },
                status,
                kind: ServiceKind::Rollup,
            });
        }
        let score = score.checked_div(self.rollups.len() as u64).unwrap_or(0);
        for (index, (url, delivery)) in self.signing.iter().flat_map(|s| &s.aggregators).enumerate()
        {
            services.push(Service {
                id: format!("aggregator-{}", index + 1),
                name: format!("Aggregator {url}"),
                description: format!("Receives this node's attestations over gRPC at {url}"),
                status: aggregator_status(
                    delivery.answered.load(Relaxed),
                    delivery.failing_since.load(Relaxed),
                    &clock,
                ),
                kind: ServiceKind::Aggregator,
            });
        }
        (services, score)
    }
}

impl NodeView for NodeApi {
    fn metrics(&self) -> String {
        let mut out = Exposition::default();
        for rollup in self.rollups.iter() {
            rollup.metrics.render_into(rollup.spec.id, &mut out);
        }
        if let Some(signing) = &self.signing {
            for (url, metrics) in &signing.aggregators {
                metrics.render(url, &mut out);
            }
            if let Some(watchtower) = &signing.watchtower {
                watchtower.render_into(&mut out);
            }
            signing.stake.render_into(&mut out);
        }
        let (services, score) = self.assess();
        for service in &services {
            out.sample(
                "surety_service_up",
                Kind::Gauge,
                &[("service", &service.id)],
                u8::from(service.status == ServiceStatus::Up),
            );
        }
        out.sample("eigen_performance_score", Kind::Gauge, &[], score);
        let mut text = out.finish();
        if let Some(signing) = &self.signing {
            signing.signer.metrics().snapshot().render_into(&mut text);
        }
        text
    }

    fn status(&self) -> NodeStatus {
        status(&self.rollups, self.signing.as_deref())
    }

    fn services(&self) -> Vec<Service> {
        self.assess().0
    }
}

/// The time a status is judged at.
#[derive(Debug, Clone, Copy)]
struct Clock {
    now: u64,
    started: u64,
    stale_after: u64,
}

impl Clock {
    /// Whether `at` (Unix seconds; 0 for never, which counts from the start) is a window ago.
    fn stale(&self, at: u64) -> bool {
        self.now.saturating_sub(at.max(self.started)) >= self.stale_after
    }
}

/// One rollup's progress, read from its metrics.
#[derive(Debug, Clone, Copy, Default)]
struct RollupProbe {
    refused_height: u64,
    l2_response_at: u64,
    chain_head: u64,
    verified_head: u64,
    verified_at: u64,
    signing: Option<SigningProbe>,
}

#[derive(Debug, Clone, Copy, Default)]
struct SigningProbe {
    /// The first height worth signing (above the L1-certified head at start).
    sign_from: u64,
    signable_head: u64,
    signed_head: u64,
    signed_at: u64,
    /// The highest height an aggregator accepted.
    delivered_head: u64,
}

impl RollupProbe {
    fn status(&self, clock: &Clock) -> ServiceStatus {
        if self.refused_height != 0 {
            return ServiceStatus::Down;
        }
        if self.l2_response_at == 0 {
            return if clock.stale(0) {
                ServiceStatus::Down
            } else {
                ServiceStatus::Initializing
            };
        }
        let not_following = clock.stale(self.l2_response_at)
            || (self.verified_head < self.chain_head && clock.stale(self.verified_at));
        let not_signing = self.signing.is_some_and(|s| {
            let signable = self.verified_head.min(s.signable_head);
            signable >= s.sign_from.max(s.signed_head + 1) && clock.stale(s.signed_at)
        });
        if not_following || not_signing {
            ServiceStatus::Down
        } else {
            ServiceStatus::Up
        }
    }

    /// 0–100: the share of the last [`SCORE_WINDOW`] heights the node is allowed to sign that an
    /// aggregator has accepted its attestation for (a verify-only node: of the L2's last heights,
    /// those it verified); 0 while the rollup is down. Heights certified before the node started
    /// count as done. Delivery is in order, so this is how far the delivered head trails.
    fn score(&self, status: ServiceStatus) -> u64 {
        if status == ServiceStatus::Down {
            return 0;
        }
        let (target, done) = match self.signing {
            Some(s) => (
                s.signable_head,
                s.delivered_head.max(s.sign_from.saturating_sub(1)),
            ),
            None => (self.chain_head, self.verified_head),
        };
        let window = target.min(SCORE_WINDOW);
        if window == 0 {
            return 100;
        }
        let missed = target.saturating_sub(done).min(window);
        100 * (window - missed) / window
    }
}

fn aggregator_status(answered: bool, failing_since: u64, clock: &Clock) -> ServiceStatus {
    if failing_since != 0 && clock.stale(failing_since) {
        ServiceStatus::Down
    } else if !answered {
        ServiceStatus::Initializing
    } else {
        ServiceStatus::Up
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ServiceStatus::*;

    const START: u64 = 1_000;

    fn at(now: u64) -> Clock {
        Clock {
            now,
            started: START,
            stale_after: 15,
        }
    }

    fn following() -> RollupProbe {
        RollupProbe {
            l2_response_at: START + 10,
            chain_head: 50,
            verified_head: 50,
            verified_at: START + 10,
            ..RollupProbe::default()
        }
    }

    fn signing(probe: RollupProbe) -> RollupProbe {
        RollupProbe {
            signing: Some(SigningProbe {
                sign_from: 1,
                signable_head: 48,
                signed_head: 48,
                signed_at: START + 10,
                delivered_head: 48,
            }),
            ..probe
        }
    }

    #[test]
    fn a_rollup_is_down_when_not_followed_or_not_signed() {
        let up = following();
        assert_eq!(RollupProbe::default().status(&at(START + 5)), Initializing);
        assert_eq!(RollupProbe::default().status(&at(START + 15)), Down);
        assert_eq!(up.status(&at(START + 20)), Up);
        // The L2 stopped answering.
        assert_eq!(up.status(&at(START + 25)), Down);
        // The L2 answers, its head moves, the verified head does not.
        let stuck = RollupProbe {
            l2_response_at: START + 30,
            chain_head: 60,
            ..up
        };
        assert_eq!(stuck.status(&at(START + 24)), Up);
        assert_eq!(stuck.status(&at(START + 30)), Down);
        // Caught up with an L2 that makes no blocks: still following.
        let quiet = RollupProbe {
            l2_response_at: START + 30,
            ..up
        };
        assert_eq!(quiet.status(&at(START + 30)), Up);
        let refused = RollupProbe {
            refused_height: 51,
            ..up
        };
        assert_eq!(refused.status(&at(START + 11)), Down);

        let signed = signing(up);
        assert_eq!(signed.status(&at(START + 20)), Up);
        let mut unsigned = signing(RollupProbe {
            l2_response_at: START + 30,
            ..up
        });
        unsigned.signing.as_mut().unwrap().signable_head = 50;
        assert_eq!(unsigned.status(&at(START + 20)), Up);
        assert_eq!(unsigned.status(&at(START + 25)), Down, "49 and 50 unsigned");
        // Nothing above the certified head to sign yet.
        unsigned.signing.as_mut().unwrap().sign_from = 51;
        assert_eq!(unsigned.status(&at(START + 25)), Up);
    }

    #[test]
    fn an_aggregator_is_down_when_unreachable_for_the_window() {
        assert_eq!(aggregator_status(false, 0, &at(START + 1)), Initializing);
        assert_eq!(aggregator_status(true, 0, &at(START + 100)), Up);
        assert_eq!(aggregator_status(true, START + 90, &at(START + 100)), Up);
        assert_eq!(aggregator_status(true, START + 85, &at(START + 100)), Down);
        assert_eq!(aggregator_status(false, START + 1, &at(START + 16)), Down);
    }

    #[test]
    fn the_performance_score_is_the_delivered_share_of_recent_heights() {
        let mut probe = signing(following());
        assert_eq!(probe.score(Up), 100);
        assert_eq!(probe.score(Down), 0);
        let s = probe.signing.as_mut().unwrap();
        s.signable_head = 300;
        s.delivered_head = 290;
        assert_eq!(probe.score(Up), 90);
        probe.signing.as_mut().unwrap().delivered_head = 0;
        assert_eq!(probe.score(Up), 0);
        // Heights certified before the start are not the node's to sign.
        probe.signing.as_mut().unwrap().sign_from = 281;
        assert_eq!(probe.score(Up), 80);
        // Early in a chain's life the window is shorter.
        let young = RollupProbe {
            chain_head: 4,
            verified_head: 3,
            ..following()
        };
        assert_eq!(young.score(Up), 75);
    }
}
