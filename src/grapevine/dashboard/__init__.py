"""The dashboard: server-rendered pages for the people who run word-of-mouth marketing.

Overview, Listening, Inbox, Spread, People, Campaigns and Planner pages, with a login
(users with a role per tenant), a period and a tenant picker, charts (the vendored Apache
ECharts) and every table downloadable as CSV. The pages call the library and the
application workflows (``grapevine.listening``, ``grapevine.referrals``, the store's
repositories) and render; the app factory mounts them with :func:`install_dashboard`
(docs/dashboard.md).
"""

from grapevine.dashboard._access import DbSession, Editor, LoginRequired, Viewer, ViewerDep
from grapevine.dashboard._app import PAGE_MODULES, install_dashboard
from grapevine.dashboard._charts import Chart, bar_chart, line_chart, pie_chart
from grapevine.dashboard._period import PRESETS, Period, period_of
from grapevine.dashboard._render import NAV, NavItem, render
from grapevine.dashboard._tables import Table, csv_text

__all__ = [
    "NAV",
    "PAGE_MODULES",
    "PRESETS",
    "Chart",
    "DbSession",
    "Editor",
    "LoginRequired",
    "NavItem",
    "Period",
    "Table",
    "Viewer",
    "ViewerDep",
    "bar_chart",
    "csv_text",
    "install_dashboard",
    "line_chart",
    "period_of",
    "pie_chart",
    "render",
]
