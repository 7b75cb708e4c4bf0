"""RQ job functions: thin, idempotent, taking ids only. Each calls a service and commits."""
