"""Filters: blocks that drop documents with a reason (to an exclusion writer) and count every drop."""
