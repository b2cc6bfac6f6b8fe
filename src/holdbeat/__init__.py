"""holdbeat: hold a chosen belief and watch physiology catch up."""

__version__ = "0.1.0"
FORMAT = "holdbeat/1"
