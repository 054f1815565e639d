"""Referral campaigns: links, codes, attribution, rewards, fraud checks: issue 6."""
