"""Language detection and multilingual sentiment: issue 7."""
