//! plotcast server library.
