"""Filters: blocks that drop documents with a reason (to an exclusion writer) and count every drop."""

from trove_blocks.filters.sql_execution import SqlExecutionFilter
from trove_blocks.filters.synsql_validation import SynsqlRecordFilter
from trove_blocks.filters.token_length import TokenLengthFilter

__all__ = ["SqlExecutionFilter", "SynsqlRecordFilter", "TokenLengthFilter"]
