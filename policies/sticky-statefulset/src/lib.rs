//! sticky-statefulset
