"""SLA bookkeeping on incidents: facts from the timeline, clocks, next check."""
