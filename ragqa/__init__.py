"""The ragqa command line (see ragqa.cli)."""
