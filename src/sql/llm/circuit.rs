//! The circuit breaker around the LLM endpoint: after `threshold` failed calls in a row the
//! circuit opens and calls are refused for `cooldown`; then one trial call is let through
//! (half-open): its success closes the circuit, its failure opens it again.
//!
//! A plain `parking_lot::Mutex` guards a few fields, held for nanoseconds and never across an
//! await (mini-redis `src/db.rs` explains when a sync mutex is right).

use std::time::{Duration, Instant};

use parking_lot::Mutex;
use serde::Serialize;

/// The breaker's state as health reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CircuitState {
    /// Calls go through; the last call succeeded (or none was made).
    Closed,
    /// Calls go through, but the last ones failed (fewer than the threshold).
    Degraded,
    /// Calls are refused until the cool-down ends.
    Open,
    /// The cool-down ended: one trial call is in flight or allowed.
    HalfOpen,
}

/// What health shows of the breaker.
#[derive(Debug, Clone, Serialize)]
pub struct CircuitSnapshot {
    pub state: CircuitState,
    pub consecutive_failures: u32,
    /// The last failure's message, kept after a success so that health can show it.
    pub last_error: Option<String>,
    /// Seconds until a trial call is allowed (open circuit only).
    pub retry_in_s: Option<f64>,
    /// Calls made and failed since start.
    pub calls: u64,
    pub failures: u64,
}

#[derive(Debug)]
struct Inner {
    consecutive_failures: u32,
    open_until: Option<Instant>,
    trial_in_flight: bool,
    last_error: Option<String>,
    calls: u64,
    failures: u64,
}

/// A consecutive-failure circuit breaker (Nygard, *Release It!*, ch. 5).
#[derive(Debug)]
pub struct CircuitBreaker {
    threshold: u32,
    cooldown: Duration,
    inner: Mutex<Inner>,
}

/// Why a call was refused: the circuit is open for this long still.
#[derive(Debug, Clone, Copy)]
pub struct Refused {
    pub retry_in: Duration,
}

impl CircuitBreaker {
    /// `threshold` failures in a row open the circuit (0 is taken as 1); it stays open `cooldown`.
    pub fn new(threshold: u32, cooldown: Duration) -> Self {
        Self {
            threshold: threshold.max(1),
            cooldown,
            inner: Mutex::new(Inner {
                consecutive_failures: 0,
                open_until: None,
                trial_in_flight: false,
                last_error: None,
                calls: 0,
                failures: 0,
            }),
        }
    }

    /// Asks to make a call. Errors when the circuit is open (or half-open with its one trial
    /// call already in flight); the caller must then not call the endpoint at all.
    pub fn acquire(&self) -> Result<(), Refused> {
        let mut s = self.inner.lock();
        if let Some(until) = s.open_until {
            let now = Instant::now();
            if now < until {
                return Err(Refused {
                    retry_in: until - now,
                });
            }
            if s.trial_in_flight {
                return Err(Refused {
                    retry_in: Duration::ZERO,
                });
            }
            s.trial_in_flight = true;
        }
        s.calls += 1;
        Ok(())
    }

    /// Records a successful call: the circuit closes.
    pub fn record_success(&self) {
        let mut s = self.inner.lock();
        s.consecutive_failures = 0;
        s.open_until = None;
        s.trial_in_flight = false;
    }

    /// Records a failed call; the circuit opens at the threshold (or at once after a failed
    /// trial call).
    pub fn record_failure(&self, message: &str) {
        let mut s = self.inner.lock();
        s.failures += 1;
        s.consecutive_failures += 1;
        s.last_error = Some(message.to_string());
        let trial = s.trial_in_flight;
        s.trial_in_flight = false;
        if trial || s.consecutive_failures >= self.threshold {
            s.open_until = Some(Instant::now() + self.cooldown);
        }
    }

    /// The state now.
    pub fn snapshot(&self) -> CircuitSnapshot {
        let s = self.inner.lock();
        let now = Instant::now();
        let (state, retry_in_s) = match s.open_until {
            Some(until) if now < until => (CircuitState::Open, Some((until - now).as_secs_f64())),
            Some(_) => (CircuitState::HalfOpen, None),
            None if s.consecutive_failures > 0 => (CircuitState::Degraded, None),
            None => (CircuitState::Closed, None),
        };
        CircuitSnapshot {
            state,
            consecutive_failures: s.consecutive_failures,
            last_error: s.last_error.clone(),
            retry_in_s,
            calls: s.calls,
            failures: s.failures,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_circuit_opens_after_the_threshold_and_refuses_calls() {
        let b = CircuitBreaker::new(2, Duration::from_secs(60));
        b.acquire().unwrap();
        b.record_failure("boom");
        assert_eq!(b.snapshot().state, CircuitState::Degraded);
        b.acquire().unwrap();
        b.record_failure("boom again");
        let snap = b.snapshot();
        assert_eq!(snap.state, CircuitState::Open);
        assert_eq!(snap.last_error.as_deref(), Some("boom again"));
        assert!(b.acquire().is_err());
    }

    #[test]
    fn after_the_cool_down_one_trial_call_closes_the_circuit_on_success() {
        let b = CircuitBreaker::new(1, Duration::from_millis(20));
        b.acquire().unwrap();
        b.record_failure("down");
        assert!(b.acquire().is_err());
        std::thread::sleep(Duration::from_millis(30));
        assert_eq!(b.snapshot().state, CircuitState::HalfOpen);
        b.acquire().unwrap();
        assert!(b.acquire().is_err(), "only one trial call at a time");
        b.record_success();
        assert_eq!(b.snapshot().state, CircuitState::Closed);
        b.acquire().unwrap();
    }

    #[test]
    fn a_failed_trial_call_opens_the_circuit_again() {
        let b = CircuitBreaker::new(3, Duration::from_millis(20));
        for _ in 0..3 {
            b.acquire().unwrap();
            b.record_failure("down");
        }
        std::thread::sleep(Duration::from_millis(30));
        b.acquire().unwrap();
        b.record_failure("still down");
        assert_eq!(b.snapshot().state, CircuitState::Open);
    }
}
