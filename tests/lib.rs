//! Shared helpers of plotcast's end-to-end tests (the tests live in `tests/tests/`).
