//! The ingest of every event that declares one, following the running configuration:
//! a hot reload starts the ingest of a new event, restarts one whose settings changed
//! and stops one that lost its `[events.ingest]` (its files stay: they may be the
//! recording viewers paid for).

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use streamgate_core::config::{EventConfig, IngestProtocol};
use streamgate_core::ingest::{IngestHealth, IngestState, publish_key};
use streamgate_core::{Config, Secret};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::command::Plan;
use crate::rtmp_gate::{GateStats, GateTarget, RtmpGate};
use crate::supervisor::{EventSpec, EventStatus, supervise};

/// How often the health snapshot that `/health` and `/metrics` read is refreshed.
const HEALTH_EVERY: Duration = Duration::from_secs(1);

/// How long a port that cannot be bound waits before the next try.
const BIND_RETRY: Duration = Duration::from_secs(5);

/// Every event's ingest, one handle for the process that runs them.
#[derive(Clone)]
pub struct Ingest {
    inner: Arc<Inner>,
}

struct Inner {
    stream_root: PathBuf,
    secret: Secret,
    stop: CancellationToken,
    tracker: TaskTracker,
    running: Mutex<BTreeMap<String, Running>>,
    health: watch::Sender<Arc<Vec<IngestHealth>>>,
}

/// One event's running ingest.
struct Running {
    spec: watch::Sender<EventSpec>,
    status: Arc<EventStatus>,
    cancel: CancellationToken,
    gate: Option<watch::Sender<GateTarget>>,
}

impl Running {
    /// The protocol and port it listens on: a change of either needs a new listener.
    fn listener(&self) -> (IngestProtocol, u16) {
        let spec = self.spec.borrow();
        (spec.plan.ingest.protocol, spec.plan.ingest.port)
    }
}

impl Ingest {
    /// Starts the ingest of every event in `configs`' current configuration and follows
    /// it until `stop`. Files go to `<stream_root>/<event>/`.
    pub fn start(
        stream_root: PathBuf,
        secret: Secret,
        mut configs: watch::Receiver<Arc<Config>>,
        stop: CancellationToken,
    ) -> Self {
        let (health, _) = watch::channel(Arc::new(Vec::new()));
        let ingest = Self {
            inner: Arc::new(Inner {
                stream_root,
                secret,
                stop: stop.clone(),
                tracker: TaskTracker::new(),
                running: Mutex::new(BTreeMap::new()),
                health,
            }),
        };
        let first = configs.borrow_and_update().clone();
        ingest.apply(&first);
        let follower = ingest.clone();
        ingest.inner.tracker.spawn(async move {
            let mut tick = tokio::time::interval(HEALTH_EVERY);
            loop {
                tokio::select! {
                    () = follower.inner.stop.cancelled() => break,
                    changed = configs.changed() => {
                        if changed.is_err() {
                            break;
                        }
                        let config = configs.borrow_and_update().clone();
                        follower.apply(&config);
                    }
                    _ = tick.tick() => follower.publish_health(),
                }
            }
            follower.stop_all();
        });
        ingest
    }

    /// Every event's ingest health, by event id.
    pub fn health(&self) -> Vec<IngestHealth> {
        self.running()
            .values()
            .map(|r| r.status.snapshot())
            .collect()
    }

    /// The health, refreshed every second, for servers that report it.
    pub fn subscribe(&self) -> watch::Receiver<Arc<Vec<IngestHealth>>> {
        self.inner.health.subscribe()
    }

    /// Waits until every ffmpeg has stopped (after `stop` was cancelled).
    pub async fn stopped(&self) {
        self.inner.tracker.close();
        self.inner.tracker.wait().await;
    }

