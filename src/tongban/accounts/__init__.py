"""Accounts: one identity for persons, companies and staff (seed 000 第九条, seed 002 第十八条)."""
