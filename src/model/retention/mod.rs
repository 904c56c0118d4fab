//! Retention: how long subscribers stay, counted in renewals of their own billing interval.