    fn running(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, Running>> {
        self.inner.running.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn publish_health(&self) {
        let health = self.health();
        self.inner.health.send_if_modified(|current| {
            if **current == health {
                return false;
            }
            *current = Arc::new(health);
            true
        });
    }

    /// Makes the running ingests match `config`.
    pub fn apply(&self, config: &Config) {
        let mut running = self.running();
        let wanted: BTreeMap<&str, &EventConfig> = config
            .events
            .iter()
            .filter(|e| e.ingest.is_some())
            .map(|e| (e.id.as_str(), e))
            .collect();
        running.retain(|id, run| {
            let keep = wanted.get(id.as_str()).is_some_and(|e| {
                e.ingest
                    .as_ref()
                    .is_some_and(|i| (i.protocol, i.port) == run.listener())
            });
            if !keep {
                tracing::info!(event = %id, "stopping the event's ingest");
                run.cancel.cancel();
            }
            keep
        });
        for (id, event) in wanted {
            let Some(spec) = self.spec(config, event, running.get(id)) else {
                continue;
            };
            match running.get(id) {
                Some(run) => {
                    if let Some(gate) = &run.gate {
                        gate.send_if_modified(|target| {
                            let changed = target.key != spec.plan.key;
                            target.key = spec.plan.key.clone();
                            changed
                        });
                    }
                    run.spec.send_if_modified(|current| {
                        let changed = *current != spec;
                        *current = spec;
                        changed
                    });
                }
                None => {
                    let run = self.launch(spec);
                    running.insert(id.to_owned(), run);
                }
            }
        }
        drop(running);
        self.publish_health();
    }

    fn spec(
        &self,
        config: &Config,
        event: &EventConfig,
        run: Option<&Running>,
    ) -> Option<EventSpec> {
        let ingest = event.ingest.clone()?;
        let rtmp_backend = match ingest.protocol {
            IngestProtocol::Srt => None,
            IngestProtocol::Rtmp => run
                .and_then(|r| r.spec.borrow().plan.rtmp_backend)
                .or_else(free_loopback_port),
        };
        let key = publish_key(&self.inner.secret, event.id.as_str(), ingest.key_version);
        Some(EventSpec {
            event: event.id.as_str().to_owned(),
            finish_after: Duration::from_secs(u64::from(ingest.finish_after_seconds)),
            ends_at: event.ends_at.get(),
            plan: Plan {
                out_dir: self.inner.stream_root.join(event.id.as_str()),
                ingest,
                settings: config.ingest.clone(),
                key,
                rtmp_backend,
            },
        })
    }

    fn launch(&self, spec: EventSpec) -> Running {
        tracing::info!(
            event = %spec.event,
            protocol = %spec.plan.ingest.protocol,
            port = spec.plan.ingest.port,
            "starting the event's ingest"
        );
        let cancel = self.inner.stop.child_token();
        let gate_stats = matches!(spec.plan.ingest.protocol, IngestProtocol::Rtmp)
            .then(|| Arc::new(GateStats::default()));
        let status = Arc::new(EventStatus::new(&spec, gate_stats.clone()));
        let bind = SocketAddr::new(spec.plan.settings.bind, spec.plan.ingest.port);
        let gate = match (gate_stats, spec.plan.rtmp_backend) {
            (Some(stats), Some(backend)) => {
                let (tx, rx) = watch::channel(GateTarget {
                    backend,
                    key: spec.plan.key.clone(),
                });
                Some((tx, rx, stats))
            }
            _ => None,
        };
        let (spec_tx, spec_rx) = watch::channel(spec);
        let gate_tx = gate.as_ref().map(|(tx, _, _)| tx.clone());
        let task_status = status.clone();
        let task_cancel = cancel.clone();
        self.inner.tracker.spawn(async move {
            if let Some((_, rx, stats)) = gate {
                let Some(gate) = bind_gate(bind, &task_status, &task_cancel).await else {
                    return;
                };
                let gate_cancel = task_cancel.clone();
                tokio::join!(
                    gate.run(rx, stats, gate_cancel),
                    supervise(spec_rx, task_status, task_cancel.clone())
                );
            } else {
                supervise(spec_rx, task_status, task_cancel).await;
            }
        });
        Running {
            spec: spec_tx,
            status,
            cancel,
            gate: gate_tx,
        }
    }

    fn stop_all(&self) {
        for run in self.running().values() {
            run.cancel.cancel();
        }
    }
}

/// Binds the RTMP gate, retrying while the port is taken (reported as failed).
async fn bind_gate(
    addr: SocketAddr,
    status: &EventStatus,
    stop: &CancellationToken,
) -> Option<RtmpGate> {
    loop {
        match RtmpGate::bind(addr).await {
            Ok(gate) => return Some(gate),
            Err(e) => {
                let why = format!("cannot listen on TCP {addr}: {e}");
                tracing::error!("ingest: {why}");
                status.fail(why);
            }
        }
        tokio::select! {
            () = stop.cancelled() => return None,
            () = tokio::time::sleep(BIND_RETRY) => {}
        }
    }
}

/// A loopback port nobody listens on now, for ffmpeg's RTMP listener behind the gate.
fn free_loopback_port() -> Option<SocketAddr> {
    std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|l| l.local_addr())
        .ok()
}

impl EventStatus {
    /// Reports the ingest failed with `why`.
    pub(crate) fn fail(&self, why: String) {
        self.set_state(IngestState::Failed, Some(why));
    }
}
