"""``grapevine campaign init [PATH]``: write a commented example campaign file.

The file is TOML, holds every field a campaign has with a comment saying what it does, and
``grapevine campaign create --file PATH`` accepts it as it is (a test creates a campaign
from it): the shop owner edits the names, sites and amounts and creates the campaign.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from grapevine.cli._errors import fail

__all__ = ["CAMPAIGN_TEMPLATE", "init"]

CAMPAIGN_TEMPLATE = """\
# A Grapevine referral campaign. Edit it, then create the campaign with
#
#     grapevine campaign create --file {filename}
#
# Every field is described in docs/referrals.md ("The campaign file"). Amounts are in the
# campaign's currency; times in seconds; lines starting with # are comments.

name = "Spring friends"                 # unique within your tenant; shown on the share page
goal = "New customers through the regulars who already love the shop"   # for you only
currency = "EUR"                        # ISO 4217 code of every amount below
budget = 2000                           # what the whole campaign may pay out (optional)

# Where the referral links send people. The first is the default; a link may ask for any
# page on these sites (https://go.shop.example/r/CODE?to=/sale), never anywhere else.
destinations = ["https://shop.example/", "https://shop.example/blog/"]

window_days = 30          # a purchase up to 30 days after the friend's click still counts
attribution = "last"      # "last": the friend's latest referral click gets the credit;
                          # "first": their first one

# Fraud checks (these are the defaults; delete the lines you do not change).
review_threshold = "medium"       # hold conversions at this risk or higher for review
ip_window_seconds = 86400         # two sign-ups from one network within a day look alike
velocity_limit = 10               # this many conversions of one referrer...
velocity_window_seconds = 3600    # ...within an hour is a burst

# What each side earns for a friend's qualifying purchase.
[offer]
hold_seconds = 1209600            # rewards wait 14 days (your refund window) before paying
min_order_value = 25              # smaller orders do not qualify
max_referrals_per_referrer = 20   # rewarded friends per referrer (optional)

[offer.referrer]                  # the customer who shared the link
kind = "fixed"                    # "fixed": an amount; "percent": of the friend's order
amount = 10                       # 10.00 EUR for each friend who buys

[offer.friend]                    # the friend who bought through it
kind = "percent"                  # a discount on their order...
amount = 20                       # ...of 20%
max_amount = 15                   # at most 15.00 EUR (a percentage can be capped)

[[offer.tiers]]                   # a bonus when a referrer reaches 5 rewarded friends
referrals = 5                     # rewarded friends
bonus = 25                        # paid once, on top

# The share page (/p/...) and the links. Every field is optional.
[page]
language = "en"                   # en, nl, de or sv: used when neither the participant's
                                  # language nor their browser's is one of them
display_name = "The Shop"         # shown instead of the campaign's name
color = "#2e7d32"                 # brand colour (#rgb or #rrggbb)
logo_url = "https://shop.example/logo.png"   # must be on a destination's site (or list
# logo_allowlist = ["https://cdn.shop.example"]  # the sites it may come from here)
landing_url = "https://shop.example/"   # where links go once the campaign has ended
                                        # (the first destination when left out)

[page.utm]                        # UTM tags on the destinations (leave out: no tags)
source = "grapevine"              # utm_source
medium = "referral"               # utm_medium
campaign = "spring-friends"       # utm_campaign (left out: the campaign's name)
                                  # utm_content is the channel a link was shared on;
                                  # tags already in a destination are never replaced

[page.preview]                    # what WhatsApp, Facebook, X... show for a shared link
title = "20% off at The Shop"                                  # the card's title
description = "A friend sent you a discount for your first order."  # its text
image = "https://shop.example/share-card.png"   # 1200x630 pixels works everywhere
"""


def init(
    path: Annotated[
        Path,
        typer.Argument(help="Where to write the campaign file (TOML).", show_default=True),
    ] = Path("campaign.toml"),
    force: Annotated[bool, typer.Option("--force", help="Replace the file if it exists.")] = False,
) -> None:
    """Write a commented example campaign file that `grapevine campaign create --file`
    accepts as it is: edit it, then create the campaign."""
    if path.suffix.lower() != ".toml":
        fail(f"{path}: the campaign file is TOML; give it a .toml name")
    if path.exists() and not force:
        fail(f"{path} exists; give another path or --force to replace it")
    try:
        path.write_text(CAMPAIGN_TEMPLATE.format(filename=path.name), encoding="utf-8")
    except OSError as exc:
        fail(f"{path}: cannot write: {exc.strerror}")
    typer.echo(f"wrote {path}; edit it, then: grapevine campaign create --file {path}")
