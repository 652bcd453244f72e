"""Test infrastructure shared by several test folders (real servers started for the tests)."""
