//! Certificate rotation (docs/rotation.md): plan from the last poll and the certificate store,
//! then — dry run unless told to apply — carry each due step out against Auth0, verify it,
//! audit it.
//!
//! # Layout
//! - [`context`]: [`Context`], everything rotation uses (built by its caller; never the app).
//! - [`store`]: `CertStore` + `FsStore`, the replacement certificates (I/O; keys never logged).
//! - [`plan`]: pure `plan()` → `Step`s, each due / not due / blocked with a reason.
//! - [`flow`]: pure request bodies and response checks (SAML options, credential references).
//! - [`audit`]: JSON-lines audit log; intent fsynced before every change, result after.
//! - [`lock`]: one rotator per tenant across processes.
//! - [`window`]: pure `[rotation] windows` arithmetic (open now? next opening?).
//! - `rotator`: [`Rotator`], which executes the steps of one tenant; one file per flow it
//!   carries out (`connection`, `metadata`, `credential`, `signing_key`) and `recover`
//!   (interrupted runs).
//! - `pass`: [`pass()`], one pass over every tenant (the daemon's and `certwatch rotate`'s).
//! - `outcome`: [`PassReport`] and what it holds; `table`: the report as a terminal table.
//! - `alert_event`: a step that alerts, as the alert engine's own `RotationEvent`.
//!
//! Rules this module keeps: nothing is written to Auth0 in a dry run (reads only, and the exact
//! bodies that would be sent are logged with secrets masked); every write is preceded by an
//! fsynced `intent` audit record; an apply outside every rotation window writes nothing and is
//! reported `deferred`; Auth0 writes are never retried blindly — after a 5xx or a
//! timeout the object is re-read to learn what happened; a change that does not verify is undone.
//! Steps of one tenant run one at a time, under that tenant's lock.

pub mod audit;
pub mod context;
pub mod flow;
pub mod lock;
pub mod plan;
pub mod store;
pub mod window;

mod alert_event;
mod connection;
mod credential;
mod metadata;
mod outcome;
mod pass;
mod recover;
mod rotator;
mod signing_key;
mod table;

pub use context::Context;
pub use outcome::{Issue, IssueKind, NewCert, Outcome, PassReport, Request, StepOutcome};
pub use pass::pass;
pub use plan::{Action, Blocker, CertView, Decision, Step, TrustChange};
pub use rotator::Rotator;

#[cfg(test)]
mod tests;
