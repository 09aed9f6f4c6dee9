"""Results leaving a machine: validate, merge shards, submit, scale a sweep out."""
