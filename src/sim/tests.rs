//! HTTP tests (placeholder).
