"""Spreadsheet import of members: mapping, preview, all-or-nothing commit; and export."""
