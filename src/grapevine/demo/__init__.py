"""The demo store: every capability of Grapevine on real data, built in one call.

:func:`build_demo` fills an empty store with the Higgs boson rumour on Twitter, Sina Weibo
cascades with their true reshare trees, the Ciao trust network with its influencer roles,
listened posts in four languages (real texts; simulated authors and times), a referral
campaign simulated on the Ciao network with the library's own diffusion model and run
through the real referral workflows, and the seed plan it started from. ``grapevine demo``
builds it and serves the dashboard on it; the tests build the same store.
"""

from grapevine.demo._build import DEMO_TENANT, DemoStep, DemoStore, build_demo

__all__ = ["DEMO_TENANT", "DemoStep", "DemoStore", "build_demo"]
