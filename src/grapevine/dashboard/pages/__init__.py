"""The dashboard's pages: one module (with a ``router``) and one template each."""
