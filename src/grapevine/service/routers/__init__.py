"""One router per resource of the referral API."""
