"""Batch files for the institution: layouts, sealed exports, acknowledgements."""
