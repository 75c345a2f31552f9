//! Outgoing webhooks (for SOAR): on each live change of kind `incident.opened` or
//! `incident.changed`, `POST` JSON `{"event", "incident"}` ([`WebhookPayload`]) to each
//! configured URL whose `events` list it (empty: both). `incident` is the incident as
//! `GET /api/v1/incidents` lists it, read from the store when the delivery is made (so
//! every change source, processor, decider or API, gives receivers the same shape).
//!
//! Never in the way of ingest: the changes arrive on the broadcast channel, each URL has
//! its own bounded queue and task, and a full queue drops the delivery (counted in
//! `vigie_webhook_failures_total`, logged). Deliveries to one URL keep their order; each
//! is tried [`RetryPolicy::attempts`] times with doubling backoff, a non-2xx answer or a
//! network error counting as a failed attempt; one that fails every attempt is counted
//! and logged.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{broadcast, mpsc};
use tokio::task::JoinHandle;
use vigie_store::Store;
use vigie_wire::v1::serve::WebhookPayload;

use crate::config::WebhookConfig;
use crate::metrics::Metrics;
use crate::state::{AppState, LiveChange};

/// The kinds of change webhooks get.
pub const EVENTS: [&str; 2] = ["incident.opened", "incident.changed"];

/// How deliveries are retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Tries per delivery (at least 1).
    pub attempts: u32,
    /// Wait before the second try; doubled before each next one.
    pub backoff: Duration,
    /// Per request.
    pub timeout: Duration,
    /// Deliveries waiting per URL before new ones are dropped (counted).
    pub queue: usize,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            attempts: 4,
            backoff: Duration::from_millis(500),
            timeout: Duration::from_secs(5),
            queue: 1024,
        }
    }
}

/// Starts the webhook tasks for `state.config.webhooks` (None when there are none).
pub fn spawn(state: &AppState) -> Option<JoinHandle<()>> {
    spawn_with(
        state.changes.subscribe(),
        state.config.webhooks.clone(),
        state.metrics.clone(),
        Some(state.store.clone()),
        RetryPolicy::default(),
    )
}

/// [`spawn`] with explicit parts (tests use a short backoff). Without a store the
/// change's own `detail` is sent as the incident.
pub fn spawn_with(
    mut changes: broadcast::Receiver<LiveChange>,
    hooks: Vec<WebhookConfig>,
    metrics: Arc<Metrics>,
    store: Option<Store>,
    policy: RetryPolicy,
) -> Option<JoinHandle<()>> {
    if hooks.is_empty() {
        return None;
    }
    super::tls::install_crypto_provider();
    let client = match reqwest::Client::builder().timeout(policy.timeout).build() {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "webhooks disabled: HTTP client");
            return None;
        }
    };
    let mut senders = Vec::with_capacity(hooks.len());
    for hook in hooks {
        let (tx, rx) = mpsc::channel::<(String, LiveChange)>(policy.queue.max(1));
        tokio::spawn(deliver_all(
            client.clone(),
            hook.url.clone(),
            rx,
            metrics.clone(),
            store.clone(),
            policy,
        ));
        senders.push((hook, tx));
    }
    Some(tokio::spawn(async move {
        loop {
            let change = match changes.recv().await {
                Ok(c) => c,
                Err(broadcast::error::RecvError::Lagged(n)) => {
                    tracing::warn!(missed = n, "webhooks fell behind the live changes");
                    metrics.webhook_failures.inc_by(n);
                    continue;
                }
                Err(broadcast::error::RecvError::Closed) => return,
            };
            if !EVENTS.contains(&change.kind.as_str()) {
                continue;
            }
            for (hook, tx) in &senders {
                if !hook.events.is_empty() && !hook.events.contains(&change.kind) {
                    continue;
                }
                if tx.try_send((change.kind.clone(), change.clone())).is_err() {
                    metrics.webhook_failures.inc();
                    tracing::warn!(url = %hook.url, incident = %change.id, "webhook queue full: delivery dropped");
                }
            }
        }
    }))
}

/// The incident as the API lists it, read now; the change's detail when there is no
/// store or the incident is gone.
async fn incident(store: &Option<Store>, c: LiveChange) -> serde_json::Value {
    let Some(store) = store.clone() else {
        return c.detail;
    };
    let id = c.id.clone();
    match tokio::task::spawn_blocking(move || store.incident(&id)).await {
        Ok(Ok(Some(row))) => {
            serde_json::to_value(super::incidents::summary(&row)).unwrap_or(c.detail)
        }
        Ok(Ok(None)) => c.detail,
        Ok(Err(e)) => {
            tracing::warn!(incident = %c.id, error = %e, "webhook: incident not read; sending the change as is");
            c.detail
        }
        Err(_) => c.detail,
    }
}

async fn deliver_all(
    client: reqwest::Client,
    url: String,
    mut rx: mpsc::Receiver<(String, LiveChange)>,
    metrics: Arc<Metrics>,
    store: Option<Store>,
    policy: RetryPolicy,
) {
    while let Some((event, change)) = rx.recv().await {
        let p = WebhookPayload {
            event,
            incident: incident(&store, change).await,
        };
        if let Err(why) = deliver(&client, &url, &p, policy).await {
            metrics.webhook_failures.inc();
            tracing::warn!(url = %url, event = %p.event, attempts = policy.attempts, error = %why, "webhook delivery failed");
        }
    }
}

/// One delivery with its retries; the last error when every try failed.
async fn deliver(
    client: &reqwest::Client,
    url: &str,
    p: &WebhookPayload,
    policy: RetryPolicy,
) -> Result<(), String> {
    let mut wait = policy.backoff;
    let mut last = String::new();
    for attempt in 1..=policy.attempts.max(1) {
        if attempt > 1 {
            tokio::time::sleep(wait).await;
            wait = wait.saturating_mul(2);
        }
        match client.post(url).json(p).send().await {
            Ok(r) if r.status().is_success() => return Ok(()),
            Ok(r) => last = format!("HTTP {}", r.status()),
            Err(e) => last = e.to_string(),
        }
        tracing::debug!(url, attempt, error = %last, "webhook attempt failed");
    }
    Err(last)
}
