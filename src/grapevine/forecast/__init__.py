"""Cascade-size and adoption forecasts (SEISMIC, Hawkes, Bass): issue 4."""
