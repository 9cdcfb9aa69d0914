"""Double-entry ledger: chart of accounts, vouchers, append-only postings, balances."""
