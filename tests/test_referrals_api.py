"""The public surface of grapevine.referrals: exactly __all__, no server or database."""

from __future__ import annotations

import subprocess
import sys
import types

import grapevine.referrals as referrals


def test_public_namespace_is_exactly_all() -> None:
    for name in referrals.__all__:  # the workflows load on first use
        getattr(referrals, name)
    public = {
        name
        for name, value in vars(referrals).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType)
    }
    assert public == set(referrals.__all__)
    assert len(referrals.__all__) == len(set(referrals.__all__))


def test_growth_functions_are_the_cascades_ones() -> None:
    from grapevine import cascades

    assert referrals.k_factor is cascades.k_factor
    assert referrals.viral_cycle_time is cascades.viral_cycle_time
    assert referrals.projected_growth is cascades.projected_growth


def test_import_loads_no_server_or_database() -> None:
    code = (
        "import sys, grapevine.referrals\n"
        "print(','.join(m for m in ('fastapi', 'sqlalchemy', 'starlette', 'numba', 'httpx')"
        " if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
