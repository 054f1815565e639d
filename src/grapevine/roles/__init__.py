"""Influencer roles (connectors, mavens, salesmen) and learned edge probabilities: issue 5."""
