//! Prometheus metrics: request counts and latency histograms by method, route pattern and status.
//! Every label comes from a small fixed set, so no client can grow the number of series: the
//! route is the matched pattern (`/v1/members/{id}`), never the raw path, and a method outside
//! the standard ones is `OTHER`.

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::middleware::Next;
use actix_web::web;
use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, Opts, Registry, TextEncoder,
};

use crate::state::AppState;

/// The server's metrics, in a registry of its own (several servers may share a process in tests).
#[derive(Clone)]
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
}

const LABELS: &[&str] = &["method", "route", "status"];

impl Metrics {
    /// Registers the metrics.
    pub fn new() -> Result<Self, prometheus::Error> {
        let registry = Registry::new();
        let requests = IntCounterVec::new(
            Opts::new("http_requests_total", "HTTP requests answered"),
            LABELS,
        )?;
        let latency = HistogramVec::new(
            HistogramOpts::new(
                "http_request_duration_seconds",
                "Time to answer HTTP requests",
            )
            .buckets(vec![
                0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
            ]),
            LABELS,
        )?;
        registry.register(Box::new(requests.clone()))?;
        registry.register(Box::new(latency.clone()))?;
        Ok(Self {
            registry,
            requests,
            latency,
        })
    }

    /// The Prometheus text exposition of every metric.
    pub fn render(&self) -> String {
        let mut out = Vec::new();
        if let Err(e) = TextEncoder::new().encode(&self.registry.gather(), &mut out) {
            log::error!("cannot encode metrics: {e}");
        }
        String::from_utf8(out).unwrap_or_default()
    }

    fn observe(&self, method: &str, route: &str, status: &str, seconds: f64) {
        let labels = [method, route, status];
        self.requests.with_label_values(&labels).inc();
        self.latency.with_label_values(&labels).observe(seconds);
    }
}

/// The middleware function (`middleware::from_fn(record_metrics)`).
pub async fn record_metrics(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let method = method_label(req.method());
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let response = next.call(req).await?;
    // Counting a request that leaves no trace would date it to the scrape interval.
    if crate::http::trace::leaves_no_trace(response.request()) {
        return Ok(response);
    }
    if let Some(state) = state {
        let route = response
            .request()
            .match_pattern()
            .unwrap_or_else(|| "unmatched".to_owned());
        state.metrics.observe(
            method,
            &route,
            response.status().as_str(),
            started.elapsed().as_secs_f64(),
        );
    }
    Ok(response)
}

/// The method as a label: one of the methods HTTP defines, or `OTHER`.
fn method_label(method: &Method) -> &'static str {
    const STANDARD: [Method; 9] = [
        Method::GET,
        Method::HEAD,
        Method::POST,
        Method::PUT,
        Method::PATCH,
        Method::DELETE,
        Method::OPTIONS,
        Method::CONNECT,
        Method::TRACE,
    ];
    STANDARD
        .iter()
        .find(|m| *m == method)
        .map_or("OTHER", |m| m.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_methods_share_one_label() {
        assert_eq!(method_label(&Method::PATCH), "PATCH");
        let invented = Method::from_bytes(b"XYZZY").unwrap();
        assert_eq!(method_label(&invented), "OTHER");
    }
}
