//! Loopback ports for children that must be told their address before they start (operators'
//! HTTP endpoints, aggregators that operators are configured to reach, chromedriver).
//!
//! Binding port 0 and releasing it hands out a port from the kernel's ephemeral range, the same
//! range every outgoing connection's local port comes from; on a busy devnet one of those
//! connections can take the port before the child binds it. These ports come from below that
//! range, where neither `bind(0)` nor `connect` ever lands, and a process never hands out one
//! port twice, so parallel devnets in one test binary cannot collide either.

use std::{
    collections::HashSet,
    io,
    net::{Ipv4Addr, SocketAddr, TcpListener},
    sync::{Mutex, OnceLock},
};

use rand::Rng;

/// The lowest port handed out; below are the registered services people run locally.
const FLOOR: u16 = 20_000;

/// A loopback address whose port is free now, lies outside the ephemeral range, and has not been
/// returned before by this process.
pub fn reserve() -> io::Result<SocketAddr> {
    static GIVEN: OnceLock<Mutex<HashSet<u16>>> = OnceLock::new();
    let ceiling = ephemeral_floor().max(FLOOR + 1_000);
    let mut given = GIVEN
        .get_or_init(Mutex::default)
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let span = ceiling - FLOOR;
    let start = rand::thread_rng().gen_range(0..span);
    for step in 0..span {
        let port = FLOOR + (start + step) % span;
        if given.contains(&port) {
            continue;
        }
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
        if TcpListener::bind(addr).is_ok() {
            given.insert(port);
            return Ok(addr);
        }
    }
    Err(io::Error::new(
        io::ErrorKind::AddrNotAvailable,
        format!("no free loopback port in {FLOOR}..{ceiling}"),
    ))
}

/// The first port of the kernel's ephemeral range (Linux's default when it cannot be read).
fn ephemeral_floor() -> u16 {
    std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|range| range.split_whitespace().next()?.parse().ok())
        .unwrap_or(32_768)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_are_distinct_bindable_and_below_the_ephemeral_range() {
        let floor = ephemeral_floor();
        let ports: Vec<_> = (0..64).map(|_| reserve().unwrap()).collect();
        let distinct: HashSet<_> = ports.iter().map(SocketAddr::port).collect();
        assert_eq!(distinct.len(), ports.len());
        for addr in &ports {
            assert!((FLOOR..floor.max(FLOOR + 1_000)).contains(&addr.port()));
            TcpListener::bind(addr).expect("a reserved port is free");
        }
    }
}
