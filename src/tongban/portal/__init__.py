"""Portal channel: what citizens and companies see (mobile-first, also on a PC)."""
