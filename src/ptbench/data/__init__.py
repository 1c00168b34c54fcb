"""Recorded results: loading them into one table, the catalogue, merging histories."""
