//! Placeholder with the gate's interface while the gate is written on its own branch.
#![allow(missing_docs, dead_code)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use streamgate_core::Secret;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

#[derive(Debug, Clone)]
pub struct GateTarget {
    pub backend: SocketAddr,
    pub key: Secret,
}

#[derive(Debug, Default)]
pub struct GateStats {
    bytes_in: AtomicU64,
    refused_key: AtomicU64,
    refused_busy: AtomicU64,
}

impl GateStats {
    pub fn bytes_in(&self) -> u64 {
        self.bytes_in.load(Ordering::Relaxed)
    }
    pub fn refused_key(&self) -> u64 {
        self.refused_key.load(Ordering::Relaxed)
    }
    pub fn refused_busy(&self) -> u64 {
        self.refused_busy.load(Ordering::Relaxed)
    }
    pub fn publishing(&self) -> bool {
        false
    }
}

pub struct RtmpGate {
    listener: tokio::net::TcpListener,
}

impl RtmpGate {
    pub async fn bind(addr: SocketAddr) -> std::io::Result<Self> {
        Ok(Self {
            listener: tokio::net::TcpListener::bind(addr).await?,
        })
    }
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }
    pub async fn run(
        self,
        _target: watch::Receiver<GateTarget>,
        _stats: Arc<GateStats>,
        stop: CancellationToken,
    ) {
        stop.cancelled().await;
    }
}
