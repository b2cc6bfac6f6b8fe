"""Where raw notifications come from: a strap (bleak), the simulator or a recording."""
