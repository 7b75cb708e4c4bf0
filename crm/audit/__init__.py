"""The audit trail: every sign-in, export, bulk change and erasure."""
