"""Where processed events go: the recorder (always), console or window, analysis."""
