"""Seed selection with guarantees (IMM-class, budgeted, CELF): issue 3."""
