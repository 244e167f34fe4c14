"""archdraw tests."""
