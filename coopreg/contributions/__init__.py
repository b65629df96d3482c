"""Dues, receipts, allocations, remittances and the treasurer's reconciliation."""
