"""Bulk loading of papers into the catalogue from files in known formats."""
