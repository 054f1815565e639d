"""Diffusion models and simulation (Independent Cascade, Linear Threshold, SIR): issue 3."""
