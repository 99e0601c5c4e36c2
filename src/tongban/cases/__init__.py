"""Cases (办件): applications, their handling on a working-day clock, and their results."""
