//! Scale-out on NATS (`--nats`, `--role origin|edge`): origins render each watched
//! chart once and publish its frames; edges serve viewers from them. See
//! docs/SCALE-OUT.md for the picture, [`protocol`] for what goes over NATS, [`origin`]
//! and [`lease`] for the origin's side, [`edge`] and [`relay`] for the edge's.

pub mod connect;
pub mod edge;
pub mod lease;
pub mod origin;
pub mod protocol;
pub mod relay;

/// A name for this process on NATS: its role, its listening address and a random
/// part (two processes never share one, even on one address after a restart).
pub fn node_name(role: &str, addr: std::net::SocketAddr) -> String {
    let random: u64 = rand_part();
    format!("plotcast-{role}-{addr}-{random:016x}")
}

/// 64 random bits from the standard library's randomly seeded hasher.
fn rand_part() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    hasher.finish()
}
