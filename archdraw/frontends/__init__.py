"""Frontends: models built in other frameworks, read into archdraw specs (``archdraw import``)."""
