"""Adapters for the external sources a deployment with internet access uses, one module each.

Every adapter reaches its source through ``worker.sources.http.SourceSession``, which
holds the behaviour they share (fixed hosts, timeouts, retries, rate limits, cache).
"""
