"""The durable SQL store: the paper catalogue (and, later, users and reading lists)."""
