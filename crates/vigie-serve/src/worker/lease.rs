//! Leases in a JetStream key-value bucket: who owns a correlation partition, who runs
//! incident grouping.
//!
//! The bucket keeps one revision per key and expires a key `ttl` after its last write
//! (the bucket's `max_age`). Taking a lease is `create` (fails while the key exists);
//! keeping it is `update` at the revision we last wrote (fails once someone else took
//! it); a worker that dies stops renewing and the key expires, so another worker's next
//! `create` succeeds within `ttl` plus one poll. A lease only decides who does the
//! work: correctness never rests on two workers not overlapping for a moment, because
//! everything a lease holder writes is keyed and idempotent (see the module docs of
//! [`crate::worker`]).

use std::time::{Duration, Instant};

use async_nats::jetstream::{self, kv};

use crate::ServeError;

/// The lease bucket (created when missing), whose keys expire `ttl` after their last
/// write.
pub async fn bucket(
    js: &jetstream::Context,
    name: &str,
    ttl: Duration,
) -> Result<kv::Store, ServeError> {
    kv_bucket(js, name, ttl).await
}

/// A key-value bucket, created when missing. The stream is made here with the bucket
/// conventions (`KV_<name>` over `$KV.<name>.>`, one value per key, rollups, direct
/// get) rather than by `create_key_value`, which first asks for the account's limits
/// in a form nats-server 2.9 does not answer.
pub async fn kv_bucket(
    js: &jetstream::Context,
    name: &str,
    max_age: Duration,
) -> Result<kv::Store, ServeError> {
    if let Ok(b) = js.get_key_value(name).await {
        return Ok(b);
    }
    js.get_or_create_stream(jetstream::stream::Config {
        name: format!("KV_{name}"),
        subjects: vec![format!("$KV.{name}.>")],
        max_messages_per_subject: 1,
        max_age,
        storage: jetstream::stream::StorageType::File,
        allow_rollup: true,
        deny_delete: true,
        allow_direct: true,
        discard: jetstream::stream::DiscardPolicy::New,
        num_replicas: 1,
        ..Default::default()
    })
    .await
    .map_err(|e| ServeError::Nats(format!("bucket {name}: {e}")))?;
    js.get_key_value(name)
        .await
        .map_err(|e| ServeError::Nats(format!("bucket {name}: {e}")))
}

/// One lease this worker holds.
#[derive(Debug)]
pub struct Lease {
    key: String,
    owner: String,
    revision: u64,
    renewed: Instant,
    ttl: Duration,
}

impl Lease {
    /// Takes `key` for `owner` if nobody holds it.
    pub async fn try_take(
        kv: &kv::Store,
        key: &str,
        owner: &str,
        ttl: Duration,
    ) -> Result<Option<Lease>, ServeError> {
        let now = Instant::now();
        match kv.create(key, owner.as_bytes().to_vec().into()).await {
            Ok(revision) => Ok(Some(Lease {
                key: key.to_string(),
                owner: owner.to_string(),
                revision,
                renewed: now,
                ttl,
            })),
            Err(e) if e.kind() == kv::CreateErrorKind::AlreadyExists => Ok(None),
            Err(e) => Err(ServeError::Nats(format!("lease {key}: {e}"))),
        }
    }

    /// Renews; false when the lease was lost (expired and taken, or the bucket is
    /// unreachable for longer than it lasts).
    pub async fn renew(&mut self, kv: &kv::Store) -> bool {
        let now = Instant::now();
        match kv
            .update(
                &self.key,
                self.owner.as_bytes().to_vec().into(),
                self.revision,
            )
            .await
        {
            Ok(rev) => {
                self.revision = rev;
                self.renewed = now;
                true
            }
            Err(e) => {
                tracing::warn!(key = %self.key, error = %e, "lease renewal failed");
                self.valid()
            }
        }
    }

    /// Whether the lease is surely still ours: renewed less than two thirds of its TTL
    /// ago (the margin covers clock rate differences and the renewal's own latency).
    pub fn valid(&self) -> bool {
        self.renewed.elapsed() < self.ttl * 2 / 3
    }

    /// Gives the lease up (clean shutdown: the next owner need not wait for the TTL).
    pub async fn release(self, kv: &kv::Store) {
        // Only if it is still ours: a delete at our revision fails otherwise.
        if let Err(e) = kv
            .delete_expect_revision(&self.key, Some(self.revision))
            .await
        {
            tracing::debug!(key = %self.key, error = %e, "lease release");
        }
    }

    pub fn key(&self) -> &str {
        &self.key
    }
}
