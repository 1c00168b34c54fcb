"""Showing it to people: tables, figures, the report and the offline site."""
